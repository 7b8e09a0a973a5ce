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
