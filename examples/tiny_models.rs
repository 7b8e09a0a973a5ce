//! Writes the tiny test models (a llama target in F16/Q8_0/Q4_0, its draft, a MoE) into a
//! directory, e.g. to run `halo-top sweep` on them by hand:
//! `cargo run --release --example tiny_models -- models/`.

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "tiny-models".into()));
    let models = halo_top::synth::tiny::write(&dir)?;
    println!("{models:#?}");
    Ok(())
}
