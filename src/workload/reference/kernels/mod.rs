//! The hot loop: dot products of one weight row with one activation vector, for the weight
//! layouts of [`super::matrix`]. AVX2 on x86-64 (the build enables x86-64-v3, so the
//! intrinsics are safe to call; data moves in and out of registers with `bytemuck::cast`, no
//! pointers), plain Rust elsewhere; the tests check one against the other.
//!
//! Numerics follow ggml's CPU kernels, so greedy tokens match llama.cpp's: Q4_0 and Q8_0
//! weights meet activations quantized to Q8_0 blocks (scale rounded to f16, round half to
//! even), F16 weights meet activations rounded to f16, and sums are f32.

use bytemuck::{Pod, Zeroable};
use half::f16;

/// Elements per quantization block (Q4_0, Q8_0).
pub const BLOCK: usize = 32;
/// Blocks per group: one f16x8 scale load serves eight blocks.
pub const GROUP_BLOCKS: usize = 8;
pub const GROUP: usize = BLOCK * GROUP_BLOCKS;

/// Eight Q4_0 blocks: their f16 scales, then their nibbles in ggml's order (byte j of a block
/// holds element j in its low nibble and element j+16 in its high nibble), two blocks per
/// 32-byte lane. 144 bytes, the same as eight GGUF blocks.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C, align(16))]
pub struct Q4Group {
    pub d: [u16; GROUP_BLOCKS],
    pub qs: [[u8; 32]; GROUP_BLOCKS / 2],
}

/// Eight Q8_0 blocks: f16 scales, then 8 × 32 signed quants. 272 bytes, as in the GGUF file.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C, align(16))]
pub struct Q8Group {
    pub d: [u16; GROUP_BLOCKS],
    pub qs: [[i8; BLOCK]; GROUP_BLOCKS],
}

/// One Q4_K super-block of 256 weights, exactly as in GGUF: f16 `d` and `dmin`, 12 bytes of
/// 6-bit scales and mins for its eight 32-weight sub-blocks, then 4 × 32 bytes of nibbles
/// (byte l of chunk j: sub-block 2j element l in the low nibble, sub-block 2j+1 in the high).
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C, align(16))]
pub struct Q4KBlock {
    pub d: u16,
    pub dmin: u16,
    pub scales: [u8; 12],
    pub qs: [[u8; 32]; 4],
}

impl Q4KBlock {
    /// The eight 6-bit scales and eight 6-bit mins, each as the bytes of a u64 (ggml's
    /// `get_scale_min_k4`, done on whole words as ggml's AVX2 path does).
    #[inline(always)]
    pub fn scales_mins_u64(&self) -> (u64, u64) {
        const LOW6: u32 = 0x3f3f_3f3f;
        const LOW4: u32 = 0x0f0f_0f0f;
        const LOW2: u32 = 0x0303_0303;
        let s = &self.scales;
        let word =
            |i: usize| u32::from_le_bytes([s[4 * i], s[4 * i + 1], s[4 * i + 2], s[4 * i + 3]]);
        let (w0, w1, w2) = (word(0), word(1), word(2));
        let scales_lo = w0 & LOW6;
        let scales_hi = (w2 & LOW4) | (((w0 >> 6) & LOW2) << 4);
        let mins_lo = w1 & LOW6;
        let mins_hi = ((w2 >> 4) & LOW4) | (((w1 >> 6) & LOW2) << 4);
        let join = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
        (join(scales_lo, scales_hi), join(mins_lo, mins_hi))
    }

    pub fn scales_mins(&self) -> ([u8; 8], [u8; 8]) {
        let (sc, mn) = self.scales_mins_u64();
        (sc.to_le_bytes(), mn.to_le_bytes())
    }
}

/// 256 activations quantized to eight Q8_0 blocks, laid out for both weight kernels.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C, align(32))]
pub struct ActGroup {
    /// Natural order, for Q8_0 weights.
    pub qs: [[i8; BLOCK]; GROUP_BLOCKS],
    /// For Q4_0 pair p (blocks 2p, 2p+1): `paired[2p]` = elements 0..16 of both blocks (the
    /// low nibbles), `paired[2p+1]` = elements 16..32 of both (the high nibbles).
    pub paired: [[i8; BLOCK]; GROUP_BLOCKS],
    /// Block scales (f16-rounded, as ggml stores them).
    pub d: [f32; GROUP_BLOCKS],
    /// `-8 · d · Σq` per block: Q4_0 nibbles are stored +8, and this takes the offset out
    /// of the integer dot product once per activation instead of once per weight row.
    pub q4_offset: [f32; GROUP_BLOCKS],
    /// `d · Σq` per block, for the Q4_K mins.
    pub sum: [f32; GROUP_BLOCKS],
}

