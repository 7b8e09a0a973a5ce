//! A weight matrix behind one interface, like candle's `QMatMul`: `rows × cols`, multiplied
//! by one activation vector. Q4_0, Q8_0, F16 and F32 are repacked at load into the layouts of
//! [`super::kernels`] (byte-neutral for Q4_0/Q8_0, rows padded to 256 columns) and computed by
//! our kernels, row range by row range, on our threads. Other types (Q4_K, Q6_K, ...) go
//! through candle's `QMatMul` whole, on candle's own thread pool.

use std::ops::Range;

use anyhow::{Context, Result, bail};
use bytemuck::Zeroable;
use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};

use super::kernels::{self, ActGroup, ActKGroup, GROUP, GROUP_BLOCKS, Q4Group, Q4KBlock, Q8Group};

/// GGUF block sizes in bytes.
const Q4_0_BLOCK_BYTES: usize = 18;
const Q8_0_BLOCK_BYTES: usize = 34;

enum Layout {
    Q4_0(Vec<Q4Group>),
    Q4K(Vec<Q4KBlock>),
    Q8_0(Vec<Q8Group>),
    F16(Vec<[u16; 16]>),
    F32(Vec<f32>),
    Candle(QMatMul),
}

pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub dtype: GgmlDType,
    /// Storage units (groups, chunks or floats) per row.
    per_row: usize,
    layout: Layout,
    /// Bytes one product with a vector reads from memory.
    streamed_bytes: usize,
}

/// One activation vector in the forms the kernels take.
#[derive(Default)]
pub struct Activation {
    pub f32: Vec<f32>,
    pub q8: Vec<ActGroup>,
    pub q8k: Vec<ActKGroup>,
    pub f16: Vec<[f32; 16]>,
}

impl Activation {
    /// Prepares `x` for products with `matrices` (only the forms they need).
    pub fn new(x: &[f32], matrices: &[&Matrix]) -> Self {
        let mut a = Activation::default();
        let padded = |to: usize| {
            let mut v = x.to_vec();
            v.resize(x.len().div_ceil(to) * to, 0.0);
            v
        };
        if matrices.iter().any(|m| matches!(m.layout, Layout::Q4_0(_) | Layout::Q8_0(_))) {
            kernels::quantize_act(&padded(GROUP), &mut a.q8);
        }
        if matrices.iter().any(|m| matches!(m.layout, Layout::Q4K(_))) {
            kernels::quantize_act_k(&padded(GROUP), &mut a.q8k);
        }
        if matrices.iter().any(|m| matches!(m.layout, Layout::F16(_))) {
            kernels::round_act_f16(&padded(16), &mut a.f16);
        }
        a.f32 = padded(8);
        a
    }
}

impl Matrix {
    /// A 2-D tensor as read from a GGUF file.
    pub fn from_qtensor(t: QTensor) -> Result<Self> {
        let (rows, cols) = t.shape().dims2().context("a weight matrix must be 2-D")?;
        let dtype = t.dtype();
        match dtype {
            GgmlDType::Q4_0
            | GgmlDType::Q8_0
            | GgmlDType::Q4K
            | GgmlDType::F16
            | GgmlDType::F32 => Self::from_ggml_bytes(dtype, rows, cols, &t.data()?),
            _ => {
                let streamed_bytes =
                    candle_streamed_bytes(dtype, rows, cols, t.storage_size_in_bytes());
                let layout = Layout::Candle(QMatMul::from_qtensor(t)?);
                Ok(Matrix { rows, cols, dtype, per_row: 0, layout, streamed_bytes })
            }
        }
    }

