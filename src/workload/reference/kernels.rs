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
mod simd {
    //! `std::arch` intrinsics are `unsafe` to call even when the features are enabled for
    //! the whole build (rustc 1.95 counts only `#[target_feature]` on the caller), and this
    //! workspace forbids `unsafe`. pulp's feature tokens (pulp is already in the tree through
    //! candle's gemm) wrap each intrinsic in a safe, always-inlined method; a token exists only
    //! when the CPU has the feature, and with x86-64-v3 that check is a compile-time constant.
    use super::*;
    use pulp::core_arch::x86::{Avx, Avx2, Fma};
    use std::arch::x86_64::{__m128i, __m256, __m256i};

    #[derive(Clone, Copy)]
    pub struct Simd {
        avx: Avx,
        avx2: Avx2,
        fma: Fma,
    }

    impl Simd {
        #[inline(always)]
        pub fn get() -> Option<Self> {
            Some(Simd { avx: Avx::try_new()?, avx2: Avx2::try_new()?, fma: Fma::try_new()? })
        }

        #[inline(always)]
        fn hsum(self, v: __m256) -> f32 {
            let lanes: [f32; 8] = bytemuck::cast(v);
            (lanes[0] + lanes[4])
                + (lanes[1] + lanes[5])
                + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]))
        }

        /// Eight f16 scales to f32 without F16C (pulp has no F16C wrappers): place the
        /// exponent and mantissa bits in an f32 and rescale by 2^112, exact for every finite
        /// f16 including subnormals.
        #[inline(always)]
        fn scales(self, d: [u16; GROUP_BLOCKS]) -> __m256 {
            let (avx, avx2) = (self.avx, self.avx2);
            let h = avx2._mm256_cvtepu16_epi32(bytemuck::cast::<_, __m128i>(d));
            let sign = avx2
                ._mm256_slli_epi32::<16>(avx2._mm256_and_si256(h, avx._mm256_set1_epi32(0x8000)));
            let mag = avx2
                ._mm256_slli_epi32::<13>(avx2._mm256_and_si256(h, avx._mm256_set1_epi32(0x7fff)));
            let value = avx._mm256_mul_ps(
                bytemuck::cast(mag),
                avx._mm256_set1_ps(f32::from_bits(0x7780_0000)),
            );
            avx._mm256_or_ps(value, bytemuck::cast(sign))
        }

        #[inline(always)]
        pub fn dot_q4_0(self, w: &[Q4Group], x: &[ActGroup]) -> f32 {
            let (avx, avx2, fma) = (self.avx, self.avx2, self.fma);
            let mask = avx._mm256_set1_epi8(0x0F);
            let ones = avx._mm256_set1_epi16(1);
            // Lanes 0..4 of a pair's sums belong to its first block, 4..8 to its second.
            let pick: [__m256i; 4] = [
                bytemuck::cast([0i32, 0, 0, 0, 1, 1, 1, 1]),
                bytemuck::cast([2i32, 2, 2, 2, 3, 3, 3, 3]),
                bytemuck::cast([4i32, 4, 4, 4, 5, 5, 5, 5]),
                bytemuck::cast([6i32, 6, 6, 6, 7, 7, 7, 7]),
            ];
            let mut acc = [avx._mm256_setzero_ps(), avx._mm256_setzero_ps()];
            let mut acc_offset = avx._mm256_setzero_ps();
            for (g, a) in w.iter().zip(x) {
                let dw = self.scales(g.d);
                let s = avx._mm256_mul_ps(dw, bytemuck::cast(a.d));
                acc_offset = fma._mm256_fmadd_ps(dw, bytemuck::cast(a.q4_offset), acc_offset);
                for p in 0..GROUP_BLOCKS / 2 {
                    let v: __m256i = bytemuck::cast(g.qs[p]);
                    let lo = avx2._mm256_and_si256(v, mask);
                    let hi = avx2._mm256_and_si256(avx2._mm256_srli_epi16::<4>(v), mask);
                    let xl: __m256i = bytemuck::cast(a.paired[2 * p]);
                    let xh: __m256i = bytemuck::cast(a.paired[2 * p + 1]);
                    // u8 nibble × i8 activation: |15·127·2| fits i16, no saturation.
                    let s16 = avx2._mm256_add_epi16(
                        avx2._mm256_maddubs_epi16(lo, xl),
                        avx2._mm256_maddubs_epi16(hi, xh),
                    );
                    let s32 = avx._mm256_cvtepi32_ps(avx2._mm256_madd_epi16(s16, ones));
                    let sp = avx2._mm256_permutevar8x32_ps(s, pick[p]);
                    acc[p & 1] = fma._mm256_fmadd_ps(s32, sp, acc[p & 1]);
                }
            }
            self.hsum(avx._mm256_add_ps(acc[0], acc[1])) + self.hsum(acc_offset)
        }

        #[inline(always)]
        pub fn dot_q8_0(self, w: &[Q8Group], x: &[ActGroup]) -> f32 {
            let (avx, avx2, fma) = (self.avx, self.avx2, self.fma);
            let ones = avx._mm256_set1_epi16(1);
            let mut acc = [avx._mm256_setzero_ps(), avx._mm256_setzero_ps()];
            for (g, a) in w.iter().zip(x) {
                let s: [f32; 8] =
                    bytemuck::cast(avx._mm256_mul_ps(self.scales(g.d), bytemuck::cast(a.d)));
                for b in 0..GROUP_BLOCKS {
                    let wv: __m256i = bytemuck::cast(g.qs[b]);
                    let xv: __m256i = bytemuck::cast(a.qs[b]);
                    // maddubs wants one unsigned operand: |w| and x carrying w's sign.
                    let p16 = avx2._mm256_maddubs_epi16(
                        avx2._mm256_sign_epi8(wv, wv),
                        avx2._mm256_sign_epi8(xv, wv),
                    );
                    let p32 = avx._mm256_cvtepi32_ps(avx2._mm256_madd_epi16(p16, ones));
                    acc[b & 1] = fma._mm256_fmadd_ps(p32, avx._mm256_set1_ps(s[b]), acc[b & 1]);
                }
            }
            self.hsum(avx._mm256_add_ps(acc[0], acc[1]))
        }

        /// ggml's AVX2 Q4_K × Q8_K: per 64 weights, nibbles × activations in i16 pairs, scaled
        /// by the sub-block's 6-bit scale in the i32 widening; one float multiply per 256.
        #[inline(always)]
        pub fn dot_q4_k(self, w: &[Q4KBlock], x: &[ActKGroup]) -> f32 {
            let (avx, avx2, fma) = (self.avx, self.avx2, self.fma);
            let mask = avx._mm256_set1_epi8(0x0F);
            // Shuffle controls that spread scale byte s over all sixteen i16 lanes.
            let spread: [__m256i; 8] = std::array::from_fn(|sb| {
                bytemuck::cast::<[u8; 32], __m256i>(std::array::from_fn(|i| {
                    if i % 2 == 0 { sb as u8 } else { 0x80 }
                }))
            });
            let mut acc = avx._mm256_setzero_ps();
            let mut acc_min = avx._mm256_setzero_ps();
            for (b, a) in w.iter().zip(x) {
                let (sc, mn) = b.scales_mins_u64();
                let scales = avx._mm256_set1_epi64x(sc as i64);
                let mut sumi = avx._mm256_setzero_si256();
                for j in 0..4 {
                    let v: __m256i = bytemuck::cast(b.qs[j]);
                    let lo = avx2._mm256_and_si256(v, mask);
                    let hi = avx2._mm256_and_si256(avx2._mm256_srli_epi16::<4>(v), mask);
                    let p_lo = avx2._mm256_maddubs_epi16(lo, bytemuck::cast(a.qs[2 * j]));
                    let p_hi = avx2._mm256_maddubs_epi16(hi, bytemuck::cast(a.qs[2 * j + 1]));
                    let p_lo = avx2
                        ._mm256_madd_epi16(p_lo, avx2._mm256_shuffle_epi8(scales, spread[2 * j]));
                    let p_hi = avx2._mm256_madd_epi16(
                        p_hi,
                        avx2._mm256_shuffle_epi8(scales, spread[2 * j + 1]),
                    );
                    sumi = avx2._mm256_add_epi32(sumi, avx2._mm256_add_epi32(p_lo, p_hi));
                }
                let d = half::f16::from_bits(b.d).to_f32() * a.d;
                let dmin = half::f16::from_bits(b.dmin).to_f32() * a.d;
                acc = fma._mm256_fmadd_ps(avx._mm256_cvtepi32_ps(sumi), avx._mm256_set1_ps(d), acc);
                let mins = avx2._mm256_cvtepu8_epi32(bytemuck::cast([mn, 0u64]));
                let m = avx2._mm256_mullo_epi32(mins, bytemuck::cast(a.bsum));
                acc_min = fma._mm256_fmadd_ps(
                    avx._mm256_cvtepi32_ps(m),
                    avx._mm256_set1_ps(dmin),
                    acc_min,
                );
            }
            self.hsum(acc) - self.hsum(acc_min)
        }

        /// `y += a · v` for f16 `v` (attention's weighted sum of V rows).
        #[inline(always)]
        pub fn axpy_f16(self, y: &mut [[f32; 16]], a: f32, v: &[[u16; 16]]) {
            let (avx, fma) = (self.avx, self.fma);
            let av = avx._mm256_set1_ps(a);
            for (yc, vc) in y.iter_mut().zip(v) {
                let halves: [[u16; 8]; 2] = bytemuck::cast(*vc);
                let ys: [__m256; 2] = bytemuck::cast(*yc);
                let out = [0, 1].map(|i| fma._mm256_fmadd_ps(self.scales(halves[i]), av, ys[i]));
                *yc = bytemuck::cast(out);
            }
        }

        #[inline(always)]
        pub fn dot_f16(self, w: &[[u16; 16]], x: &[[f32; 16]]) -> f32 {
            let (avx, fma) = (self.avx, self.fma);
            let mut acc = [avx._mm256_setzero_ps(), avx._mm256_setzero_ps()];
            for (wc, xc) in w.iter().zip(x) {
                let halves: [[u16; 8]; 2] = bytemuck::cast(*wc);
                let xs: [[f32; 8]; 2] = bytemuck::cast(*xc);
                for i in 0..2 {
                    acc[i] =
                        fma._mm256_fmadd_ps(self.scales(halves[i]), bytemuck::cast(xs[i]), acc[i]);
                }
            }
            self.hsum(avx._mm256_add_ps(acc[0], acc[1]))
        }
    }
}

