//! The AMD GPU collector (source `amdgpu`): sysfs text attributes, the binary `gpu_metrics`
//! table, the card's hwmon chip, and per-process use from `/proc/PID/fdinfo`.
//!
//! Everything is read under a sysfs root and a procfs root, so the same code reads a real
//! machine and the fixture trees under `fixtures/`. Per sample: `power/runtime_status` first (a
//! runtime-suspended dGPU is left asleep), then the memory pools, busy %, `gpu_metrics` once,
//! hwmon, and the fdinfo of known GPU clients. Every few seconds: discovery and the files that
//! rarely change (`pp_dpm_*` levels, performance level). Data sources: the project's amdgpu spec.

pub mod budget;
pub mod discover;
pub(crate) mod fdinfo;
pub(crate) mod hwmon;
pub mod metrics;
mod processes;
pub(crate) mod text;

#[cfg(any(test, feature = "test-support"))]
pub mod testing;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::model::{
    AmdgpuCard, AmdgpuSection, DpmClocks, GpuKind, GpuMetrics, GpuProcesses, Section,
};
use crate::source::{Source, SourceError};

use budget::HostMemory;
use discover::Card;
use processes::ProcessScanner;
use text::{Problems, read_small, read_small_text, read_word};

#[derive(Debug, Clone)]
pub struct AmdgpuConfig {
    /// Stands for `/sys`.
    pub sysfs_root: PathBuf,
    /// Stands for `/proc`.
    pub procfs_root: PathBuf,
}

impl Default for AmdgpuConfig {
    fn default() -> Self {
        Self { sysfs_root: "/sys".into(), procfs_root: "/proc".into() }
    }
}

/// Discovery and the slowly changing files are refreshed this often.
const SLOW_EVERY: Duration = Duration::from_secs(10);

pub struct AmdgpuCollector {
    config: AmdgpuConfig,
    cards: Vec<(Card, SlowReadings)>,
    slow_at: Option<Instant>,
    processes: ProcessScanner,
}

/// What is read at discovery time and every `SLOW_EVERY`.
#[derive(Debug, Clone, Default)]
struct SlowReadings {
    clocks: DpmClocks,
    performance_level: Option<String>,
    ttm_limit_bytes: Option<u64>,
    problems: Vec<String>,
}

impl AmdgpuCollector {
    pub fn new(config: AmdgpuConfig) -> Self {
        Self { config, cards: Vec::new(), slow_at: None, processes: ProcessScanner::default() }
    }

    /// Reads every card once.
    pub fn read(&mut self) -> Result<AmdgpuSection, SourceError> {
        let now = Instant::now();
        if self.cards.is_empty() || self.slow_at.is_none_or(|t| now.duration_since(t) >= SLOW_EVERY)
        {
            self.cards = discover::discover(&self.config.sysfs_root)?
                .into_iter()
                .map(|card| {
                    let slow = slow_readings(&card, &self.config.sysfs_root);
                    (card, slow)
                })
                .collect();
            self.slow_at = Some(now);
        }
        if self.cards.is_empty() {
            let class = self.config.sysfs_root.join("class/drm");
            return Err(SourceError::Unavailable(format!(
                "no amdgpu card under {}",
                class.display()
            )));
        }
        let cards: Vec<Card> = self.cards.iter().map(|(card, _)| card.clone()).collect();
        let processes =
            self.processes.sample(&self.config.procfs_root, &self.config.sysfs_root, &cards, now);
        let host = read_small_text(&self.config.procfs_root.join("meminfo"))
            .map(|t| budget::parse_meminfo(&t))
            .unwrap_or_default();
        let cards =
            self.cards.iter().map(|(card, slow)| read_card(card, slow, &processes, host)).collect();
        Ok(AmdgpuSection { cards, processes })
    }
}

impl Source for AmdgpuCollector {
    fn name(&self) -> String {
        "amdgpu".into()
    }

    fn sample(&mut self) -> Result<Section, SourceError> {
        self.read().map(|s| Section::Amdgpu(Box::new(s)))
    }
}