    /// Rows of ggml blocks (GGUF layout) in one of our own layouts.
    pub fn from_ggml_bytes(
        dtype: GgmlDType,
        rows: usize,
        cols: usize,
        bytes: &[u8],
    ) -> Result<Self> {
        let expected = rows * cols / dtype.block_size() * dtype.type_size();
        if bytes.len() != expected || !cols.is_multiple_of(dtype.block_size()) {
            bail!("{dtype:?} matrix {rows}x{cols}: {} bytes, expected {expected}", bytes.len());
        }
        let row_bytes = expected / rows.max(1);
        let (per_row, layout, unit_bytes) = match dtype {
            GgmlDType::Q4_0 => {
                let per_row = cols.div_ceil(GROUP);
                let mut groups = vec![Q4Group::zeroed(); rows * per_row];
                for (r, row) in bytes.chunks_exact(row_bytes).enumerate() {
                    for (b, block) in row.chunks_exact(Q4_0_BLOCK_BYTES).enumerate() {
                        let g = &mut groups[r * per_row + b / GROUP_BLOCKS];
                        let i = b % GROUP_BLOCKS;
                        g.d[i] = u16::from_le_bytes([block[0], block[1]]);
                        g.qs[i / 2][(i % 2) * 16..][..16].copy_from_slice(&block[2..]);
                    }
                }
                (per_row, Layout::Q4_0(groups), std::mem::size_of::<Q4Group>())
            }
            GgmlDType::Q8_0 => {
                let per_row = cols.div_ceil(GROUP);
                let mut groups = vec![Q8Group::zeroed(); rows * per_row];
                for (r, row) in bytes.chunks_exact(row_bytes).enumerate() {
                    for (b, block) in row.chunks_exact(Q8_0_BLOCK_BYTES).enumerate() {
                        let g = &mut groups[r * per_row + b / GROUP_BLOCKS];
                        let i = b % GROUP_BLOCKS;
                        g.d[i] = u16::from_le_bytes([block[0], block[1]]);
                        g.qs[i] = bytemuck::cast_slice::<u8, i8>(&block[2..]).try_into()?;
                    }
                }
                (per_row, Layout::Q8_0(groups), std::mem::size_of::<Q8Group>())
            }
            GgmlDType::Q4K => {
                // Kept as in the file (144-byte super-blocks); a row of 256-multiples only.
                let per_row = cols / GROUP;
                let blocks: Vec<Q4KBlock> =
                    bytes.chunks_exact(144).map(bytemuck::pod_read_unaligned).collect();
                (per_row, Layout::Q4K(blocks), 144)
            }
            GgmlDType::F16 => {
                let per_row = cols.div_ceil(16);
                let mut chunks = vec![[0u16; 16]; rows * per_row];
                for (r, row) in bytes.chunks_exact(row_bytes).enumerate() {
                    for (c, v) in row.chunks_exact(2).enumerate() {
                        chunks[r * per_row + c / 16][c % 16] = u16::from_le_bytes([v[0], v[1]]);
                    }
                }
                (per_row, Layout::F16(chunks), 32)
            }
            GgmlDType::F32 => {
                let per_row = cols.div_ceil(8) * 8;
                let mut data = vec![0f32; rows * per_row];
                for (r, row) in bytes.chunks_exact(row_bytes).enumerate() {
                    for (c, v) in row.chunks_exact(4).enumerate() {
                        data[r * per_row + c] = f32::from_le_bytes([v[0], v[1], v[2], v[3]]);
                    }
                }
                (per_row, Layout::F32(data), 4)
            }
            other => bail!("no kernel of ours for {other:?}"),
        };
        let streamed_bytes = rows * per_row * unit_bytes;
        Ok(Matrix { rows, cols, dtype, per_row, layout, streamed_bytes })
    }

    /// Bytes one product with a vector reads: our layouts as stored (padding included); for
    /// candle's fallback what candle streams, which for Q4_K on x86 is its repacked tiles.
    pub fn streamed_bytes(&self) -> usize {
        self.streamed_bytes
    }

    /// Bytes of this matrix in the GGUF file (ggml blocks).
    pub fn file_bytes(&self) -> usize {
        self.rows * self.cols / self.dtype.block_size() * self.dtype.type_size()
    }

    /// Whether the rows can be split across our threads (candle's fallback runs whole).
    pub fn splits(&self) -> bool {
        !matches!(self.layout, Layout::Candle(_))
    }

    /// `out[i] = row(rows.start + i) · x`, one row after the other. Rows are contiguous, so
    /// the weights stream in one sequential pass. Kernels that take 2 or 4 rows at once (to
    /// share activation loads) measured 3× slower from memory on the 2-vCPU EPYC VM this was
    /// built on: four interleaved streams defeat its prefetchers. Sharing activations without
    /// that cost needs rows interleaved at load (llama.cpp's 8×8 repack), not done here.
    pub fn dot_rows(&self, x: &Activation, rows: Range<usize>, out: &mut [f32]) {
        let n = self.per_row;
        let row_range = |r: usize| r * n..(r + 1) * n;
        match &self.layout {
            Layout::Q4_0(w) => {
                for (o, r) in out.iter_mut().zip(rows) {
                    *o = kernels::dot_q4_0(&w[row_range(r)], &x.q8);
                }
            }
            Layout::Q8_0(w) => {
                for (o, r) in out.iter_mut().zip(rows) {
                    *o = kernels::dot_q8_0(&w[row_range(r)], &x.q8);
                }
            }
            Layout::Q4K(w) => {
                for (o, r) in out.iter_mut().zip(rows) {
                    *o = kernels::dot_q4_k(&w[row_range(r)], &x.q8k);
                }
            }
            Layout::F16(w) => {
                for (o, r) in out.iter_mut().zip(rows) {
                    *o = kernels::dot_f16(&w[row_range(r)], &x.f16);
                }
            }
            Layout::F32(w) => {
                for (o, r) in out.iter_mut().zip(rows) {
                    *o = kernels::dot_f32(&w[row_range(r)], &x.f32);
                }
            }
            Layout::Candle(_) => {
                // Never split: see `splits`. Computed whole by `forward`.
            }
        }
    }

