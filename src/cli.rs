//! The command line. Every flag can also be set through a `HALO_TOP_*` environment variable.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::synth::memory::SyntheticSpec;
use crate::workload::WorkloadSpec;

const ABOUT: &str = "A live profiler for local LLM inference on AMD Strix Halo";

const LONG_ABOUT: &str = "\
halo-top watches an LLM inference machine and shows, on one screen, the machine's CPU, memory,
temperatures and processes, and the state of every data source it reads.

With no subcommand it opens the live dashboard. Keys: q or Ctrl-C quit, ? help, p pause.

Every flag can also be given through the environment: --interval is HALO_TOP_INTERVAL,
--sysfs-root is HALO_TOP_SYSFS_ROOT, and so on.

A source that is missing on this machine (no GPU, no driver, no server) is shown as unavailable
with the reason; a value that could not be read is shown as n/a, never as 0.";

#[derive(Debug, Parser)]
#[command(name = "halo-top", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Time between snapshots, e.g. 500ms, 1s, 2s.
    #[arg(long, global = true, env = "HALO_TOP_INTERVAL", default_value = "1s", value_parser = parse_interval)]
    pub interval: Duration,

    /// Directory that stands for /sys (a fixture tree in tests).
    #[arg(long, global = true, env = "HALO_TOP_SYSFS_ROOT", default_value = "/sys")]
    pub sysfs_root: PathBuf,

    /// Directory that stands for /proc (a fixture tree in tests).
    #[arg(long, global = true, env = "HALO_TOP_PROCFS_ROOT", default_value = "/proc")]
    pub procfs_root: PathBuf,

    /// Run a workload while watching: none, or reference (the embedded decoder on a synthetic
    /// 1.5GB:q8_0 model), reference=SIZE:TYPE, reference=FILE.gguf.
    #[arg(long, global = true, env = "HALO_TOP_WORKLOAD", default_value = "none")]
    pub workload: WorkloadSpec,

    /// Threads of the workload (default: all logical CPUs but one).
    #[arg(long, global = true, env = "HALO_TOP_WORKLOAD_THREADS", value_parser = clap::value_parser!(u16).range(1..))]
    pub workload_threads: Option<u16>,

    /// Prompt tokens the reference workload feeds at the start of each context (one per
    /// step), for a prompt-processing figure beside decode.
    #[arg(long, global = true, env = "HALO_TOP_WORKLOAD_PROMPT", default_value_t = 0)]
    pub workload_prompt: usize,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print one snapshot, taken after two samples so that rates are defined.
    Snapshot {
        /// Print the snapshot as JSON (the same schema as session files) instead of a summary.
        #[arg(long, env = "HALO_TOP_JSON")]
        json: bool,
    },
    /// Record snapshots to a session file without a dashboard (stop with Ctrl-C or --duration).
    Record {
        /// The session file to write (NDJSON; replaced if it exists).
        #[arg(short, long, env = "HALO_TOP_OUTPUT")]
        output: PathBuf,
        /// Stop after this long, e.g. 30s, 5m, 1h. Without it, record until interrupted.
        #[arg(long, env = "HALO_TOP_DURATION", value_parser = parse_duration)]
        duration: Option<Duration>,
    },
    /// Measure the reference decoder: decode tok/s, effective GB/s, latency, time per op class.
    Bench {
        /// A GGUF model file (llama, qwen2, qwen3, qwen3moe).
        #[arg(long, env = "HALO_TOP_MODEL", conflicts_with = "synthetic")]
        model: Option<PathBuf>,
        /// A synthetic model made in memory, SIZE:TYPE with TYPE q4_0, q8_0 or f16 (the default,
        /// 1.5GB:q8_0, when no --model is given).
        #[arg(long, env = "HALO_TOP_SYNTHETIC")]
        synthetic: Option<SyntheticSpec>,
        /// Decoder threads (default: all logical CPUs but one).
        #[arg(long, env = "HALO_TOP_THREADS", value_parser = clap::value_parser!(u16).range(1..))]
        threads: Option<u16>,
        /// Tokens to decode and time.
        #[arg(long, env = "HALO_TOP_TOKENS", default_value_t = 64)]
        tokens: usize,
        /// Prompt tokens to feed first, for a prompt-processing figure (one token per step).
        #[arg(long, env = "HALO_TOP_PROMPT", default_value_t = 0)]
        prompt: usize,
        /// Also measure STREAM read bandwidth with the same threads (about 10 s).
        #[arg(long)]
        stream: bool,
        /// Print the report as JSON.
        #[arg(long, env = "HALO_TOP_JSON")]
        json: bool,
    },
    /// Write a synthetic model (the one `bench --synthetic` decodes) as a GGUF file, e.g. to
    /// run llama.cpp on the very same weights.
    Synth {
        /// The GGUF file to write (replaced if it exists).
        output: PathBuf,
        /// SIZE:TYPE, TYPE one of q4_0, q8_0, q4_k, f16.
        #[arg(long, default_value = "1.5GB:q8_0")]
        synthetic: SyntheticSpec,
    },
    /// Play a recorded session file in the dashboard.
    Replay {
        /// A session file written by `record`.
        file: PathBuf,
        /// Playback speed: 2 plays twice as fast as recorded.
        #[arg(long, env = "HALO_TOP_SPEED", default_value_t = 1.0, value_parser = parse_speed)]
        speed: f64,
    },
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 500ms, 30s, 5m, 1h)"))
}

fn parse_interval(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < Duration::from_millis(50) {
        return Err("the interval must be at least 50ms".into());
    }
    Ok(d)
}

fn parse_speed(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => Ok(s),
        _ => Err(format!("{text:?} is not a positive number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_durations_and_rejects_nonsense() {
        let cli = Cli::try_parse_from([
            "halo-top",
            "--interval",
            "500ms",
            "record",
            "-o",
            "s.ndjson",
            "--duration",
            "5s",
        ])
        .unwrap();
        assert_eq!(cli.global.interval, Duration::from_millis(500));
        assert!(
            matches!(cli.command, Some(Command::Record { duration: Some(d), .. }) if d == Duration::from_secs(5))
        );
        assert!(Cli::try_parse_from(["halo-top", "--interval", "1ms"]).is_err());
        assert!(Cli::try_parse_from(["halo-top", "replay", "f", "--speed", "0"]).is_err());
        assert!(
            Cli::try_parse_from(["halo-top", "record", "-o", "f", "--duration", "soon"]).is_err()
        );
    }
}
