//! `/props`, `/slots`, `/v1/models` and the router's `/models`: JSON, every field optional, unknown
//! fields ignored (they differ between llama.cpp versions).

use serde::Deserialize;

use crate::model::{LlamaModelInfo, LlamaProps, LlamaSlot};

fn parse<'a, T: Deserialize<'a>>(body: &'a str) -> Result<T, String> {
    serde_json::from_str(body)
        .map_err(|e| format!("not the expected JSON ({e}): {}", super::http::excerpt(body)))
}

#[derive(Deserialize)]
struct Props {
    default_generation_settings: Option<GenerationSettings>,
    total_slots: Option<u32>,
    model_alias: Option<String>,
    model_ftype: Option<String>,
    model_path: Option<String>,
    build_info: Option<String>,
    is_sleeping: Option<bool>,
    endpoint_metrics: Option<bool>,
    endpoint_slots: Option<bool>,
    role: Option<String>,
}

#[derive(Deserialize)]
struct GenerationSettings {
    n_ctx: Option<u64>,
}

pub fn props(body: &str) -> Result<LlamaProps, String> {
    let p: Props = parse(body)?;
    Ok(LlamaProps {
        model_path: p.model_path,
        model_alias: p.model_alias,
        model_ftype: p.model_ftype,
        build_info: p.build_info,
        total_slots: p.total_slots,
        n_ctx_per_slot: p.default_generation_settings.and_then(|g| g.n_ctx),
        is_sleeping: p.is_sleeping,
        endpoint_metrics: p.endpoint_metrics,
        endpoint_slots: p.endpoint_slots,
        role: p.role,
    })
}

