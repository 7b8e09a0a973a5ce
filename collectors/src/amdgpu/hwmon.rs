//! The card's own hwmon chip: edge temperature, package power, GFX clock, voltages.

use std::path::Path;

use crate::model::GpuHwmon;
use crate::sysfs::ReadError;

use super::text::{Problems, read_number, read_trimmed};

/// Reads what exists; nothing here is required.
pub fn read(hwmon_dir: &Path, smu14: bool, problems: &mut Problems) -> GpuHwmon {
    let mut number = |file: &str| problems.keep(read_number(&hwmon_dir.join(file)));
    let edge_milli_c = number("temp1_input");
    let sclk_hz = number("freq1_input");
    // The SMU reads 0 for these on SMU14: a voltage of 0 mV means "not measured".
    let vddgfx_mv = number("in0_input").filter(|mv| *mv > 0);
    let vddnb_mv = number("in1_input").filter(|mv| *mv > 0);
    // amdgpu_top's order: the average, else the instantaneous reading (Linux 6.6+). Most
    // ASICs expose only one of them.
    let (power_file, power_raw_uw) = ["power1_average", "power1_input"]
        .iter()
        .find_map(|file| {
            Some((file.to_string(), problems.keep(read_number(&hwmon_dir.join(file)))?))
        })
        .unzip();
    let quirk = smu14 && power_raw_uw.is_some_and(fits_centiwatt_encoding);
    GpuHwmon {
        edge_temp_c: edge_milli_c.map(|m| m as f64 / 1000.0),
        power_w: power_raw_uw
            .map(|uw| if quirk { decode_smu14_power_w(uw) } else { uw as f64 / 1e6 }),
        power_raw_uw,
        power_file,
        power_centiwatt_quirk: quirk,
        sclk_mhz: sclk_hz.map(|hz| hz as f64 / 1e6),
        vddgfx_mv,
        vddnb_mv,
    }
}

/// SMU14 quirk: amdgpu_pm turns a Q24.8 sensor value into µW as
/// `(q >> 8) * 1_000_000 + (q & 0xff) * 1_000`, but SMU14 fills the low byte with centiwatts
/// (`mW % 1000 / 10`, 0–99), not 1/256ths. So the µW value reads `W_int × 1e6 + cW × 1e3`:
/// 16020000 is 16.20 W. The true value is whole W + (µW / 1000 mod 1000) / 100.
pub fn decode_smu14_power_w(raw_uw: u64) -> f64 {
    (raw_uw / 1_000_000) as f64 + ((raw_uw / 1000) % 1000) as f64 / 100.0
}

/// Every SMU14 value has 000–099 in the middle digits; one that does not was not produced by
/// the quirk (a fixed kernel, say) and is read as plain µW.
fn fits_centiwatt_encoding(raw_uw: u64) -> bool {
    (raw_uw / 1000) % 1000 < 100 && raw_uw.is_multiple_of(1000)
}

/// `power/runtime_status` of the PCI device (`active`, `suspended`, `resuming`, ...). Reading it
/// never wakes the device; `None` where runtime PM is not there.
pub fn runtime_status(device_dir: &Path) -> Result<String, ReadError> {
    read_trimmed(&device_dir.join("power/runtime_status"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amdgpu::testing::write;

    #[test]
    fn smu14_power_is_centiwatts() {
        assert_eq!(decode_smu14_power_w(16_020_000), 16.2);
        assert_eq!(decode_smu14_power_w(18_007_000), 18.07);
        assert_eq!(decode_smu14_power_w(119_095_000), 119.95);
        assert_eq!(decode_smu14_power_w(88_016_000), 88.16);
        assert!(fits_centiwatt_encoding(120_019_000));
        assert!(!fits_centiwatt_encoding(16_500_000));
    }

    #[test]
    fn reads_only_what_exists() {
        let dir = tempfile::tempdir().unwrap();
        let hwmon = dir.path();
        write(hwmon, "temp1_input", "70000\n");
        write(hwmon, "power1_input", "88016000\n");
        write(hwmon, "freq1_input", "2900000000\n");
        write(hwmon, "in0_input", "0\n");
        let mut problems = Vec::new();
        let h = read(hwmon, true, &mut Problems(&mut problems));
        assert_eq!(h.edge_temp_c, Some(70.0));
        assert_eq!(h.power_file.as_deref(), Some("power1_input"), "no power1_average here");
        assert_eq!(h.power_w, Some(88.16));
        assert!(h.power_centiwatt_quirk);
        assert_eq!(h.sclk_mhz, Some(2900.0), "2.9 GHz in Hz does not fit an i32");
        assert_eq!(h.vddgfx_mv, None, "0 mV is 'not measured'");
        assert_eq!(h.vddnb_mv, None);
        assert!(problems.is_empty());

        // Not an SMU14 part: the value is plain µW.
        let h = read(hwmon, false, &mut Problems(&mut problems));
        assert_eq!((h.power_w, h.power_centiwatt_quirk), (Some(88.016), false));
    }

    #[test]
    fn garbage_is_a_problem_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "temp1_input", "hot\n");
        write(dir.path(), "power1_average", "\n");
        let mut problems = Vec::new();
        let h = read(dir.path(), true, &mut Problems(&mut problems));
        assert_eq!((h.edge_temp_c, h.power_w), (None, None));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("temp1_input") && problems[0].contains("\"hot\""));
        assert!(problems[1].contains("power1_average: empty file"));
    }
}
