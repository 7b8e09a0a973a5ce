//! The command line. Every flag can also be set through a `HALO_TOP_*` environment variable.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::synth::memory::SyntheticSpec;
use crate::workload::Workload;

const ABOUT: &str = "A live profiler for local LLM inference on AMD Strix Halo";

const LONG_ABOUT: &str = "\
halo-top watches an LLM inference machine and shows, on one screen, how fast tokens flow
(prefill and decode), how close decode runs to the memory-bandwidth roofline, how the machine
drifts as it heats up, how well speculative decoding pays, memory, latency, the GPUs and the
host, and the state of every data source it reads.

With no subcommand it opens the live dashboard. Keys: q or Ctrl-C quit, ? help (every key),
p pause, Tab or 1-8 focus a pane, z or Enter zoom it, + and - the time window, r a new drift
baseline; a click focuses a pane.
With --remote (other machines' `halo-top serve`) it opens on the fleet view: one row per
machine; Up/Down select, Enter opens a machine's dashboard, f or Esc goes back.

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

    /// A llama-server to watch, e.g. http://127.0.0.1:8080 (repeat for several servers; a router
    /// shows each loaded model). Without it, http://127.0.0.1:8080 is tried quietly.
    #[arg(
        long = "llama",
        value_name = "URL",
        global = true,
        env = "HALO_TOP_LLAMA",
        value_delimiter = ','
    )]
    pub llama: Vec<String>,

    /// The llama-servers' API key (their --api-key), sent as a Bearer token.
    #[arg(
        long,
        value_name = "KEY",
        global = true,
        env = "HALO_TOP_LLAMA_API_KEY",
        hide_env_values = true
    )]
    pub llama_api_key: Option<String>,

    /// Drive load while watching (dashboard, record, soak): none (the default), llama:chat (30
    /// tokens in, 1000 out), llama:code (2048/2048) or llama:summarize (8192/256), against the
    /// first --llama server; or reference, halo-top's own decoder on the CPU (a synthetic
    /// 1.5GB:q8_0 model; reference=SIZE:TYPE or reference=FILE.gguf for another).
    #[arg(long, global = true, env = "HALO_TOP_WORKLOAD")]
    pub workload: Option<Workload>,

    /// Parallel request streams of --workload.
    #[arg(long, global = true, env = "HALO_TOP_CONCURRENCY", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,

    /// Threads of the workload (default: all logical CPUs but one).
    #[arg(long, global = true, env = "HALO_TOP_WORKLOAD_THREADS", value_parser = clap::value_parser!(u16).range(1..))]
    pub workload_threads: Option<u16>,

    /// Prompt tokens the reference workload feeds at the start of each context (one per
    /// step), for a prompt-processing figure beside decode.
    #[arg(long, global = true, env = "HALO_TOP_WORKLOAD_PROMPT", default_value_t = 0)]
    pub workload_prompt: usize,

    /// Positions the reference workload decodes before it starts a new context. Decode slows
    /// as the context fills, so a soak that judges heat wants a short one (e.g. 128): the
    /// sawtooth of a long context hides a drift of a few %.
    #[arg(long, global = true, env = "HALO_TOP_WORKLOAD_CONTEXT", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(16..=131_072))]
    pub workload_context: u32,

    #[command(flatten)]
    pub roofline: RooflineArgs,

    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Other halo-top machines shown beside this one.
#[derive(Debug, Clone, Args)]
pub struct FleetArgs {
    /// Another machine's `halo-top serve`, e.g. http://strix2:9464 (repeatable; in the
    /// environment, separate several with commas). The dashboard then opens on the fleet view.
    #[arg(long = "remote", global = true, env = "HALO_TOP_REMOTE", value_delimiter = ',', value_parser = parse_remote)]
    pub remotes: Vec<String>,

    /// Bearer token for the remotes (their `serve --token`).
    #[arg(long, global = true, env = "HALO_TOP_REMOTE_TOKEN", hide_env_values = true)]
    pub remote_token: Option<String>,
}

/// What the roofline needs to know that the machine does not say.
#[derive(Debug, Clone, Args)]
pub struct RooflineArgs {
    /// The GGUF file of the model being served, for the roofline (bytes read per decode step).
    #[arg(long, global = true, env = "HALO_TOP_MODEL")]
    pub model: Option<PathBuf>,

