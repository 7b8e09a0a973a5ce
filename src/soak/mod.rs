//! `halo-top soak`: run a workload for a set time, log every snapshot, judge the drift.
//!
//! Headless: no terminal is needed (nohup, systemd), a closed terminal (SIGHUP) does not stop it,
//! and the progress lines go to stderr, a failed write to which is ignored. SIGINT and SIGTERM
//! stop the workload, write the footer with the verdict, and exit 0. After `kill -9` the file
//! lacks only its footer (and at most the line being written); `report` recomputes the verdict
//! from the snapshots, with the warm-up the header records.

pub mod fit;
pub mod metrics;
pub mod summary;
pub mod verdict;
pub mod workload;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use halo_collectors::Snapshot;

use crate::cli::Global;
use crate::record::{self, Observer};
use crate::session::{Footer, SoakPlan};
use crate::{hub, sources};
use summary::{opt_pct, pct, value};
use verdict::Tracker;

/// Exit status when decode drifted further than `--max-drift`.
pub const EXIT_DRIFT: u8 = 3;

#[derive(Debug, Clone)]
pub struct SoakArgs {
    pub output: PathBuf,
    pub duration: Duration,
    pub warmup: Duration,
    pub max_drift_percent: Option<f64>,
    pub progress_every: Duration,
}

pub async fn run(global: &Global, args: SoakArgs) -> Result<ExitCode> {
    let mut sources = sources::build(global)?;
    let running = workload::start(global);
    sources.extend(running.sources());
    let workload_name = workload::Running::name(global);
    let mut header =
        crate::commands::header(global, sources.iter().map(|s| s.name()).collect(), "soak");
    header.soak = Some(SoakPlan {
        duration_ms: ms(args.duration),
        warmup_ms: ms(args.warmup),
        workload: workload_name.clone(),
        max_drift_percent: args.max_drift_percent,
    });
    let (feed, _hub) = hub::start(sources, global.interval);
    say(&format!(
        "halo-top: soak of {} with workload {} (warm-up {}), writing {}",
        summary::duration(args.duration.as_secs_f64()),
        workload_name,
        summary::duration(args.warmup.as_secs_f64()),
        args.output.display()
    ));
    let mut watch = SoakWatch {
        tracker: Tracker::new(args.warmup.as_secs_f64()),
        planned_s: args.duration.as_secs_f64(),
        progress_every: args.progress_every,
        running,
    };
    let footer =
        record::record_with(&feed, header, &args.output, Some(args.duration), &mut watch).await?;
    let verdict = footer.verdict.clone().unwrap_or_default();
    let _ = write!(std::io::stdout(), "{}", summary::text(&verdict));
    say(&format!(
        "halo-top: wrote {} snapshots to {} (stopped by {})",
        footer.snapshots,
        args.output.display(),
        footer.stop_reason.as_deref().unwrap_or("?")
    ));
    Ok(judge_exit(verdict.decode_drift_percent(), args.max_drift_percent))
}

/// `--max-drift`: exit 3 when decode fell by more than the limit; a check that could not be
/// made (no decode rate in the session) fails (1) rather than passing unseen.
pub fn judge_exit(drift: Option<f64>, max_drift: Option<f64>) -> ExitCode {
    let (code, line) = drift_check(drift, max_drift);
    if let Some(line) = line {
        say(&line);
    }
    ExitCode::from(code)
}

fn drift_check(drift: Option<f64>, max_drift: Option<f64>) -> (u8, Option<String>) {
    let Some(limit) = max_drift else { return (0, None) };
    match drift {
        Some(d) if d < -limit => (
            EXIT_DRIFT,
            Some(format!(
                "halo-top: decode drift {} % is worse than --max-drift {limit} %",
                pct(d)
            )),
        ),
        Some(d) => (
            0,
            Some(format!("halo-top: decode drift {} % is within --max-drift {limit} %", pct(d))),
        ),
        None => (
            1,
            Some("halo-top: --max-drift cannot be checked: no decode tok/s after warm-up".into()),
        ),
    }
}

struct SoakWatch {
    tracker: Tracker,
    planned_s: f64,
    progress_every: Duration,
    running: workload::Running,
}

impl Observer for SoakWatch {
    fn snapshot(&mut self, snapshot: &Snapshot) {
        self.tracker.push(snapshot);
    }

    fn tick_every(&self) -> Option<Duration> {
        Some(self.progress_every)
    }

    fn tick(&mut self) {
        say(&progress_line(&self.tracker, self.planned_s));
    }

    fn stops_on_hangup(&self) -> bool {
        false
    }

    fn finish(&mut self, footer: &mut Footer) {
        if let Some(report) = self.running.stop() {
            say(&format!("halo-top: workload: {report}"));
        }
        footer.verdict = Some(self.tracker.verdict());
    }
}

/// One line of progress: elapsed, decode rate, temperatures, power, drift so far.
pub fn progress_line(tracker: &Tracker, planned_s: f64) -> String {
    let v = tracker.verdict();
    let last = |key: &str| tracker.get(key).and_then(|s| s.last_value);
    let mut parts = vec![format!(
        "soak {}/{}",
        summary::duration(tracker.elapsed_s()),
        summary::duration(planned_s)
    )];
    parts.push(format!("decode {} tok/s", value(last(metrics::DECODE), "tok/s")));
    for kind in [metrics::Kind::Temperature, metrics::Kind::Power] {
        for s in tracker.series().filter(|s| s.kind == kind) {
            let name = s.key.split_once('.').map_or(s.key.as_str(), |(_, dev)| dev);
            parts.push(format!("{name} {} {}", value(last(&s.key), s.unit), s.unit));
        }
    }
    match v.metric(metrics::DECODE) {
        Some(m) if m.samples > 0 => parts.push(format!(
            "drift {} ({} %/h)",
            opt_pct(m.drift_percent),
            m.slope_percent_per_hour.map_or("n/a".into(), pct)
        )),
        _ if tracker.elapsed_s() < v.warmup_s => parts.push("warming up".into()),
        _ => parts.push("drift n/a".into()),
    }
    parts.push(format!("{} missed", v.missed_snapshots));
    parts.join(", ")
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A line to stderr. Headless runs may have lost their terminal: a failed write is not fatal.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_drift_decides_the_exit_status() {
        assert_eq!(drift_check(Some(-5.0), None).0, 0);
        assert_eq!(
            drift_check(Some(-0.08), Some(0.05)),
            (3, Some("halo-top: decode drift -0.080 % is worse than --max-drift 0.05 %".into()))
        );
        assert_eq!(drift_check(Some(-0.04), Some(0.05)).0, 0);
        assert_eq!(drift_check(Some(2.0), Some(0.05)).0, 0, "faster is not worse");
        assert_eq!(drift_check(None, Some(1.0)).0, 1);
    }
}
