//! Synthetic llama-family models: written as GGUF files for the tests (llama-server and our
//! decoder load the same files), with the shapes of a real model and deterministic weights.

pub mod llama;
pub mod memory;
pub mod rng;
pub mod tiny;
pub mod vocab;

pub use tiny::TinyModels;
