//! Writes the tiny generated GGUF models (the ones the tests serve with llama-server) into a
//! directory, for scripts that need a real server outside the tests (benches/long-run.sh).
//!
//!   cargo run --release --example tiny_models -- DIR

use anyhow::{Context, Result};

fn main() -> Result<()> {
    let dir = std::env::args_os().nth(1).context("usage: tiny_models DIR")?;
    let models = halo_top::synth::tiny::write(std::path::Path::new(&dir))?;
    println!("{}", models.target_q8_0.display());
    Ok(())
}
