use std::process::ExitCode;

use clap::Parser;
use halo_top::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("halo-top: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(halo_top::commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("halo-top: {e:#}");
            ExitCode::FAILURE
        }
    }
}
