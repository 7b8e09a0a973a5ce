//! The host collector: CPU, memory, load, temperatures and processes of the machine, read from
//! procfs and sysfs under configurable roots, plus halo-top's own CPU time and RSS.
//!
//! CPU percentages need two readings of the jiffy counters. Those counters (per CPU and per
//! process) are too bulky to store in every snapshot, so this collector keeps the previous
//! reading itself and reports percentages; the first sample reports them as `None`.

mod hwmon;
mod own;
mod processes;
pub mod procfs;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::model::{CpuReading, HostSection, MemoryReading, ProcessReading, Section};
use crate::source::{Source, SourceError};
use crate::sysfs::{read_text, read_trimmed};

pub use processes::ProcessTable;

#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Stands for `/sys`.
    pub sysfs_root: PathBuf,
    /// Stands for `/proc`.
    pub procfs_root: PathBuf,
    /// How many processes each top list (by CPU, by RSS) keeps.
    pub top_processes: usize,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self { sysfs_root: "/sys".into(), procfs_root: "/proc".into(), top_processes: 8 }
    }
}

/// Scanning every process is the costliest read (the kernel formats each `/proc/PID/stat`,
/// ~10 µs apiece), so the process list is refreshed at most this often, as `top` (3 s) does.
const PROCESS_SCAN_EVERY: Duration = Duration::from_secs(2);

/// Host name, kernel and CPU model rarely change; they are read again this often.
const IDENTITY_EVERY: Duration = Duration::from_secs(60);

pub struct HostCollector {
    config: HostConfig,
    previous_cpu: Option<(procfs::CpuTimes, Vec<procfs::CpuTimes>)>,
    processes: ProcessTable,
    top_processes: Vec<ProcessReading>,
    processes_at: Option<Instant>,
    identity: Identity,
    identity_at: Option<Instant>,
    own: own::OwnUsage,
    sensors: hwmon::SensorFiles,
}

#[derive(Default)]
struct Identity {
    host_name: Option<String>,
    os_name: Option<String>,
    kernel_release: Option<String>,
    cpu_model: Option<String>,
}

impl HostCollector {
    pub fn new(config: HostConfig) -> Self {
        Self {
            processes: ProcessTable::new(config.top_processes),
            top_processes: Vec::new(),
            processes_at: None,
            identity: Identity::default(),
            identity_at: None,
            own: own::OwnUsage::new(),
            sensors: hwmon::SensorFiles::new(config.sysfs_root.clone()),
            previous_cpu: None,
            config,
        }
    }

    fn proc(&self, rel: &str) -> PathBuf {
        self.config.procfs_root.join(rel)
    }

    fn cpu(&mut self) -> Result<CpuReading, SourceError> {
        let text = read_text(&self.proc("stat")).map_err(|e| SourceError::Failed(e.to_string()))?;
        let (total, per_cpu) = procfs::parse_stat(&text);
        let total = total.ok_or_else(|| {
            SourceError::Failed(format!("{}: no aggregate cpu line", self.proc("stat").display()))
        })?;
        let mut reading = CpuReading {
            logical_cpus: u32::try_from(per_cpu.len()).ok(),
            freq_mhz: self.sensors.cpu_freqs_mhz(),
            ..CpuReading::default()
        };
        if let Some((prev_total, prev_per_cpu)) = &self.previous_cpu {
            reading.total_percent = total.percent_since(prev_total);
            reading.per_core_percent = per_cpu
                .iter()
                .enumerate()
                .map(|(i, now)| prev_per_cpu.get(i).and_then(|prev| now.percent_since(prev)))
                .collect();
        } else {
            reading.per_core_percent = vec![None; per_cpu.len()];
        }
        self.previous_cpu = Some((total, per_cpu));
        Ok(reading)
    }

    fn memory(&self) -> MemoryReading {
        let Ok(text) = read_text(&self.proc("meminfo")) else { return MemoryReading::default() };
        let total = procfs::meminfo_bytes(&text, "MemTotal");
        let available = procfs::meminfo_bytes(&text, "MemAvailable");
        let swap_total = procfs::meminfo_bytes(&text, "SwapTotal");
        let swap_free = procfs::meminfo_bytes(&text, "SwapFree");
        MemoryReading {
            total_bytes: total,
            available_bytes: available,
            used_bytes: total.zip(available).map(|(t, a)| t.saturating_sub(a)),
            swap_total_bytes: swap_total,
            swap_used_bytes: swap_total.zip(swap_free).map(|(t, f)| t.saturating_sub(f)),
        }
    }