    /// The whole product on the calling thread (candle's fallback uses candle's pool).
    pub fn forward(&self, x: &Activation) -> Result<Vec<f32>> {
        match &self.layout {
            Layout::Candle(m) => {
                let t = Tensor::from_slice(&x.f32[..self.cols], (1, self.cols), &Device::Cpu)?;
                Ok(m.forward(&t)?.flatten_all()?.to_vec1::<f32>()?)
            }
            _ => {
                let mut out = vec![0f32; self.rows];
                self.dot_rows(x, 0..self.rows, &mut out);
                Ok(out)
            }
        }
    }

    /// One row dequantized (embedding lookup).
    pub fn row(&self, r: usize) -> Result<Vec<f32>> {
        if r >= self.rows {
            bail!("row {r} out of range ({} rows)", self.rows);
        }
        let n = self.per_row;
        let mut v = match &self.layout {
            Layout::Q4_0(w) => w[r * n..(r + 1) * n]
                .iter()
                .flat_map(|g| {
                    (0..GROUP_BLOCKS).flat_map(move |b| {
                        let d = half::f16::from_bits(g.d[b]).to_f32();
                        let bytes = &g.qs[b / 2][(b % 2) * 16..][..16];
                        let lo = bytes.iter().map(move |&q| (f32::from(q & 0x0F) - 8.0) * d);
                        let hi = bytes.iter().map(move |&q| (f32::from(q >> 4) - 8.0) * d);
                        lo.chain(hi).collect::<Vec<_>>()
                    })
                })
                .collect(),
            Layout::Q8_0(w) => w[r * n..(r + 1) * n]
                .iter()
                .flat_map(|g| {
                    (0..GROUP_BLOCKS).flat_map(move |b| {
                        let d = half::f16::from_bits(g.d[b]).to_f32();
                        g.qs[b].iter().map(move |&q| f32::from(q) * d)
                    })
                })
                .collect(),
            Layout::Q4K(w) => w[r * n..(r + 1) * n]
                .iter()
                .flat_map(|b| {
                    let (sc, mn) = b.scales_mins();
                    let d = half::f16::from_bits(b.d).to_f32();
                    let dmin = half::f16::from_bits(b.dmin).to_f32();
                    (0..GROUP_BLOCKS).flat_map(move |s| {
                        b.qs[s / 2].iter().map(move |&q| {
                            let q = if s % 2 == 0 { q & 0x0F } else { q >> 4 };
                            d * f32::from(sc[s]) * f32::from(q) - dmin * f32::from(mn[s])
                        })
                    })
                })
                .collect(),
            Layout::F16(w) => w[r * n..(r + 1) * n]
                .iter()
                .flatten()
                .map(|&h| half::f16::from_bits(h).to_f32())
                .collect(),
            Layout::F32(w) => w[r * n..(r + 1) * n].to_vec(),
            Layout::Candle(QMatMul::QTensor(t)) => {
                let id = Tensor::new(&[r as u32], &Device::Cpu)?;
                t.embedding(&id)?.flatten_all()?.to_vec1::<f32>()?
            }
            Layout::Candle(_) => bail!("embedding rows of a dense candle tensor are not supported"),
        };
        v.truncate(self.cols);
        Ok(v)
    }
}

/// What candle's quantized matvec reads per product. candle 0.11 repacks Q4_K on x86 with
/// AVX2+FMA (when rows are a multiple of 16 and columns of 256) into tiles with f32 scales:
/// 3072 bytes per 256 weights of 16 rows-slices instead of 2304, so 4/3 of the file's bytes
/// are streamed. Q6_K is repacked only for m > 1 (prefill) and Q8_0 only with VNNI; neither
/// reaches candle here (Q8_0 is ours).
fn candle_streamed_bytes(dtype: GgmlDType, rows: usize, cols: usize, stored: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let repacks = dtype == GgmlDType::Q4K
            && rows.is_multiple_of(16)
            && cols.is_multiple_of(256)
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma");
        if repacks {
            return stored / 3 * 4;
        }
    }
    let _ = (dtype, rows, cols);
    stored
}
