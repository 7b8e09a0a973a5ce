use std::process::ExitCode;

use clap::Parser;
use halo_top::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(threads) = halo_top::commands::reference_threads(&cli)
        && let Err(e) = halo_top::workload::reference::threads::pin_candle_threads(threads)
    {
        eprintln!("halo-top: cannot re-execute with CANDLE_NUM_THREADS={threads}: {e}");
        return ExitCode::FAILURE;
    }
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
