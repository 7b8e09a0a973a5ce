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
        let sign =
            avx2._mm256_slli_epi32::<16>(avx2._mm256_and_si256(h, avx._mm256_set1_epi32(0x8000)));
        let mag =
            avx2._mm256_slli_epi32::<13>(avx2._mm256_and_si256(h, avx._mm256_set1_epi32(0x7fff)));
        let value =
            avx._mm256_mul_ps(bytemuck::cast(mag), avx._mm256_set1_ps(f32::from_bits(0x7780_0000)));
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
                let p_lo =
                    avx2._mm256_madd_epi16(p_lo, avx2._mm256_shuffle_epi8(scales, spread[2 * j]));
                let p_hi = avx2
                    ._mm256_madd_epi16(p_hi, avx2._mm256_shuffle_epi8(scales, spread[2 * j + 1]));
                sumi = avx2._mm256_add_epi32(sumi, avx2._mm256_add_epi32(p_lo, p_hi));
            }
            let d = half::f16::from_bits(b.d).to_f32() * a.d;
            let dmin = half::f16::from_bits(b.dmin).to_f32() * a.d;
            acc = fma._mm256_fmadd_ps(avx._mm256_cvtepi32_ps(sumi), avx._mm256_set1_ps(d), acc);
            let mins = avx2._mm256_cvtepu8_epi32(bytemuck::cast([mn, 0u64]));
            let m = avx2._mm256_mullo_epi32(mins, bytemuck::cast(a.bsum));
            acc_min =
                fma._mm256_fmadd_ps(avx._mm256_cvtepi32_ps(m), avx._mm256_set1_ps(dmin), acc_min);
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
                acc[i] = fma._mm256_fmadd_ps(self.scales(halves[i]), bytemuck::cast(xs[i]), acc[i]);
            }
        }
        self.hsum(avx._mm256_add_ps(acc[0], acc[1]))
    }
}
