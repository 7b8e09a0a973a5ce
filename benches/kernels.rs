//! Throughput of the decoder's matrix-vector kernels, in cache and from memory.
//! `cargo bench --bench kernels` prints GB/s of weights read per kernel and size.

use std::time::Instant;

use candle_core::quantized::GgmlDType;
use halo_top::workload::reference::matrix::{Activation, Matrix};

fn matrix(dtype: GgmlDType, rows: usize, cols: usize) -> Matrix {
    let bytes_len = rows * cols / dtype.block_size() * dtype.type_size();
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut bytes: Vec<u8> = (0..bytes_len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let block = dtype.type_size();
    for b in bytes.chunks_exact_mut(block) {
        b[..2].copy_from_slice(&half::f16::from_f32(0.001).to_le_bytes());
        if dtype == GgmlDType::Q4K {
            b[2..4].copy_from_slice(&half::f16::from_f32(0.001).to_le_bytes());
        }
    }
    Matrix::from_ggml_bytes(dtype, rows, cols, &bytes).expect("matrix")
}

fn main() {
    // `cargo test --all-targets` runs this too (without --bench): then only a smoke run.
    let full = std::env::args().any(|a| a == "--bench");
    let big_rows = if full { 131_072 } else { 4096 };
    let cols = 2048;
    for dtype in [GgmlDType::Q4_0, GgmlDType::Q8_0, GgmlDType::Q4K, GgmlDType::F16] {
        for (label, rows) in [("in L2", 128), ("from memory", big_rows)] {
            let m = matrix(dtype, rows, cols);
            let x: Vec<f32> = (0..cols).map(|i| (i as f32 * 0.37).sin()).collect();
            let act = Activation::new(&x, &[&m]);
            let mut out = vec![0f32; rows];
            let reps = if full { (2_000_000_000 / m.streamed_bytes()).clamp(3, 20_000) } else { 2 };
            m.dot_rows(&act, 0..rows, &mut out);
            let t = Instant::now();
            for _ in 0..reps {
                m.dot_rows(&act, 0..rows, &mut out);
            }
            let s = t.elapsed().as_secs_f64();
            let gb_s = (m.streamed_bytes() * reps) as f64 / s / 1e9;
            println!(
                "{dtype:?} {rows}x{cols} {label:>12}: {gb_s:6.2} GB/s ({:.3} ms per product)",
                s / reps as f64 * 1e3
            );
        }
    }
}
