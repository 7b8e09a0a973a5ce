//! One decode step: embedding → layers (RMSNorm, Q/K/V, RoPE, GQA over the KV cache, output
//! projection, SwiGLU or MoE) → head → greedy token. Times each class of operation and counts
//! the bytes the step reads.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, bail};

use super::matrix::{Activation, Matrix};
use super::model::{Expert, Ffn, Model};
use super::ops::{self, KvCache, RopeTable};
use super::pool::{Job, Pool};

/// Nanoseconds per class of operation.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct OpTimes {
    /// Weight products, activation quantization included.
    pub matmul_ns: u64,
    pub attention_ns: u64,
    pub norm_rope_ns: u64,
    /// Embedding lookup, residual adds, SwiGLU, expert routing, argmax.
    pub other_ns: u64,
}

impl OpTimes {
    pub fn add(&mut self, o: &OpTimes) {
        self.matmul_ns += o.matmul_ns;
        self.attention_ns += o.attention_ns;
        self.norm_rope_ns += o.norm_rope_ns;
        self.other_ns += o.other_ns;
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy)]
pub struct StepStats {
    pub token: u32,
    pub times: OpTimes,
    /// Weights, norms, the embedding row, and KV read and written.
    pub bytes_read: u64,
}

pub struct Decoder {
    pub model: Arc<Model>,
    pool: Pool,
    k_cache: Vec<KvCache>,
    v_cache: Vec<KvCache>,
    rope: RopeTable,
    pub max_ctx: usize,
    pub pos: usize,
}

/// Runs a closure and adds its duration to a counter.
fn timed<T>(ns: &mut u64, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    *ns += t.elapsed().as_nanos() as u64;
    r
}

impl Decoder {
    pub fn new(model: Arc<Model>, n_threads: usize, max_ctx: usize) -> Result<Self> {
        let c = &model.config;
        let max_ctx = max_ctx.max(2);
        let kv =
            || (0..c.n_layer).map(|_| KvCache::new(c.n_head_kv, max_ctx, c.head_dim)).collect();
        Ok(Decoder {
            pool: Pool::new(n_threads)?,
            k_cache: kv(),
            v_cache: kv(),
            rope: RopeTable::new(c.head_dim, max_ctx, c.rope_base),
            max_ctx,
            pos: 0,
            model,
        })
    }

    pub fn n_threads(&self) -> usize {
        self.pool.n_threads()
    }

    /// Forgets the context (the cache is overwritten in place from position 0).
    pub fn reset(&mut self) {
        self.pos = 0;
    }

    fn matmul(
        &self,
        t: &mut OpTimes,
        bytes: &mut u64,
        x: &[f32],
        ms: &[&Arc<Matrix>],
    ) -> Result<Vec<Vec<f32>>> {
        timed(&mut t.matmul_ns, || {
            let refs: Vec<&Matrix> = ms.iter().map(|m| m.as_ref()).collect();
            let act = Arc::new(Activation::new(x, &refs));
            *bytes += ms.iter().map(|m| m.streamed_bytes() as u64).sum::<u64>();
            self.pool.run(Job { parts: ms.iter().map(|m| ((*m).clone(), act.clone())).collect() })
        })
    }

