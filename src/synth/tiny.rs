//! The tiny test models llama-server loads in the tests (shared/specs/llama-server.md 1.2):
//! a llama target, a draft that is the target's first layers, a llama-arch MoE, and quantized
//! targets. Deterministic: the same bytes on every run.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use candle_core::quantized::GgmlDType;

use super::llama::{LlamaShape, Weight, random_weights, write_gguf};
use super::vocab::Vocabulary;

pub const SEED: u64 = 1234;
/// Scale of the target's layers past the draft's, chosen for a realistic greedy draft
/// acceptance: 0.15 gives 46 % on llama-server (tests/synth_models.rs measures it), 0.2 gave 29 %.
pub const EXTRA_LAYER_SCALE: f32 = 0.15;
pub const DRAFT_LAYERS: usize = 2;

/// Paths of the written files.
#[derive(Debug, Clone)]
pub struct TinyModels {
    pub target_f16: PathBuf,
    pub draft_f16: PathBuf,
    pub moe_f16: PathBuf,
    pub target_q8_0: PathBuf,
    pub target_q4_0: PathBuf,
}

/// 8 layers, n_embd 512, n_ff 1536, 8 heads, 4 KV heads (head dim 64), 1058 tokens.
pub fn target_shape() -> LlamaShape {
    LlamaShape {
        n_layer: 8,
        n_embd: 512,
        n_ff: 1536,
        n_head: 8,
        n_head_kv: 4,
        n_vocab: Vocabulary::spm_tiny().len(),
        n_ctx: 4096,
        n_expert: 0,
        n_expert_used: 0,
        rms_eps: 1e-5,
        rope_freq_base: 10000.0,
    }
}

/// The draft: the target's shape with its first `DRAFT_LAYERS` layers.
pub fn draft_shape() -> LlamaShape {
    LlamaShape { n_layer: DRAFT_LAYERS, ..target_shape() }
}

/// 4 layers, 4 experts of width 512, 2 used per token.
pub fn moe_shape() -> LlamaShape {
    LlamaShape { n_layer: 4, n_ff: 512, n_expert: 4, n_expert_used: 2, ..target_shape() }
}

/// Writes the five files into `dir` (created if missing) and returns their paths.
pub fn write(dir: &Path) -> Result<TinyModels> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let models = TinyModels {
        target_f16: dir.join("tiny-target-f16.gguf"),
        draft_f16: dir.join("tiny-draft-f16.gguf"),
        moe_f16: dir.join("tiny-moe-f16.gguf"),
        target_q8_0: dir.join("tiny-target-Q8_0.gguf"),
        target_q4_0: dir.join("tiny-target-Q4_0.gguf"),
    };
    let vocab = Vocabulary::spm_tiny();

    let target = target_shape();
    let weights = random_weights(&target, SEED, DRAFT_LAYERS, EXTRA_LAYER_SCALE);
    write_gguf(&models.target_f16, &target, "halo-tiny-target", &vocab, &weights, GgmlDType::F16)?;
    write_gguf(
        &models.target_q8_0,
        &target,
        "halo-tiny-target-Q8_0",
        &vocab,
        &weights,
        GgmlDType::Q8_0,
    )?;
    write_gguf(
        &models.target_q4_0,
        &target,
        "halo-tiny-target-Q4_0",
        &vocab,
        &weights,
        GgmlDType::Q4_0,
    )?;

    let draft_weights: Vec<Weight> = weights.into_iter().filter(|w| in_draft(&w.name)).collect();
    write_gguf(
        &models.draft_f16,
        &draft_shape(),
        "halo-tiny-draft",
        &vocab,
        &draft_weights,
        GgmlDType::F16,
    )?;

    let moe = moe_shape();
    let moe_weights = random_weights(&moe, SEED + 1, moe.n_layer, 1.0);
    write_gguf(&models.moe_f16, &moe, "halo-tiny-moe", &vocab, &moe_weights, GgmlDType::F16)?;
    Ok(models)
}

/// The draft keeps the embeddings, the output head and norm, and the first layers.
fn in_draft(name: &str) -> bool {
    match name.strip_prefix("blk.").and_then(|rest| rest.split('.').next()) {
        Some(layer) => layer.parse::<usize>().is_ok_and(|l| l < DRAFT_LAYERS),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draft_takes_the_shared_tensors() {
        assert!(in_draft("token_embd.weight"));
        assert!(in_draft("output.weight"));
        assert!(in_draft("blk.1.ffn_down.weight"));
        assert!(!in_draft("blk.2.attn_q.weight"));
        assert!(!in_draft("blk.10.attn_q.weight"));
    }
}