/// Portable versions: the reference the SIMD kernels are tested against, and the kernels on
/// CPUs without AVX2.
pub mod scalar {
    use super::*;

    pub fn dot_q4_0(w: &[Q4Group], x: &[ActGroup]) -> f32 {
        let mut sum = 0f32;
        for (g, a) in w.iter().zip(x) {
            for b in 0..GROUP_BLOCKS {
                let bytes = &g.qs[b / 2][(b % 2) * 16..][..16];
                let mut isum = 0i32;
                for (j, &byte) in bytes.iter().enumerate() {
                    isum += (i32::from(byte & 0x0F) - 8) * i32::from(a.qs[b][j]);
                    isum += (i32::from(byte >> 4) - 8) * i32::from(a.qs[b][j + 16]);
                }
                sum += f16::from_bits(g.d[b]).to_f32() * a.d[b] * isum as f32;
            }
        }
        sum
    }

    pub fn dot_q8_0(w: &[Q8Group], x: &[ActGroup]) -> f32 {
        let mut sum = 0f32;
        for (g, a) in w.iter().zip(x) {
            for b in 0..GROUP_BLOCKS {
                let isum: i32 =
                    g.qs[b].iter().zip(&a.qs[b]).map(|(&w, &x)| i32::from(w) * i32::from(x)).sum();
                sum += f16::from_bits(g.d[b]).to_f32() * a.d[b] * isum as f32;
            }
        }
        sum
    }

