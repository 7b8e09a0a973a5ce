//! The NVIDIA collector, through NVML (loaded at run time: no driver is a status, not a crash).
//!
//! Waking a sleeping GPU: on Linux a GPU under runtime power management (laptops, some
//! desktops) sits in D3cold while idle, and any NVML call on it wakes it for seconds, burning
//! power and defeating the point of sleeping. So before touching NVML for a device we read its
//! `power/runtime_status` in sysfs (a plain file read, which does not wake it): a `suspended`
//! device is listed from what we already know and not queried; while every NVIDIA GPU is
//! suspended NVML is not even initialised. Static facts (name, UUID, maximum clocks,
//! temperature thresholds) are read once per device, which keeps the calls per sample down.

mod mapping;
mod query;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nvml_wrapper::Nvml;
use nvml_wrapper::error::NvmlError;

use crate::model::{NvidiaDevice, NvidiaSection, Section};
use crate::source::{Source, SourceError};
use crate::sysfs::{list_dir, read_trimmed};
use query::{SlowReadings, Statics};

pub use mapping::{field, throttle_names};

/// The driver's library (nvml-wrapper's default name), then the development link name some
/// distributions ship instead.
pub const LIBRARIES: [&str; 2] = ["libnvidia-ml.so.1", "libnvidia-ml.so"];

/// How long to wait before trying to load NVML again after it failed.
const RETRY_INIT_EVERY: Duration = Duration::from_secs(60);

/// How often the costly readings (PCIe throughput, per-process utilisation) are refreshed.
const SLOW_EVERY: Duration = Duration::from_secs(5);

pub struct NvidiaConfig {
    pub sysfs_root: PathBuf,
    pub procfs_root: PathBuf,
    /// NVML libraries to try, in order (normally [`LIBRARIES`]).
    pub libraries: Vec<String>,
}

pub struct NvidiaCollector {
    config: NvidiaConfig,
    nvml: Option<Nvml>,
    last_init_failure: Option<(Instant, SourceError)>,
    statics: HashMap<String, Statics>,
    /// Per device (by UUID or index): the costly readings and when they were taken.
    slow: HashMap<String, (Option<Instant>, SlowReadings)>,
}

/// An NVIDIA display or 3D controller as sysfs lists it.
struct PciGpu {
    bus_id: String,
    runtime_status: Option<String>,
}

impl NvidiaCollector {
    pub fn new(config: NvidiaConfig) -> Self {
        Self {
            config,
            nvml: None,
            last_init_failure: None,
            statics: HashMap::new(),
            slow: HashMap::new(),
        }
    }

    /// NVIDIA GPUs in sysfs (vendor 0x10de, PCI class 0x03xxxx), without touching the driver.
    fn pci_gpus(&self) -> Vec<PciGpu> {
        let dir = self.config.sysfs_root.join("bus/pci/devices");
        let Ok(devices) = list_dir(&dir, |_| true) else { return Vec::new() };
        devices
            .into_iter()
            .filter(|(_, path)| {
                read_trimmed(&path.join("vendor")).is_ok_and(|v| v == "0x10de")
                    && read_trimmed(&path.join("class")).is_ok_and(|c| c.starts_with("0x03"))
            })
            .map(|(bus_id, path)| PciGpu {
                runtime_status: read_trimmed(&path.join("power/runtime_status")).ok(),
                bus_id: bus_id.to_ascii_lowercase(),
            })
            .collect()
    }

    fn nvml(&mut self) -> Result<&Nvml, SourceError> {
        if self.nvml.is_none() {
            if let Some((at, error)) = &self.last_init_failure
                && at.elapsed() < RETRY_INIT_EVERY
            {
                return Err(error.clone());
            }
            let mut errors = Vec::new();
            for library in &self.config.libraries {
                match Nvml::builder().lib_path(library.as_ref()).init() {
                    Ok(nvml) => {
                        self.nvml = Some(nvml);
                        break;
                    }
                    Err(e) => errors.push((library.as_str(), e)),
                }
            }
            if self.nvml.is_none() {
                let error = mapping::init_errors(&errors);
                self.last_init_failure = Some((Instant::now(), error.clone()));
                return Err(error);
            }
        }
        self.nvml.as_ref().ok_or_else(|| SourceError::Failed("NVML did not initialise".into()))
    }

