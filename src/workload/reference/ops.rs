//! The small per-token operations, with llama.cpp's numerics where they decide greedy
//! tokens: RMSNorm sums squares in f64 as ggml does, RoPE angles come from ggml's iterated
//! theta, and K/V are kept in f16 like llama.cpp's default cache.

use half::f16;

use super::kernels;
use super::model::RopeMode;

/// `x · w / rms(x)` in place.
pub fn rms_norm(x: &mut [f32], w: &[f32], eps: f32) {
    let sum: f64 = x.iter().map(|&v| f64::from(v * v)).sum();
    let scale = 1.0 / ((sum / x.len().max(1) as f64) as f32 + eps).sqrt();
    for (v, &g) in x.iter_mut().zip(w) {
        *v = *v * scale * g;
    }
}

/// cos/sin for every position and pair: ggml multiplies theta by `base^(-2/d)` per pair.
pub struct RopeTable {
    half_dim: usize,
    cos_sin: Vec<(f32, f32)>,
}

impl RopeTable {
    pub fn new(head_dim: usize, max_pos: usize, base: f32) -> Self {
        let half_dim = head_dim / 2;
        let theta_scale = base.powf(-2.0 / head_dim as f32);
        let mut cos_sin = Vec::with_capacity(max_pos * half_dim);
        for pos in 0..max_pos {
            let mut theta = pos as f32;
            for _ in 0..half_dim {
                cos_sin.push((theta.cos(), theta.sin()));
                theta *= theta_scale;
            }
        }
        RopeTable { half_dim, cos_sin }
    }

    /// Rotates every head in `x` (heads of `2 · half_dim`) at `pos`.
    pub fn apply(&self, x: &mut [f32], pos: usize, mode: RopeMode) {
        let table = &self.cos_sin[pos * self.half_dim..][..self.half_dim];
        for head in x.chunks_exact_mut(2 * self.half_dim) {
            for (i, &(c, s)) in table.iter().enumerate() {
                let (a, b) = match mode {
                    RopeMode::Norm => (2 * i, 2 * i + 1),
                    RopeMode::Neox => (i, i + self.half_dim),
                };
                let (x0, x1) = (head[a], head[b]);
                head[a] = x0 * c - x1 * s;
                head[b] = x0 * s + x1 * c;
            }
        }
    }
}

pub fn silu(x: f32) -> f32 {
    x / (1.0 + (-x).exp())
}

pub fn add_assign(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

/// The first index of the largest value (greedy sampling).
pub fn argmax(x: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in x.iter().enumerate() {
        if v > x[best] {
            best = i;
        }
    }
    best
}

pub fn softmax(x: &mut [f32]) {
    let max = x.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut sum = 0f32;
    for v in x.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in x.iter_mut() {
        *v /= sum;
    }
}

/// One layer's K or V cache: `[kv_head][position][head_dim]` in f16 (chunks of 16), written
/// in place. The head dimension must be a multiple of 16 (64 and 128 in every family here).
pub struct KvCache {
    data: Vec<[u16; 16]>,
    max_pos: usize,
    chunks: usize,
}

impl KvCache {
    pub fn new(n_head_kv: usize, max_pos: usize, head_dim: usize) -> Self {
        let chunks = head_dim.div_ceil(16);
        KvCache { data: vec![[0; 16]; n_head_kv * max_pos * chunks], max_pos, chunks }
    }

    pub fn store(&mut self, pos: usize, heads: &[f32]) {
        for (h, head) in heads.chunks_exact(self.chunks * 16).enumerate() {
            let dst = &mut self.data[(h * self.max_pos + pos) * self.chunks..][..self.chunks];
            for (d, src) in dst.iter_mut().zip(head.chunks_exact(16)) {
                *d = std::array::from_fn(|i| f16::from_f32(src[i]).to_bits());
            }
        }
    }

    fn head(&self, h: usize, len: usize) -> &[[u16; 16]] {
        &self.data[h * self.max_pos * self.chunks..][..len * self.chunks]
    }
}

/// Grouped-query attention for one token over positions `0..len`: query head h reads KV head
/// `h / (n_head / n_head_kv)`, as ggml broadcasts. Q is rounded to f16 as llama.cpp's
/// flash-attention path does before its f16 dot products.
pub fn attention(
    q: &[f32],
    k: &KvCache,
    v: &KvCache,
    len: usize,
    n_head_kv: usize,
    out: &mut [f32],
) {
    let hd = k.chunks * 16;
    let group = (q.len() / hd) / n_head_kv.max(1);
    let scale = 1.0 / (hd as f32).sqrt();
    let mut scores = vec![0f32; len];
    let mut qh = Vec::new();
    let mut acc = vec![[0f32; 16]; k.chunks];
    for (h, (q_head, out_head)) in q.chunks_exact(hd).zip(out.chunks_exact_mut(hd)).enumerate() {
        let kvh = h / group.max(1);
        kernels::round_act_f16(q_head, &mut qh);
        for (s, kt) in scores.iter_mut().zip(k.head(kvh, len).chunks_exact(k.chunks)) {
            *s = kernels::dot_f16(kt, &qh) * scale;
        }
        softmax(&mut scores);
        acc.iter_mut().for_each(|c| *c = [0.0; 16]);
        for (&p, vt) in scores.iter().zip(v.head(kvh, len).chunks_exact(v.chunks)) {
            kernels::axpy_f16(&mut acc, p, vt);
        }
        out_head.copy_from_slice(acc.as_flattened());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rope_modes_rotate_the_right_pairs() {
        let t = RopeTable::new(4, 8, 10000.0);
        let mut x = [1.0, 0.0, 0.0, 0.0];
        t.apply(&mut x, 1, RopeMode::Norm);
        assert!((x[0] - 1f32.cos()).abs() < 1e-6 && (x[1] - 1f32.sin()).abs() < 1e-6);
        let mut x = [1.0, 0.0, 0.0, 0.0];
        t.apply(&mut x, 1, RopeMode::Neox);
        assert!(
            (x[0] - 1f32.cos()).abs() < 1e-6 && x[1] == 0.0 && (x[2] - 1f32.sin()).abs() < 1e-6
        );
    }

    #[test]
    fn attention_over_one_position_returns_its_value() {
        let (mut k, mut v) = (KvCache::new(1, 4, 16), KvCache::new(1, 4, 16));
        let value: Vec<f32> = (0..16).map(|i| i as f32 * 0.5 - 2.0).collect();
        k.store(0, &[1.0; 16]);
        v.store(0, &value);
        let mut out = [0.0; 32];
        attention(&[0.3; 32], &k, &v, 1, 1, &mut out);
        assert_eq!(&out[..16], &value[..]);
        assert_eq!(&out[16..], &value[..]);
    }
}
