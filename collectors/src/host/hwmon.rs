//! hwmon temperature sensors and cpufreq, read under a sysfs root.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::model::TemperatureSensor;
use crate::sysfs::{list_dir, natural_cmp, read_i64, read_trimmed, read_u64};

/// How often the sensor files are listed again. Listing is most of a host sample's cost: every
/// directory opened takes a 32 KiB buffer (glibc's `opendir`) and an allocation or two per
/// entry, for the ~8 directories behind a temperature and clock reading; the files themselves
/// change only when a driver loads or a CPU is hot-plugged.
const LIST_EVERY: Duration = Duration::from_secs(30);

/// The hwmon temperature inputs and cpufreq files under a sysfs root, listed every
/// `LIST_EVERY`, and at once when a listed file has vanished.
pub struct SensorFiles {
    sysfs_root: PathBuf,
    temperatures: Vec<TemperatureInput>,
    cpu_freqs: Vec<PathBuf>,
    listed_at: Option<Instant>,
}

struct TemperatureInput {
    chip: String,
    label: String,
    path: PathBuf,
}

impl SensorFiles {
    pub fn new(sysfs_root: PathBuf) -> Self {
        Self { sysfs_root, temperatures: Vec::new(), cpu_freqs: Vec::new(), listed_at: None }
    }

    /// Lists the files again when the listing is older than `LIST_EVERY` (or was dropped).
    pub fn refresh(&mut self, now: Instant) {
        if self.listed_at.is_some_and(|t| now.duration_since(t) < LIST_EVERY) {
            return;
        }
        self.temperatures = list_temperatures(&self.sysfs_root);
        self.cpu_freqs = list_cpu_freqs(&self.sysfs_root);
        self.listed_at = Some(now);
    }

    /// Every listed `tempN_input`, labelled. hwmon reports millidegrees Celsius. A sensor whose
    /// read fails (some return EIO or ENODATA while the device sleeps) is left out rather than
    /// shown as 0.
    pub fn temperatures(&mut self) -> Vec<TemperatureSensor> {
        let mut sensors = Vec::with_capacity(self.temperatures.len());
        for input in &self.temperatures {
            match read_i64(&input.path) {
                Ok(milli_c) => sensors.push(TemperatureSensor {
                    chip: input.chip.clone(),
                    label: input.label.clone(),
                    temp_c: milli_c as f64 / 1000.0,
                }),
                Err(e) if e.is_not_found() => self.listed_at = None,
                Err(_) => {}
            }
        }
        sensors
    }

    /// `scaling_cur_freq` (kHz) of each listed `cpuN`, in MHz, in CPU order. `cpuinfo_cur_freq`
    /// would be the hardware's figure but it is readable by root only.
    pub fn cpu_freqs_mhz(&self) -> Vec<Option<f64>> {
        let read = |path: &PathBuf| read_u64(path).ok().map(|khz| khz as f64 / 1000.0);
        self.cpu_freqs.iter().map(read).collect()
    }
}

fn list_temperatures(sysfs_root: &Path) -> Vec<TemperatureInput> {
    let Ok(chips) = list_dir(&sysfs_root.join("class/hwmon"), |n| n.starts_with("hwmon")) else {
        return Vec::new();
    };
    let mut inputs = Vec::new();
    for (_, chip_dir) in chips {
        let chip = read_trimmed(&chip_dir.join("name")).unwrap_or_else(|_| "unknown".into());
        let Ok(mut files) = list_dir(&chip_dir, |n| n.starts_with("temp") && n.ends_with("_input"))
        else {
            continue;
        };
        files.sort_by(|a, b| {
            natural_cmp(a.0.trim_end_matches("_input"), b.0.trim_end_matches("_input"))
        });
        for (file, path) in files {
            let stem = file.trim_end_matches("_input");
            let label = read_trimmed(&chip_dir.join(format!("{stem}_label")))
                .ok()
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| stem.to_string());
            inputs.push(TemperatureInput { chip: chip.clone(), label, path });
        }
    }
    inputs
}