    pub fn read(&mut self) -> Result<NvidiaSection, SourceError> {
        let pci = self.pci_gpus();
        let suspended = |g: &PciGpu| g.runtime_status.as_deref() == Some("suspended");
        if !pci.is_empty() && self.nvml.is_none() && pci.iter().all(suspended) {
            let devices = pci
                .iter()
                .enumerate()
                .map(|(i, g)| NvidiaDevice {
                    index: i as u32,
                    pci_bus_id: Some(g.bus_id.clone()),
                    runtime_status: g.runtime_status.clone(),
                    ..NvidiaDevice::default()
                })
                .collect();
            return Ok(NvidiaSection { devices, ..NvidiaSection::default() });
        }
        let procfs_root = self.config.procfs_root.clone();
        let nvml_fail = |what: &str, e: NvmlError| SourceError::Failed(format!("NVML {what}: {e}"));
        self.nvml()?;
        let Self { nvml, statics, slow, .. } = self;
        let Some(nvml) = nvml.as_ref() else {
            return Err(SourceError::Failed("NVML is not loaded".into()));
        };
        let count = nvml.device_count().map_err(|e| nvml_fail("device count", e))?;
        if count == 0 {
            return Err(SourceError::Unavailable("NVML loaded but reports no NVIDIA GPU".into()));
        }
        let status_of =
            |bus: &str| pci.iter().find(|g| g.bus_id == bus).and_then(|g| g.runtime_status.clone());
        let mut devices = Vec::new();
        for index in 0..count {
            let device = nvml.device_by_index(index).map_err(|e| nvml_fail("device handle", e))?;
            let key = field(device.uuid()).ok().flatten().unwrap_or_else(|| index.to_string());
            if !statics.contains_key(&key) {
                let s =
                    Statics::read(&device).map_err(|e| nvml_fail(&format!("device {index}"), e))?;
                statics.insert(key.clone(), s);
            }
            let Some(st) = statics.get(&key) else { continue };
            let runtime_status = st.pci_bus_id.as_deref().and_then(status_of);
            if runtime_status.as_deref() == Some("suspended") {
                devices.push(st.asleep(index, "suspended"));
                continue;
            }
            let (read_at, readings) = slow.entry(key).or_default();
            if read_at.is_none_or(|t| t.elapsed() >= SLOW_EVERY) {
                readings.refresh(&device).map_err(|e| nvml_fail(&format!("device {index}"), e))?;
                *read_at = Some(Instant::now());
            }
            let reading =
                query::read_device(&device, index, st, runtime_status, &procfs_root, readings)
                    .map_err(|e| nvml_fail(&format!("device {index}"), e))?;
            devices.push(reading);
        }
        let cuda =
            nvml.sys_cuda_driver_version().ok().map(|v| format!("{}.{}", v / 1000, v % 1000 / 10));
        Ok(NvidiaSection {
            driver_version: nvml.sys_driver_version().ok(),
            cuda_driver_version: cuda,
            devices,
        })
    }
}

impl Source for NvidiaCollector {
    fn name(&self) -> String {
        "nvidia".into()
    }

    fn sample(&mut self) -> Result<Section, SourceError> {
        self.read().map(|s| Section::Nvidia(Box::new(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(root: &std::path::Path, rel: &str, text: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn sleeping_gpus_are_listed_without_loading_nvml() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "bus/pci/devices/0000:01:00.0/vendor", "0x10de\n");
        write(root, "bus/pci/devices/0000:01:00.0/class", "0x030000\n");
        write(root, "bus/pci/devices/0000:01:00.0/power/runtime_status", "suspended\n");
        write(root, "bus/pci/devices/0000:01:00.1/vendor", "0x10de\n"); // its HDMI audio function
        write(root, "bus/pci/devices/0000:01:00.1/class", "0x040300\n");
        write(root, "bus/pci/devices/0000:c5:00.0/vendor", "0x1002\n");
        write(root, "bus/pci/devices/0000:c5:00.0/class", "0x038000\n");
        let libraries = LIBRARIES.iter().map(|l| l.to_string()).collect();
        let mut nvidia = NvidiaCollector::new(NvidiaConfig {
            sysfs_root: root.into(),
            procfs_root: root.into(),
            libraries,
        });
        let section = nvidia.read().unwrap();
        assert!(nvidia.nvml.is_none(), "NVML must not be loaded while every GPU sleeps");
        assert_eq!(section.devices.len(), 1);
        let gpu = &section.devices[0];
        assert_eq!(gpu.pci_bus_id.as_deref(), Some("0000:01:00.0"));
        assert_eq!(gpu.runtime_status.as_deref(), Some("suspended"));
        assert_eq!(gpu.power_w, None, "not read, so unknown");
    }

    #[test]
    fn no_driver_is_unavailable_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let mut nvidia = NvidiaCollector::new(NvidiaConfig {
            sysfs_root: dir.path().into(),
            procfs_root: dir.path().into(),
            libraries: vec!["libnvidia-ml-absent.so.1".into()],
        });
        match nvidia.read() {
            Err(SourceError::Unavailable(reason)) => {
                assert!(reason.contains("NVML library not found"), "{reason}")
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
        // The failure is remembered: the next sample does not try to load the library again.
        let at = nvidia.last_init_failure.as_ref().map(|(t, _)| *t);
        assert!(matches!(nvidia.read(), Err(SourceError::Unavailable(_))));
        assert_eq!(nvidia.last_init_failure.as_ref().map(|(t, _)| *t), at);
    }
}
