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
    w.iter().flatten().zip(x.iter().flatten()).map(|(&w, &x)| f16::from_bits(w).to_f32() * x).sum()
}