    /// Feeds `token` at the current position and returns the greedy next token.
    pub fn step(&mut self, token: u32) -> Result<StepStats> {
        if self.pos >= self.max_ctx {
            bail!("context full ({} positions): reset first", self.max_ctx);
        }
        let model = self.model.clone();
        let c = &model.config;
        let (pos, hd) = (self.pos, c.head_dim);
        let mut t = OpTimes::default();
        let mut bytes = 0u64;
        let f32_bytes = |v: &[f32]| (v.len() * 4) as u64;

        let mut x = timed(&mut t.other_ns, || model.embed.row(token as usize))?;
        bytes += (model.embed.streamed_bytes() / model.embed.rows.max(1)) as u64;
        for (l, layer) in model.layers.iter().enumerate() {
            let mut h = x.clone();
            timed(&mut t.norm_rope_ns, || ops::rms_norm(&mut h, &layer.attn_norm, c.rms_eps));
            bytes += f32_bytes(&layer.attn_norm);
            let qkv = self.matmul(&mut t, &mut bytes, &h, &[&layer.wq, &layer.wk, &layer.wv])?;
            let Ok([mut q, mut k, mut v]) = <[Vec<f32>; 3]>::try_from(qkv) else {
                bail!("the Q/K/V job returned the wrong number of outputs");
            };
            timed(&mut t.norm_rope_ns, || {
                if let Some([bq, bk, bv]) = &layer.bias_qkv {
                    ops::add_assign(&mut q, bq);
                    ops::add_assign(&mut k, bk);
                    ops::add_assign(&mut v, bv);
                }
                if let Some([qn, kn]) = &layer.qk_norm {
                    q.chunks_exact_mut(hd).for_each(|head| ops::rms_norm(head, qn, c.rms_eps));
                    k.chunks_exact_mut(hd).for_each(|head| ops::rms_norm(head, kn, c.rms_eps));
                }
                self.rope.apply(&mut q, pos, c.rope);
                self.rope.apply(&mut k, pos, c.rope);
            });
            let mut attn = vec![0f32; c.n_head * hd];
            timed(&mut t.attention_ns, || {
                self.k_cache[l].store(pos, &k);
                self.v_cache[l].store(pos, &v);
                ops::attention(
                    &q,
                    &self.k_cache[l],
                    &self.v_cache[l],
                    pos + 1,
                    c.n_head_kv,
                    &mut attn,
                );
            });
            // K and V: read every position (f16), write this one.
            bytes += (2 * c.n_head_kv * hd * 2 * (pos + 2)) as u64;
            let o = self.matmul(&mut t, &mut bytes, &attn, &[&layer.wo])?;
            timed(&mut t.other_ns, || ops::add_assign(&mut x, &o[0]));

            let mut h = x.clone();
            timed(&mut t.norm_rope_ns, || ops::rms_norm(&mut h, &layer.ffn_norm, c.rms_eps));
            bytes += f32_bytes(&layer.ffn_norm);
            let y = match &layer.ffn {
                Ffn::Dense(e) => self.swiglu(&mut t, &mut bytes, &h, &[(e, 1.0)])?,
                Ffn::Moe { router, experts } => {
                    let logits = self.matmul(&mut t, &mut bytes, &h, &[router])?;
                    let chosen = timed(&mut t.other_ns, || route(&logits[0], c.n_expert_used));
                    let chosen: Vec<(&Expert, f32)> =
                        chosen.into_iter().map(|(e, w)| (&experts[e], w)).collect();
                    self.swiglu(&mut t, &mut bytes, &h, &chosen)?
                }
            };
            timed(&mut t.other_ns, || ops::add_assign(&mut x, &y));
        }
        timed(&mut t.norm_rope_ns, || ops::rms_norm(&mut x, &model.output_norm, c.rms_eps));
        bytes += f32_bytes(&model.output_norm);
        let logits = self.matmul(&mut t, &mut bytes, &x, &[&model.output])?;
        let next = timed(&mut t.other_ns, || ops::argmax(&logits[0]));
        self.pos += 1;
        Ok(StepStats { token: next as u32, times: t, bytes_read: bytes })
    }

    /// `Σ w · down(silu(gate(h)) · up(h))` over the given experts (one for a dense layer).
    fn swiglu(
        &self,
        t: &mut OpTimes,
        bytes: &mut u64,
        h: &[f32],
        experts: &[(&Expert, f32)],
    ) -> Result<Vec<f32>> {
        let gate_up: Vec<&Arc<Matrix>> =
            experts.iter().flat_map(|(e, _)| [&e.gate, &e.up]).collect();
        let gu = self.matmul(t, bytes, h, &gate_up)?;
        let mut y = vec![0f32; h.len()];
        for (i, (e, w)) in experts.iter().enumerate() {
            let a: Vec<f32> = timed(&mut t.other_ns, || {
                gu[2 * i].iter().zip(&gu[2 * i + 1]).map(|(&g, &u)| ops::silu(g) * u).collect()
            });
            let d = self.matmul(t, bytes, &a, &[&e.down])?;
            timed(&mut t.other_ns, || y.iter_mut().zip(&d[0]).for_each(|(y, d)| *y += w * d));
        }
        Ok(y)
    }
}

/// The `k` experts with the largest router probabilities, weights renormalized over them
/// (Mixtral-style, as llama.cpp does for llama and qwen3moe).
fn route(logits: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut probs = logits.to_vec();
    ops::softmax(&mut probs);
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    order.truncate(k.max(1));
    let sum: f32 = order.iter().map(|&e| probs[e]).sum();
    order.into_iter().map(|e| (e, probs[e] / sum)).collect()
}