#[derive(Deserialize)]
struct Slot {
    id: u32,
    n_ctx: Option<u64>,
    speculative: Option<bool>,
    #[serde(default)]
    is_processing: bool,
    id_task: Option<i64>,
    n_prompt_tokens: Option<u64>,
    n_prompt_tokens_processed: Option<u64>,
    n_prompt_tokens_cache: Option<u64>,
    params: Option<SlotParams>,
    /// An array of one object in this version (the server's README shows a plain object).
    next_token: Option<NextToken>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NextToken {
    List(Vec<NextTokenState>),
    One(NextTokenState),
}

#[derive(Deserialize)]
struct NextTokenState {
    n_remain: Option<i64>,
    n_decoded: Option<u64>,
}

#[derive(Deserialize)]
struct SlotParams {
    n_predict: Option<i64>,
}

pub fn slots(body: &str) -> Result<Vec<LlamaSlot>, String> {
    let slots: Vec<Slot> = parse(body)?;
    Ok(slots
        .into_iter()
        .map(|s| {
            let next = match s.next_token {
                Some(NextToken::List(mut list)) if !list.is_empty() => Some(list.swap_remove(0)),
                Some(NextToken::One(one)) => Some(one),
                _ => None,
            };
            LlamaSlot {
                id: s.id,
                n_ctx: s.n_ctx,
                speculative: s.speculative,
                is_processing: s.is_processing,
                id_task: s.id_task,
                sequence_tokens: s.n_prompt_tokens,
                prompt_tokens_processed: s.n_prompt_tokens_processed,
                prompt_tokens_cached: s.n_prompt_tokens_cache,
                n_decoded: next.as_ref().and_then(|n| n.n_decoded),
                n_remain: next.as_ref().and_then(|n| n.n_remain),
                n_predict: s.params.and_then(|p| p.n_predict),
            }
        })
        .collect())
}

#[derive(Deserialize)]
struct ModelList {
    #[serde(default)]
    data: Vec<Model>,
}

#[derive(Deserialize)]
struct Model {
    id: String,
    #[serde(default)]
    aliases: Vec<String>,
    status: Option<ModelStatus>,
    meta: Option<ModelMeta>,
}

#[derive(Deserialize)]
struct ModelStatus {
    value: Option<String>,
}

#[derive(Deserialize)]
struct ModelMeta {
    n_vocab: Option<u64>,
    n_ctx: Option<u64>,
    n_ctx_train: Option<u64>,
    n_embd: Option<u64>,
    n_params: Option<u64>,
    size: Option<u64>,
    ftype: Option<String>,
}

/// `/v1/models` and `/models` share the OpenAI-style `data[]`; the router adds `status`.
pub fn models(body: &str) -> Result<Vec<LlamaModelInfo>, String> {
    let list: ModelList = parse(body)?;
    Ok(list
        .data
        .into_iter()
        .map(|m| {
            let meta = m.meta;
            LlamaModelInfo {
                id: m.id,
                aliases: m.aliases,
                status: m.status.and_then(|s| s.value),
                n_params: meta.as_ref().and_then(|x| x.n_params),
                size_bytes: meta.as_ref().and_then(|x| x.size),
                ftype: meta.as_ref().and_then(|x| x.ftype.clone()),
                n_ctx: meta.as_ref().and_then(|x| x.n_ctx),
                n_ctx_train: meta.as_ref().and_then(|x| x.n_ctx_train),
                n_embd: meta.as_ref().and_then(|x| x.n_embd),
                n_vocab: meta.as_ref().and_then(|x| x.n_vocab),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llama::test_capture::capture;

    #[test]
    fn props_of_a_two_slot_server() {
        let p = props(&capture("a-target-parallel2/props_idle.txt").body).unwrap();
        assert_eq!(p.total_slots, Some(2));
        assert_eq!(p.n_ctx_per_slot, Some(2048));
        assert_eq!(p.model_path.as_deref(), Some("models/tiny-target-f16.gguf"));
        assert_eq!(p.model_ftype.as_deref(), Some("F16"));
        assert_eq!(p.build_info.as_deref(), Some("b0-unknown"));
        assert_eq!(p.is_sleeping, Some(false));
        assert_eq!(p.endpoint_metrics, Some(true));
        assert_eq!(p.role, None);
    }

    #[test]
    fn props_of_other_servers() {
        let spec = props(&capture("b-speculative/props_idle.txt").body).unwrap();
        assert_eq!(spec.model_alias.as_deref(), Some("halo-tiny-target"));
        let router = props(&capture("d-router/props_router.txt").body).unwrap();
        assert_eq!(router.role.as_deref(), Some("router"));
        assert_eq!(router.n_ctx_per_slot, Some(0));
        // These two captures were cut at 2 KB when they were taken: a truncated body is an
        // error that shows where it starts, never a half-read.
        for cut in ["c-no-metrics/props.txt", "d-router/props_model_param.txt"] {
            let err = props(&capture(cut).body).unwrap_err();
            assert!(err.starts_with("not the expected JSON"), "{err}");
        }
    }

    #[test]
    fn slots_busy_idle_and_after() {
        let busy = slots(&capture("b-speculative/slots_busy.txt").body).unwrap();
        assert_eq!(busy.len(), 2);
        let s0 = &busy[0];
        assert_eq!(s0.speculative, Some(true));
        assert!(s0.is_processing);
        assert_eq!(s0.id_task, Some(146));
        assert_eq!(s0.sequence_tokens, Some(77));
        assert_eq!(s0.n_decoded, Some(42));
        assert_eq!(s0.n_remain, Some(726));
        assert_eq!(s0.n_predict, Some(768));
        assert_eq!(s0.n_ctx, Some(2048));

        let idle = slots(&capture("a-target-parallel2/slots_idle.txt").body).unwrap();
        assert_eq!(idle.len(), 2);
        assert!(idle.iter().all(|s| !s.is_processing && s.n_decoded.is_none()));
        assert_eq!(idle[1].speculative, Some(false));

        let after = slots(&capture("a-target-parallel2/slots_after_completion.txt").body).unwrap();
        assert!(after.iter().all(|s| !s.is_processing));
        let plain = slots(&capture("a-target-parallel2/slots_busy.txt").body).unwrap();
        assert_eq!(plain.iter().filter_map(|s| s.n_decoded).sum::<u64>(), 70 + 79);
        assert!(slots(&capture("d-router/slots_model_param.txt").body).is_ok());
    }

    #[test]
    fn models_single_moe_and_router() {
        let single = models(&capture("a-target-parallel2/v1_models.txt").body).unwrap();
        assert_eq!(single.len(), 1);
        assert_eq!(single[0].n_params, Some(26257920));
        assert_eq!(single[0].size_bytes, Some(52533248));
        assert_eq!(single[0].n_ctx_train, Some(4096));
        assert_eq!(single[0].status, None);
        let moe = models(&capture("f-moe-quant/v1_models_moe.txt").body).unwrap();
        assert_eq!(moe[0].ftype.as_deref(), Some("F16"));
        let router = models(&capture("d-router/models_after_load.txt").body).unwrap();
        let status: Vec<_> = router.iter().map(|m| (m.id.as_str(), m.status.as_deref())).collect();
        assert_eq!(
            status,
            [("tiny-moe-f16", Some("unloaded")), ("tiny-target-f16", Some("loaded"))]
        );
        assert_eq!(router[0].n_params, None, "meta only once loaded");
    }

    #[test]
    fn wrong_json_is_an_error_not_a_panic() {
        assert!(props("[1,2]").is_err());
        assert!(slots("{\"error\":{}}").is_err());
        assert!(slots(&capture("c-no-metrics/slots_with_no_slots_flag.txt").body).is_err());
        let err = models("<html>").unwrap_err();
        assert!(err.contains("<html>"), "{err}");
    }
}