    fn refresh_identity(&mut self, now: Instant) {
        if self.identity_at.is_some_and(|t| now.duration_since(t) < IDENTITY_EVERY) {
            return;
        }
        self.identity = Identity {
            host_name: read_trimmed(&self.proc("sys/kernel/hostname")).ok(),
            // From /etc/os-release, which has no procfs or sysfs root.
            os_name: sysinfo::System::long_os_version().ok(),
            kernel_release: read_trimmed(&self.proc("sys/kernel/osrelease")).ok(),
            cpu_model: read_text(&self.proc("cpuinfo")).ok().as_deref().and_then(procfs::cpu_model),
        };
        self.identity_at = Some(now);
    }

    fn refresh_processes(&mut self, now: Instant) {
        if self.processes_at.is_some_and(|t| now.duration_since(t) < PROCESS_SCAN_EVERY) {
            return;
        }
        self.top_processes = self.processes.sample(&self.config.procfs_root, now);
        self.processes_at = Some(now);
    }

    /// Reads everything once.
    pub fn read(&mut self) -> Result<HostSection, SourceError> {
        let now = Instant::now();
        self.sensors.refresh(now);
        let cpu = self.cpu()?;
        self.refresh_identity(now);
        self.refresh_processes(now);
        let temperatures = self.sensors.temperatures();
        let read_opt = |rel: &str| read_text(&self.proc(rel)).ok();
        let identity = &self.identity;
        Ok(HostSection {
            host_name: identity.host_name.clone(),
            os_name: identity.os_name.clone(),
            kernel_release: identity.kernel_release.clone(),
            cpu_model: identity.cpu_model.clone(),
            uptime_s: read_opt("uptime").as_deref().and_then(procfs::parse_uptime),
            load_average: read_opt("loadavg").as_deref().and_then(procfs::parse_loadavg),
            memory: self.memory(),
            tctl_c: hwmon::tctl_c(&temperatures),
            temperatures,
            top_processes: self.top_processes.clone(),
            cpu,
            own_process: self.own.read(),
        })
    }
}

impl Source for HostCollector {
    fn name(&self) -> String {
        "host".into()
    }

    fn sample(&mut self) -> Result<Section, SourceError> {
        self.read().map(|host| Section::Host(Box::new(host)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    use crate::amdgpu::testing::write;

    fn collector(root: &Path) -> HostCollector {
        HostCollector::new(HostConfig {
            sysfs_root: root.join("sys"),
            procfs_root: root.join("proc"),
            top_processes: 2,
        })
    }

    #[test]
    fn reads_a_fixture_tree_and_computes_cpu_between_samples() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "proc/stat",
            "cpu  100 0 0 900 0 0 0 0\ncpu0 50 0 0 450 0 0 0 0\ncpu1 50 0 0 450 0 0 0 0\n",
        );
        write(
            root,
            "proc/meminfo",
            "MemTotal: 1000 kB\nMemAvailable: 250 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
        );
        write(root, "proc/loadavg", "1.00 0.50 0.25 1/100 42\n");
        write(root, "proc/sys/kernel/hostname", "strix\n");
        write(
            root,
            "proc/42/stat",
            "42 (llama-server) R 1 1 1 0 -1 0 0 0 0 0 100 0 0 0 20 0 1 0 500 0 1000 0",
        );
        let mut host = collector(root);

        let first = host.read().unwrap();
        assert_eq!(first.host_name.as_deref(), Some("strix"));
        assert_eq!(first.cpu.total_percent, None, "one reading gives no rate");
        assert_eq!(first.cpu.per_core_percent, [None, None]);
        assert_eq!(first.memory.used_bytes, Some(750 * 1024));
        assert_eq!(first.memory.swap_used_bytes, Some(0), "0 swap used is a real reading");
        assert_eq!(first.uptime_s, None, "missing file is unknown, not 0");
        assert_eq!(first.top_processes.len(), 1);
        assert_eq!(first.top_processes[0].cpu_percent, None);

        write(
            root,
            "proc/stat",
            "cpu  200 0 0 1000 0 0 0 0\ncpu0 150 0 0 450 0 0 0 0\ncpu1 50 0 0 550 0 0 0 0\n",
        );
        let second = host.read().unwrap();
        assert_eq!(second.cpu.total_percent, Some(50.0));
        assert_eq!(second.cpu.per_core_percent, [Some(100.0), Some(0.0)]);
    }

    #[test]
    fn missing_procfs_is_a_failure_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = collector(dir.path()).read().unwrap_err();
        let SourceError::Failed(msg) = err else { panic!("expected Failed, got {err:?}") };
        assert!(msg.contains("proc/stat"), "{msg}");
    }
}
