//! Writes the tiny generated GGUF models (the ones the tests serve with llama-server: a llama
//! target in F16/Q8_0/Q4_0, its draft, a MoE) into a directory, for scripts that need a real
//! server outside the tests (benches/long-run.sh) or to run `halo-top sweep` on them by hand.
//! Prints the Q8_0 target's path.
//!
//!   cargo run --release --example tiny_models -- DIR

use anyhow::{Context, Result};

fn main() -> Result<()> {
    let dir = std::env::args_os().nth(1).context("usage: tiny_models DIR")?;
    let models = halo_top::synth::tiny::write(std::path::Path::new(&dir))?;
    println!("{}", models.target_q8_0.display());
    Ok(())
}