fn is_asleep(runtime_status: Option<&str>) -> bool {
    // `suspending` too: the device is on its way down and a read would bring it back up.
    matches!(runtime_status, Some("suspended" | "suspending"))
}

fn slow_readings(card: &Card, sysfs_root: &Path) -> SlowReadings {
    let mut slow = SlowReadings::default();
    if is_asleep(hwmon::runtime_status(&card.device_dir).ok().as_deref()) {
        return slow;
    }
    let mut problems = Problems(&mut slow.problems);
    slow.ttm_limit_bytes = text::ttm_limit_bytes(sysfs_root, &mut problems);
    slow.clocks = text::dpm_clocks(&card.device_dir, &mut problems);
    slow.performance_level =
        problems.keep(read_word(&card.device_dir.join("power_dpm_force_performance_level")));
    slow
}

fn read_card(
    card: &Card,
    slow: &SlowReadings,
    processes: &GpuProcesses,
    host: HostMemory,
) -> AmdgpuCard {
    let mut all_problems = card.problems.clone();
    let mut problems = Problems(&mut all_problems);
    let dev = &card.device_dir;
    let runtime_status = problems.keep(hwmon::runtime_status(dev));
    let mut out = AmdgpuCard {
        card: card.name.clone(),
        identity: card.identity.clone(),
        asleep: is_asleep(runtime_status.as_deref()),
        runtime_status,
        ..AmdgpuCard::default()
    };
    if out.asleep {
        // Any amdgpu_pm read would resume the device (or fail with EPERM): leave it be.
        out.problems = all_problems;
        return out;
    }
    problems.0.extend(slow.problems.iter().cloned());
    out.memory = text::memory(dev, slow.ttm_limit_bytes, &mut problems);
    out.gpu_busy_percent = text::busy_percent(&dev.join("gpu_busy_percent"), &mut problems);
    out.vcn_busy_percent = text::busy_percent(&dev.join("vcn_busy_percent"), &mut problems);
    out.mem_busy_percent = text::busy_percent(&dev.join("mem_busy_percent"), &mut problems);
    out.performance_level = slow.performance_level.clone();
    out.clocks = slow.clocks.clone();
    out.metrics = read_metrics(&dev.join("gpu_metrics"), &mut problems);
    // gpu_metrics v2/v3 exist only on APUs, v1 only on dGPUs; the id table is the fallback.
    out.identity.kind = match out.metrics.as_ref().map(|m| m.format_revision) {
        Some(2 | 3) => Some(GpuKind::Apu),
        Some(1) => Some(GpuKind::Dgpu),
        _ => card.identity.kind,
    };
    let smu14 = discover::is_smu14_apu(&card.identity)
        || out.metrics.as_ref().is_some_and(|m| m.format_revision == 3);
    if let Some(dir) = &card.hwmon_dir {
        out.hwmon = hwmon::read(dir, smu14, &mut problems);
    }
    if out.identity.kind == Some(GpuKind::Apu) {
        let mine: Vec<_> =
            processes.clients.iter().filter(|p| p.card.as_deref() == Some(&card.name)).collect();
        out.unified_memory = Some(budget::unified_memory(&out.memory, host, &mine));
    }
    out.problems = all_problems;
    out
}

/// Reads and decodes `gpu_metrics`; any problem is noted with the file's name.
fn read_metrics(path: &Path, problems: &mut Problems) -> Option<GpuMetrics> {
    let bytes = problems.keep(read_small(path))?;
    match metrics::decode(&bytes) {
        Ok(decoded) => {
            let size = metrics::layout::find(decoded.format_revision, decoded.content_revision)
                .map_or(bytes.len(), |l| l.size);
            if bytes.len() > size {
                problems.push(format!(
                    "{}: {} bytes, {} more than v{}_{} has: the extra bytes were ignored",
                    path.display(),
                    bytes.len(),
                    bytes.len() - size,
                    decoded.format_revision,
                    decoded.content_revision
                ));
            }
            Some(decoded)
        }
        Err(e) => {
            problems.push(format!("{}: {e}", path.display()));
            None
        }
    }
}
