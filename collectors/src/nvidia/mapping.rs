//! Pure translations from NVML's values to the snapshot's, testable without a GPU.

use nvml_wrapper::bitmasks::device::ThrottleReasons;
use nvml_wrapper::enum_wrappers::device::PerformanceState;
use nvml_wrapper::error::NvmlError;

use crate::source::SourceError;

/// NVML reports "this GPU or driver cannot tell" as NotSupported (and sometimes as NoData or
/// InvalidArg for a counter that does not exist on the board): that is an unknown field, not
/// a broken device. Anything else (GpuLost, Unknown, ...) is an error of the device.
pub fn field<T>(result: Result<T, NvmlError>) -> Result<Option<T>, NvmlError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(
            NvmlError::NotSupported
            | NvmlError::NoData
            | NvmlError::InvalidArg
            | NvmlError::NoPermission,
        ) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Why NVML could not start, from the error of each library tried. A library that loaded but
/// failed to initialise says more than one that was not found, so its error wins.
pub fn init_errors(errors: &[(&str, NvmlError)]) -> SourceError {
    let not_found =
        |e: &NvmlError| matches!(e, NvmlError::LibloadingError(_) | NvmlError::LibraryNotFound);
    match errors.iter().find(|(_, e)| !not_found(e)) {
        Some((_, error)) => init_error(error),
        None => {
            let tried: Vec<&str> = errors.iter().map(|(l, _)| *l).collect();
            SourceError::Unavailable(format!(
                "NVML library not found (tried {}): no NVIDIA driver installed",
                tried.join(", ")
            ))
        }
    }
}

fn init_error(error: &NvmlError) -> SourceError {
    match error {
        NvmlError::DriverNotLoaded => SourceError::Unavailable("the NVIDIA kernel driver is not loaded".into()),
        NvmlError::LibRmVersionMismatch => SourceError::Unavailable(
            "NVIDIA driver/library version mismatch (the driver was updated: reboot or reload the module)".into(),
        ),
        NvmlError::NoPermission => SourceError::Unavailable("no permission to talk to the NVIDIA driver".into()),
        other => SourceError::Failed(format!("NVML initialisation failed: {other}")),
    }
}

/// Throttle (clock event) reasons by name. `gpu_idle` is listed too: it says the clocks are
/// low because nothing runs, which a reader needs to tell from a real slowdown.
pub fn throttle_names(reasons: ThrottleReasons) -> Vec<String> {
    // USER_DEFINED_CLOCKS is the old name of APPLICATIONS_CLOCKS_SETTING (the same bit).
    const NAMES: [(ThrottleReasons, &str); 9] = [
        (ThrottleReasons::GPU_IDLE, "gpu_idle"),
        (ThrottleReasons::APPLICATIONS_CLOCKS_SETTING, "applications_clocks_setting"),
        (ThrottleReasons::SW_POWER_CAP, "sw_power_cap"),
        (ThrottleReasons::HW_SLOWDOWN, "hw_slowdown"),
        (ThrottleReasons::SYNC_BOOST, "sync_boost"),
        (ThrottleReasons::SW_THERMAL_SLOWDOWN, "sw_thermal_slowdown"),
        (ThrottleReasons::HW_THERMAL_SLOWDOWN, "hw_thermal_slowdown"),
        (ThrottleReasons::HW_POWER_BRAKE_SLOWDOWN, "hw_power_brake_slowdown"),
        (ThrottleReasons::DISPLAY_CLOCK_SETTING, "display_clock_setting"),
    ];
    let mut names: Vec<String> = NAMES
        .iter()
        .filter(|(bit, _)| reasons.contains(*bit))
        .map(|(_, n)| n.to_string())
        .collect();
    let known = NAMES.iter().fold(ThrottleReasons::empty(), |acc, (bit, _)| acc | *bit);
    let unknown = reasons.bits() & !known.bits();
    if unknown != 0 {
        names.push(format!("other_0x{unknown:x}"));
    }
    names
}

pub fn pstate_name(state: PerformanceState) -> Option<String> {
    use PerformanceState::*;
    let n = match state {
        Zero => 0,
        One => 1,
        Two => 2,
        Three => 3,
        Four => 4,
        Five => 5,
        Six => 6,
        Seven => 7,
        Eight => 8,
        Nine => 9,
        Ten => 10,
        Eleven => 11,
        Twelve => 12,
        Thirteen => 13,
        Fourteen => 14,
        Fifteen => 15,
        Unknown => return None,
    };
    Some(format!("P{n}"))
}

/// NVML writes bus ids with an 8-digit domain (`00000000:01:00.0`); sysfs and lspci use 4
/// (`0000:01:00.0`). Normalised to the sysfs form, lowercase.
pub fn sysfs_bus_id(nvml_bus_id: &str) -> String {
    let lower = nvml_bus_id.trim().to_ascii_lowercase();
    match lower.split_once(':') {
        Some((domain, rest)) if domain.len() > 4 => {
            format!("{}:{rest}", &domain[domain.len() - 4..])
        }
        _ => lower,
    }
}

/// Milliwatts to watts.
pub fn watts(milliwatts: u32) -> f64 {
    f64::from(milliwatts) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_supported_is_unknown_not_a_failure() {
        assert_eq!(field::<u32>(Err(NvmlError::NotSupported)).unwrap(), None);
        assert_eq!(field(Ok(7u32)).unwrap(), Some(7));
        assert!(matches!(field::<u32>(Err(NvmlError::GpuLost)), Err(NvmlError::GpuLost)));
    }

    #[test]
    fn throttle_reasons_by_name() {
        assert!(throttle_names(ThrottleReasons::empty()).is_empty());
        let r = ThrottleReasons::SW_POWER_CAP | ThrottleReasons::HW_THERMAL_SLOWDOWN;
        assert_eq!(throttle_names(r), ["sw_power_cap", "hw_thermal_slowdown"]);
        assert_eq!(throttle_names(ThrottleReasons::GPU_IDLE), ["gpu_idle"]);
        let unknown = ThrottleReasons::from_bits_retain(1 << 40);
        assert_eq!(throttle_names(unknown), ["other_0x10000000000"]);
    }

    #[test]
    fn pstates() {
        assert_eq!(pstate_name(PerformanceState::Zero).as_deref(), Some("P0"));
        assert_eq!(pstate_name(PerformanceState::Eight).as_deref(), Some("P8"));
        assert_eq!(pstate_name(PerformanceState::Unknown), None);
    }

    #[test]
    fn bus_ids_in_sysfs_form() {
        assert_eq!(sysfs_bus_id("00000000:1A:00.0"), "0000:1a:00.0");
        assert_eq!(sysfs_bus_id("0000:01:00.0"), "0000:01:00.0");
    }

    #[test]
    fn init_errors_say_why() {
        let e = init_errors(&[
            ("a.so", NvmlError::LibraryNotFound),
            ("b.so", NvmlError::DriverNotLoaded),
        ]);
        assert_eq!(e, SourceError::Unavailable("the NVIDIA kernel driver is not loaded".into()));
        let e = init_errors(&[
            ("a.so", NvmlError::LibraryNotFound),
            ("b.so", NvmlError::LibraryNotFound),
        ]);
        assert_eq!(
            e,
            SourceError::Unavailable(
                "NVML library not found (tried a.so, b.so): no NVIDIA driver installed".into()
            )
        );
        let mismatch = init_error(&NvmlError::LibRmVersionMismatch);
        assert!(matches!(mismatch, SourceError::Unavailable(m) if m.contains("mismatch")));
        assert!(matches!(init_error(&NvmlError::Unknown), SourceError::Failed(_)));
    }
}
