//! halo-top's reference decoder: a llama-family transformer decode loop on the CPU, whose
//! memory traffic per token is known exactly, used as halo-top's own workload.
//!
//! candle-core reads and writes GGUF and runs the types we have no kernel for; the hot matrix
//! products for Q4_0, Q8_0 and F16 are our own AVX2 kernels ([`kernels`]) on our own threads
//! ([`pool`]), because candle's reach only 43-88 % of llama.cpp on this hardware.

pub mod bench;
pub mod decoder;
pub mod kernels;
pub mod matrix;
pub mod model;
pub mod ops;
pub mod pool;
pub mod stream;
pub mod threads;
pub mod workload;

pub use decoder::{Decoder, OpTimes, StepStats};
pub use model::Model;
