//! hwmon temperature sensors and cpufreq, read under a sysfs root.

use std::path::Path;

use crate::model::TemperatureSensor;
use crate::sysfs::{list_dir, natural_cmp, read_i64, read_trimmed, read_u64};

/// Every `tempN_input` of every hwmon chip, labelled. hwmon reports millidegrees Celsius.
/// A sensor whose read fails (some return EIO or ENODATA while the device sleeps) is left out
/// rather than shown as 0.
pub fn temperatures(sysfs_root: &Path) -> Vec<TemperatureSensor> {
    let class = sysfs_root.join("class/hwmon");
    let Ok(chips) = list_dir(&class, |n| n.starts_with("hwmon")) else { return Vec::new() };
    let mut sensors = Vec::new();
    for (_, chip_dir) in chips {
        let chip = read_trimmed(&chip_dir.join("name")).unwrap_or_else(|_| "unknown".into());
        let Ok(mut inputs) =
            list_dir(&chip_dir, |n| n.starts_with("temp") && n.ends_with("_input"))
        else {
            continue;
        };
        inputs.sort_by(|a, b| natural_cmp(&a.0.replace("_input", ""), &b.0.replace("_input", "")));
        for (file, path) in inputs {
            let Ok(milli_c) = read_i64(&path) else { continue };
            let stem = file.trim_end_matches("_input");
            let label = read_trimmed(&chip_dir.join(format!("{stem}_label")))
                .ok()
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| stem.to_string());
            sensors.push(TemperatureSensor {
                chip: chip.clone(),
                label,
                temp_c: milli_c as f64 / 1000.0,
            });
        }
    }
    sensors
}

/// AMD's Tctl from k10temp. On Zen 5 (Strix Halo) k10temp offers only Tctl; kernels before the
/// Aug 2025 k10temp update have no k10temp hwmon on Strix Halo at all (spec §6), hence `None`.
pub fn tctl_c(sensors: &[TemperatureSensor]) -> Option<f64> {
    sensors.iter().find(|s| s.chip == "k10temp" && s.label == "Tctl").map(|s| s.temp_c)
}

/// `scaling_cur_freq` (kHz) of each `cpuN`, in MHz, in CPU order. `cpuinfo_cur_freq` would be
/// the hardware's figure but it is readable by root only.
pub fn cpu_freqs_mhz(sysfs_root: &Path) -> Vec<Option<f64>> {
    let dir = sysfs_root.join("devices/system/cpu");
    let is_cpu = |n: &str| {
        n.strip_prefix("cpu")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    };
    let Ok(cpus) = list_dir(&dir, is_cpu) else { return Vec::new() };
    cpus.iter()
        .map(|(_, path)| {
            read_u64(&path.join("cpufreq/scaling_cur_freq")).ok().map(|khz| khz as f64 / 1000.0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
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
        let sensors = temperatures(root);
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
        assert!(temperatures(dir.path()).is_empty());
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
        assert_eq!(cpu_freqs_mhz(root), [Some(2900.0), None]);
    }
}