/// 256 activations quantized as ggml's Q8_K (one scale for all 256), for Q4_K weights: with a
/// single activation scale the eight sub-block products combine in integers, one float
/// multiply per super-block.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C, align(32))]
pub struct ActKGroup {
    pub qs: [[i8; BLOCK]; GROUP_BLOCKS],
    /// Σq of each 32-element sub-block (for the Q4_K mins).
    pub bsum: [i32; GROUP_BLOCKS],
    pub d: f32,
    pad: [f32; 7],
}

/// ggml's `quantize_row_q8_K`: scale by the element of largest magnitude to -128, clamp 127.
pub fn quantize_act_k(x: &[f32], out: &mut Vec<ActKGroup>) {
    out.clear();
    for chunk in x.chunks_exact(GROUP) {
        let mut g = ActKGroup::zeroed();
        let max = chunk.iter().fold(0f32, |m, &v| if v.abs() > m.abs() { v } else { m });
        if max != 0.0 {
            let iscale = -128.0 / max;
            for (b, block) in chunk.chunks_exact(BLOCK).enumerate() {
                for (i, &v) in block.iter().enumerate() {
                    let q = (iscale * v).round_ties_even().min(127.0) as i8;
                    g.qs[b][i] = q;
                    g.bsum[b] += i32::from(q);
                }
            }
            g.d = 1.0 / iscale;
        }
        out.push(g);
    }
}

/// Quantizes `x` (a multiple of [`GROUP`] long, zero-padded) into `out`.
pub fn quantize_act(x: &[f32], out: &mut Vec<ActGroup>) {
    out.clear();
    for chunk in x.chunks_exact(GROUP) {
        let mut g = ActGroup::zeroed();
        for (b, block) in chunk.chunks_exact(BLOCK).enumerate() {
            let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
            let id = if amax != 0.0 { 127.0 / amax } else { 0.0 };
            let mut sum = 0i32;
            for (i, &v) in block.iter().enumerate() {
                let q = (v * id).round_ties_even() as i8;
                g.qs[b][i] = q;
                sum += i32::from(q);
            }
            g.d[b] = f16::from_f32(amax / 127.0).to_f32();
            g.q4_offset[b] = -8.0 * g.d[b] * sum as f32;
            g.sum[b] = g.d[b] * sum as f32;
        }
        for p in 0..GROUP_BLOCKS / 2 {
            let (a, b) = (g.qs[2 * p], g.qs[2 * p + 1]);
            g.paired[2 * p][..16].copy_from_slice(&a[..16]);
            g.paired[2 * p][16..].copy_from_slice(&b[..16]);
            g.paired[2 * p + 1][..16].copy_from_slice(&a[16..]);
            g.paired[2 * p + 1][16..].copy_from_slice(&b[16..]);
        }
        out.push(g);
    }
}

/// Rounds `x` (a multiple of 16 long) to f16 precision, as ggml converts activations for F16
/// weights.
pub fn round_act_f16(x: &[f32], out: &mut Vec<[f32; 16]>) {
    out.clear();
    out.extend(x.chunks_exact(16).map(|c| std::array::from_fn(|i| f16::from_f32(c[i]).to_f32())));
}

#[cfg(target_arch = "x86_64")]
mod simd;

/// Portable versions: the reference the SIMD kernels are tested against, and the kernels on
/// CPUs without AVX2.
pub mod scalar;

#[cfg(target_arch = "x86_64")]
macro_rules! dispatch {
    ($name:ident, $w:ty, $x:ty) => {
        pub fn $name(w: &[$w], x: &[$x]) -> f32 {
            match simd::Simd::get() {
                Some(s) => s.$name(w, x),
                None => scalar::$name(w, x),
            }
        }
    };
}
#[cfg(not(target_arch = "x86_64"))]
macro_rules! dispatch {
    ($name:ident, $w:ty, $x:ty) => {
        pub fn $name(w: &[$w], x: &[$x]) -> f32 {
            scalar::$name(w, x)
        }
    };
}
dispatch!(dot_q4_0, Q4Group, ActGroup);
dispatch!(dot_q8_0, Q8Group, ActGroup);
dispatch!(dot_f16, [u16; 16], [f32; 16]);
dispatch!(dot_q4_k, Q4KBlock, ActKGroup);

pub fn axpy_f16(y: &mut [[f32; 16]], a: f32, v: &[[u16; 16]]) {
    #[cfg(target_arch = "x86_64")]
    if let Some(s) = simd::Simd::get() {
        return s.axpy_f16(y, a, v);
    }
    scalar::axpy_f16(y, a, v)
}

/// f32 rows (the MoE router, F32 files): short, so a plain loop the compiler vectorizes.
pub fn dot_f32(w: &[f32], x: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    for (wc, xc) in w.chunks_exact(8).zip(x.chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += wc[i] * xc[i];
        }
    }
    acc.iter().sum()
}

#[cfg(test)]
mod tests;