    /// Peak memory bandwidth in GB/s. Default: known per platform (Strix Halo: 256), else the
    /// config file's peak_bandwidth_gbps.
    #[arg(long, global = true, env = "HALO_TOP_PEAK_BW", value_parser = parse_positive)]
    pub peak_bw: Option<f64>,

    /// KV cache type for keys, as given to llama-server (--cache-type-k), which does not report it.
    #[arg(long, global = true, env = "HALO_TOP_CACHE_TYPE_K", default_value = "f16", value_parser = parse_kv_type)]
    pub cache_type_k: String,

    /// KV cache type for values, as given to llama-server (--cache-type-v).
    #[arg(long, global = true, env = "HALO_TOP_CACHE_TYPE_V", default_value = "f16", value_parser = parse_kv_type)]
    pub cache_type_v: String,

    /// Config file. Default: $XDG_CONFIG_HOME/halo-top/config.toml (or ~/.config/...).
    #[arg(long, global = true, env = "HALO_TOP_CONFIG")]
    pub config: Option<PathBuf>,
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
    /// It decodes the global --model FILE (llama, qwen2, qwen3, qwen3moe) when given without
    /// --synthetic.
    Bench {
        /// A synthetic model made in memory, SIZE:TYPE with TYPE q4_0, q8_0, q4_k or f16 (the
        /// default, 1.5GB:q8_0, when no --model is given).
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
    /// Profile a GGUF model from its header: bytes per decode step and the decode ceiling.
    Model {
        /// The GGUF file (default: --model).
        file: Option<PathBuf>,
        /// Print the profile as JSON, with every tensor.
        #[arg(long, env = "HALO_TOP_JSON")]
        json: bool,
        /// A measured decode rate (tokens/s, one stream) to turn into bandwidth utilisation.
        #[arg(long, env = "HALO_TOP_DECODE_TOK_S", value_parser = parse_positive)]
        decode_tok_s: Option<f64>,
        /// The context length (tokens) at which --decode-tok-s was measured.
        #[arg(long, env = "HALO_TOP_CONTEXT", default_value_t = 512)]
        context: u64,
    },
    /// Measure this machine's memory bandwidth (STREAM-style read and triad, 1..N threads) and
    /// store the best read figure in the config file as the practical ceiling.
    Calibrate {
        /// Size of each of the three arrays, in MiB; keep it far above the caches.
        #[arg(long, env = "HALO_TOP_ARRAY_MIB", default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..))]
        array_mib: u64,
        /// Highest thread count to try (default: every logical CPU).
        #[arg(long, env = "HALO_TOP_MAX_THREADS", value_parser = clap::value_parser!(u64).range(1..))]
        max_threads: Option<u64>,
        /// Runs per kernel and thread count; the best one counts.
        #[arg(long, env = "HALO_TOP_REPS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
        reps: u64,
    },
    /// Measure llama-bench and llama-server configurations (KV types, batch sizes, threads,
    /// depths, parallel slots, speculation) one at a time, place each on the bandwidth roofline,
    /// and write NDJSON results, a table, Pareto fronts and plots. Resumes an interrupted sweep;
    /// --import reads existing llama-bench output; --report renders a results file.
    Sweep(crate::sweep::SweepArgs),
    /// Run the collectors without a dashboard and serve them over HTTP: /metrics (Prometheus),
    /// /snapshot (JSON), /stream (NDJSON, for other halo-top instances' --remote) and /health.
    Serve {
        /// Address to listen on. Loopback by default; give 0.0.0.0:9464 (and a --token) to let
        /// other machines in.
        #[arg(long, env = "HALO_TOP_LISTEN", default_value = "127.0.0.1:9464")]
        listen: std::net::SocketAddr,
        /// Require `Authorization: Bearer TOKEN` on every path but /health. Prefer the
        /// environment variable: a command line is visible to every user of the machine.
        #[arg(long, env = "HALO_TOP_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Connections served at once (each /stream client holds one); more are refused with 503.
        #[arg(long, env = "HALO_TOP_MAX_CONNECTIONS", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
        max_connections: u32,
    },
    /// Run a workload for a set time, log every snapshot, and judge the drift (headless).
    ///
    /// The load is --workload (none by default: watch what already runs; llama:PRESET drives
    /// the first --llama server).
    ///
    /// Prints one progress line a minute to stderr and the verdict at the end: first- and
    /// last-window means after warm-up, the least-squares slope in %/hour with its 95 %
    /// interval, min/max, throttle residency per limiter, snapshots missed. SIGINT and SIGTERM
    /// stop it cleanly (the footer and verdict are written, exit 0); SIGHUP is ignored.
    Soak {
        /// The session file to write (NDJSON; replaced if it exists).
        #[arg(short, long, env = "HALO_TOP_OUTPUT")]
        output: PathBuf,
        /// How long to run, e.g. 60m, 2h, 30s.
        #[arg(long, env = "HALO_TOP_DURATION", default_value = "60m", value_parser = parse_duration)]
        duration: Duration,
        /// The start of the soak that the verdict leaves out (the machine heating up).
        #[arg(long, env = "HALO_TOP_WARMUP", default_value = "2m", value_parser = parse_duration)]
        warmup: Duration,
        /// Exit with status 3 when decode tok/s fell by more than this many % (last window
        /// against first), for unattended runs.
        #[arg(long, env = "HALO_TOP_MAX_DRIFT", value_parser = parse_positive)]
        max_drift: Option<f64>,
        /// Time between progress lines.
        #[arg(long, env = "HALO_TOP_PROGRESS", default_value = "1m", value_parser = parse_interval)]
        progress: Duration,
    },
    /// Write a session's verdict (text and markdown) and its plots (SVG and PNG) to a directory.
    Report {
        /// A session file written by `soak` or `record` (a truncated one too).
        file: PathBuf,
        /// The directory to write to (created if missing). Default: FILE without .ndjson,
        /// plus `-report`.
        #[arg(long, env = "HALO_TOP_REPORT_DIR")]
        out: Option<PathBuf>,
    },
    /// Convert a session to CSV (spreadsheets) or Prometheus text with timestamps (backfill:
    /// `promtool tsdb create-blocks-from openmetrics FILE`).
    Export {
        /// A session file.
        file: PathBuf,
        #[arg(long, env = "HALO_TOP_EXPORT_FORMAT", value_enum)]
        format: crate::export::Format,
        /// Write here instead of stdout.
        #[arg(short, long, env = "HALO_TOP_EXPORT_OUTPUT")]
        output: Option<PathBuf>,
    },
    /// Play a recorded session file in the dashboard.
    Replay {
        /// A session file written by `record`.
        file: PathBuf,
        /// Playback speed: 2 plays twice as fast as recorded.
        #[arg(long, env = "HALO_TOP_SPEED", default_value_t = 1.0, value_parser = parse_speed)]
        speed: f64,
        /// Start this far into the session (its own time), e.g. 90s or 5m.
        #[arg(long, env = "HALO_TOP_FROM", value_parser = parse_duration)]
        from: Option<Duration>,
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

fn parse_positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{text:?} is not a positive number")),
    }
}

fn parse_kv_type(text: &str) -> Result<String, String> {
    let known = halo_collectors::gguf::types::KV_CACHE_TYPES;
    known
        .iter()
        .find(|t| t.eq_ignore_ascii_case(text))
        .map(|t| t.to_string())
        .ok_or_else(|| format!("{text:?} is not a KV cache type ({})", known.join(", ")))
}

fn parse_remote(text: &str) -> Result<String, String> {
    crate::remote::RemoteUrl::parse(text)
        .map(|_| text.trim().to_string())
        .map_err(|e| format!("{e:#}"))
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
        let cli = Cli::try_parse_from([
            "halo-top",
            "--llama",
            "http://a:8080",
            "--llama",
            "http://b:8081",
            "--workload",
            "llama:code",
            "--concurrency",
            "4",
        ])
        .unwrap();
        assert_eq!(cli.global.llama, ["http://a:8080", "http://b:8081"]);
        assert!(cli.global.workload.is_some());
        assert_eq!(cli.global.concurrency, 4);
        assert!(Cli::try_parse_from(["halo-top", "--workload", "llama:poems"]).is_err());
        assert!(Cli::try_parse_from(["halo-top", "--concurrency", "0"]).is_err());
        assert!(
            Cli::try_parse_from(["halo-top", "record", "-o", "f", "--duration", "soon"]).is_err()
        );
        assert!(Cli::try_parse_from(["halo-top", "--peak-bw", "-3"]).is_err());
        assert!(Cli::try_parse_from(["halo-top", "--cache-type-k", "q7_0"]).is_err());
        let cli =
            Cli::try_parse_from(["halo-top", "model", "m.gguf", "--cache-type-v", "Q8_0"]).unwrap();
        assert_eq!(cli.global.roofline.cache_type_v, "q8_0");
    }
}