    pub fn dot_q4_k(w: &[Q4KBlock], x: &[ActKGroup]) -> f32 {
        let mut sum = 0f32;
        for (b, a) in w.iter().zip(x) {
            let (sc, mn) = b.scales_mins();
            let (mut isum, mut imin) = (0i32, 0i32);
            for s in 0..8 {
                let dot: i32 = b.qs[s / 2]
                    .iter()
                    .zip(&a.qs[s])
                    .map(|(&q, &x)| {
                        i32::from(if s % 2 == 0 { q & 0x0F } else { q >> 4 }) * i32::from(x)
                    })
                    .sum();
                isum += i32::from(sc[s]) * dot;
                imin += i32::from(mn[s]) * a.bsum[s];
            }
            sum += f16::from_bits(b.d).to_f32() * a.d * isum as f32
                - f16::from_bits(b.dmin).to_f32() * a.d * imin as f32;
        }
        sum
    }

    pub fn axpy_f16(y: &mut [[f32; 16]], a: f32, v: &[[u16; 16]]) {
        for (y, &v) in y.iter_mut().flatten().zip(v.iter().flatten()) {
            *y += a * f16::from_bits(v).to_f32();
        }
    }

    pub fn dot_f16(w: &[[u16; 16]], x: &[[f32; 16]]) -> f32 {
        w.iter()
            .flatten()
            .zip(x.iter().flatten())
            .map(|(&w, &x)| f16::from_bits(w).to_f32() * x)
            .sum()
    }
}

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
mod tests {
    use super::*;
    use crate::synth::rng::SplitMix64;

    fn random_act(n: usize, seed: u64) -> (Vec<f32>, Vec<ActGroup>) {
        let x = SplitMix64::new(seed).normal_vec(n, 1.0);
        let mut act = Vec::new();
        quantize_act(&x, &mut act);
        (x, act)
    }

