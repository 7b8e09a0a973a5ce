//! The synthetic tiny models load and serve in the real llama-server.

mod support;

use serde_json::json;
use support::llama_bin::Server;

#[test]
fn tiny_models_load_and_serve_in_llama_server() {
    let dir = tempfile::tempdir().unwrap();
    let models = halo_top::synth::tiny::write(dir.path()).unwrap();
    for model in [
        &models.target_f16,
        &models.target_q8_0,
        &models.target_q4_0,
        &models.draft_f16,
        &models.moe_f16,
    ] {
        let server = Server::start(model, &[]);
        let reply = server.post(
            "/completion",
            &json!({"prompt": "hello world\n", "n_predict": 8, "temperature": 0, "ignore_eos": true}),
        );
        assert_eq!(reply["tokens_predicted"], 8, "{}: {reply}", model.display());
        let log = server.log();
        for bad in ["wrong type", "newline token not found", "failed"] {
            assert!(!log.contains(bad), "{}: llama-server logged {bad:?}:\n{log}", model.display());
        }
    }
    // llama.cpp refuses files with unused tensors, so serving the MoE file means the expert
    // tensors and `llama.expert_count` were taken; its size says they were all loaded.
    let server = Server::start(&models.moe_f16, &[]);
    let reply = server.get("/v1/models");
    let n_params = reply["data"][0]["meta"]["n_params"].as_u64();
    assert_eq!(n_params, Some(moe_params()), "{reply}");
}

#[test]
fn chat_template_works_and_draft_acceptance_is_realistic() {
    let dir = tempfile::tempdir().unwrap();
    let models = halo_top::synth::tiny::write(dir.path()).unwrap();
    let draft = models.draft_f16.to_str().unwrap();
    let server = Server::start(
        &models.target_f16,
        &["-md", draft, "--spec-type", "draft-simple", "--spec-draft-n-max", "4", "-td", "1"],
    );
    let chat = server.post(
        "/v1/chat/completions",
        &json!({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "temperature": 0}),
    );
    assert!(chat["choices"][0]["message"]["content"].is_string(), "{chat}");

    let (mut drafted, mut accepted) = (0, 0);
    for prompt in ["hello world\n", "the quick brown fox", "speculative decoding"] {
        let reply = server.post(
            "/completion",
            &json!({"prompt": prompt, "n_predict": 64, "temperature": 0, "ignore_eos": true}),
        );
        drafted += reply["timings"]["draft_n"].as_u64().unwrap_or(0);
        accepted += reply["timings"]["draft_n_accepted"].as_u64().unwrap_or(0);
    }
    assert!(drafted > 0, "the draft was not used:\n{}", server.log());
    let rate = accepted as f64 / drafted as f64;
    eprintln!("draft acceptance {accepted}/{drafted} = {rate:.2}");
    assert!((0.25..=0.75).contains(&rate), "acceptance {rate:.2} ({accepted}/{drafted})");
}

/// Parameters of the tiny MoE: embeddings and head, 4 layers of attention, router and 4 experts.
fn moe_params() -> u64 {
    let (d, v, ff, e, kv) = (512u64, 1058u64, 512u64, 4u64, 256u64);
    let layer = 2 * d + d * d * 2 + 2 * d * kv + e * d + 3 * e * d * ff;
    2 * v * d + d + 4 * layer
}