/// AMD's Tctl from k10temp. On Zen 5 (Strix Halo) k10temp offers only Tctl; kernels before the
/// Aug 2025 k10temp update have no k10temp hwmon on Strix Halo at all (spec §6), hence `None`.
pub fn tctl_c(sensors: &[TemperatureSensor]) -> Option<f64> {
    sensors.iter().find(|s| s.chip == "k10temp" && s.label == "Tctl").map(|s| s.temp_c)
}

fn list_cpu_freqs(sysfs_root: &Path) -> Vec<PathBuf> {
    let is_cpu = |n: &str| {
        n.strip_prefix("cpu")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    };
    let Ok(cpus) = list_dir(&sysfs_root.join("devices/system/cpu"), is_cpu) else {
        return Vec::new();
    };
    cpus.into_iter().map(|(_, path)| path.join("cpufreq/scaling_cur_freq")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    use crate::amdgpu::testing::write;

    /// The sensor files under `root`, listed now.
    fn listed(root: &Path) -> SensorFiles {
        let mut files = SensorFiles::new(root.to_path_buf());
        files.refresh(Instant::now());
        files
    }

    #[test]
    fn reads_labelled_and_unlabelled_sensors_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "class/hwmon/hwmon2/name", "k10temp\n");
        write(root, "class/hwmon/hwmon2/temp1_input", "39375\n");
        write(root, "class/hwmon/hwmon2/temp1_label", "Tctl\n");
        write(root, "class/hwmon/hwmon10/name", "nvme\n");
        write(root, "class/hwmon/hwmon10/temp10_input", "41850\n");
        write(root, "class/hwmon/hwmon10/temp2_input", "-5000\n");
        write(root, "class/hwmon/hwmon10/temp3_input", "garbage\n");
        let sensors = listed(root).temperatures();
        let summary: Vec<_> =
            sensors.iter().map(|s| (s.chip.as_str(), s.label.as_str(), s.temp_c)).collect();
        assert_eq!(
            summary,
            [("k10temp", "Tctl", 39.375), ("nvme", "temp2", -5.0), ("nvme", "temp10", 41.85)]
        );
        assert_eq!(tctl_c(&sensors), Some(39.375));
    }

    #[test]
    fn no_hwmon_no_sensors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(listed(dir.path()).temperatures().is_empty());
        assert_eq!(tctl_c(&[]), None);
    }

    #[test]
    fn cpu_freqs_skip_non_cpu_dirs_and_keep_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "2900000\n");
        write(root, "devices/system/cpu/cpu1/online", "1\n");
        write(root, "devices/system/cpu/cpufreq/policy0/scaling_cur_freq", "1\n");
        write(root, "devices/system/cpu/cpuidle/x", "1\n");
        assert_eq!(listed(root).cpu_freqs_mhz(), [Some(2900.0), None]);
    }

    #[test]
    fn lists_again_after_a_while_or_when_a_file_vanishes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "class/hwmon/hwmon0/name", "k10temp\n");
        write(root, "class/hwmon/hwmon0/temp1_input", "40000\n");
        let mut files = SensorFiles::new(root.to_path_buf());
        let t0 = Instant::now();
        files.refresh(t0);
        write(root, "class/hwmon/hwmon1/name", "nvme\n");
        write(root, "class/hwmon/hwmon1/temp1_input", "30000\n");
        files.refresh(t0 + Duration::from_secs(1));
        assert_eq!(files.temperatures().len(), 1, "a new chip waits for the next listing");
        files.refresh(t0 + LIST_EVERY);
        assert_eq!(files.temperatures().len(), 2);

        fs::remove_file(root.join("class/hwmon/hwmon0/temp1_input")).unwrap();
        let chips: Vec<_> = files.temperatures().into_iter().map(|s| s.chip).collect();
        assert_eq!(chips, ["nvme"], "a vanished input is left out, not shown as 0");
        write(root, "class/hwmon/hwmon2/name", "amdgpu\n");
        write(root, "class/hwmon/hwmon2/temp1_input", "50000\n");
        files.refresh(t0 + LIST_EVERY + Duration::from_secs(1));
        let chips: Vec<_> = files.temperatures().into_iter().map(|s| s.chip).collect();
        assert_eq!(chips, ["nvme", "amdgpu"], "the vanished file made it list again at once");
    }
}