    #[test]
    fn simd_kernels_agree_with_scalar_and_with_f32() {
        let n = 4 * GROUP;
        let (x, act) = random_act(n, 1);
        let mut rng = SplitMix64::new(2);
        let mut q4 = vec![Q4Group::zeroed(); n / GROUP];
        bytemuck::cast_slice_mut::<Q4Group, u8>(&mut q4)
            .iter_mut()
            .for_each(|b| *b = rng.next_u64() as u8);
        let mut q8 = vec![Q8Group::zeroed(); n / GROUP];
        for (g4, g8) in q4.iter_mut().zip(&mut q8) {
            g4.d = [f16::from_f32(0.01).to_bits(); 8];
            g8.d = [f16::from_f32(0.002).to_bits(); 8];
            g8.qs.iter_mut().flatten().for_each(|q| *q = (rng.next_u64() % 255) as i8);
        }
        let a = dot_q4_0(&q4, &act);
        let b = scalar::dot_q4_0(&q4, &act);
        assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "q4_0 {a} vs {b}");
        let a = dot_q8_0(&q8, &act);
        let b = scalar::dot_q8_0(&q8, &act);
        assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "q8_0 {a} vs {b}");

        // Against the plain f32 dot of the dequantized weights: within activation-quantization noise.
        let w8: Vec<f32> =
            q8.iter().flat_map(|g| g.qs.iter().flatten().map(|&q| f32::from(q) * 0.002)).collect();
        let exact: f32 = w8.iter().zip(&x).map(|(w, x)| w * x).sum();
        let norm = (w8.iter().map(|w| w * w).sum::<f32>() * n as f32).sqrt();
        assert!((a - exact).abs() < 0.02 * norm, "q8_0 {a} vs f32 {exact}");

        let mut qk = vec![Q4KBlock::zeroed(); n / GROUP];
        for b in &mut qk {
            bytemuck::bytes_of_mut(b).iter_mut().for_each(|x| *x = rng.next_u64() as u8);
            b.d = f16::from_f32(0.001).to_bits();
            b.dmin = f16::from_f32(0.002).to_bits();
        }
        let mut act_k = Vec::new();
        quantize_act_k(&x, &mut act_k);
        let a = dot_q4_k(&qk, &act_k);
        let b = scalar::dot_q4_k(&qk, &act_k);
        assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "q4_k {a} vs {b}");
        let wk: Vec<f32> = qk
            .iter()
            .flat_map(|b| {
                let (sc, mn) = b.scales_mins();
                let (d, m) = (f16::from_bits(b.d).to_f32(), f16::from_bits(b.dmin).to_f32());
                (0..8).flat_map(move |s| {
                    b.qs[s / 2].iter().map(move |&q| {
                        let q = if s % 2 == 0 { q & 0x0F } else { q >> 4 };
                        d * f32::from(sc[s]) * f32::from(q) - m * f32::from(mn[s])
                    })
                })
            })
            .collect();
        let exact: f32 = wk.iter().zip(&x).map(|(w, x)| w * x).sum();
        let norm = (wk.iter().map(|w| w * w).sum::<f32>() * n as f32).sqrt();
        assert!((a - exact).abs() < 0.02 * norm, "q4_k {a} vs f32 {exact}");

        let wf: Vec<[u16; 16]> = x
            .chunks_exact(16)
            .map(|c| std::array::from_fn(|i| f16::from_f32(c[i] * 0.5).to_bits()))
            .collect();
        let mut xr = Vec::new();
        round_act_f16(&x, &mut xr);
        let a = dot_f16(&wf, &xr);
        let b = scalar::dot_f16(&wf, &xr);
        assert!((a - b).abs() <= 1e-4 * b.abs(), "f16 {a} vs {b}");
    }

    #[test]
    fn q4_k_scales_unpack_like_ggml() {
        let mut b = Q4KBlock::zeroed();
        let mut rng = SplitMix64::new(9);
        b.scales.iter_mut().for_each(|x| *x = rng.next_u64() as u8);
        let s = b.scales;
        let (sc, mn) = b.scales_mins();
        for j in 0..8 {
            let (want_sc, want_mn) = if j < 4 {
                (s[j] & 63, s[j + 4] & 63)
            } else {
                ((s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4), (s[j + 4] >> 4) | ((s[j] >> 6) << 4))
            };
            assert_eq!((sc[j], mn[j]), (want_sc, want_mn), "sub-block {j}");
        }
    }

    #[test]
    fn activation_quantization_matches_ggml() {
        let (x, act) = random_act(GROUP, 3);
        let amax = x[..32].iter().fold(0f32, |m, v| m.max(v.abs()));
        assert_eq!(act[0].d[0], f16::from_f32(amax / 127.0).to_f32());
        assert!(act[0].qs[0].iter().any(|&q| q == 127 || q == -127));
        assert_eq!(act[0].paired[1][16], act[0].qs[1][16]);
    }
}
