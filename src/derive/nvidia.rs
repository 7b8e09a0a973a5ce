//! Energy and mean power of each NVIDIA device over the last interval, from its energy
//! counter (millijoules since the driver loaded).

use halo_collectors::Snapshot;
use halo_collectors::model::{NvidiaDerived, NvidiaDevice};

/// No GPU draws more than this; a counter step implying more is not a real reading.
const MAX_PLAUSIBLE_W: f64 = 10_000.0;

pub fn derive(previous: Option<&Snapshot>, current: &mut Snapshot) {
    let Some(section) = &current.nvidia else {
        current.derived.nvidia.clear();
        return;
    };
    let before = |d: &NvidiaDevice| {
        let devices = &previous?.nvidia.as_ref()?.devices;
        devices.iter().find(|p| {
            p.uuid.is_some() && p.uuid == d.uuid || p.uuid.is_none() && p.index == d.index
        })
    };
    let wall_s = previous.map(|p| current.mono_ms.saturating_sub(p.mono_ms) as f64 / 1000.0);
    current.derived.nvidia = section
        .devices
        .iter()
        .map(|d| {
            let energy_j = before(d)
                .and_then(|p| energy_delta_j(p.energy_total_mj?, d.energy_total_mj?, wall_s?));
            NvidiaDerived {
                index: d.index,
                uuid: d.uuid.clone(),
                energy_j,
                mean_power_w: energy_j.zip(wall_s).filter(|(_, s)| *s > 0.0).map(|(j, s)| j / s),
            }
        })
        .collect();
}

/// Joules between two readings of a u64 millijoule counter. A counter that went down has
/// either wrapped (then the step is small and plausible) or restarted with the driver (then
/// nothing can be said for this interval).
pub fn energy_delta_j(before_mj: u64, now_mj: u64, wall_s: f64) -> Option<f64> {
    if wall_s <= 0.0 {
        return None;
    }
    let delta_mj = now_mj.wrapping_sub(before_mj);
    let joules = delta_mj as f64 / 1000.0;
    (joules / wall_s <= MAX_PLAUSIBLE_W).then_some(joules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo_collectors::model::NvidiaSection;

    #[test]
    fn energy_from_counter_steps() {
        assert_eq!(energy_delta_j(1_000_000, 1_350_000, 1.0), Some(350.0));
        // Wrapped past u64::MAX: 5 J before the wrap and 10 J after.
        assert_eq!(energy_delta_j(u64::MAX - 4_999, 10_000, 1.0), Some(15.0));
        // Driver reloaded: the counter restarted from a small value.
        assert_eq!(energy_delta_j(9_000_000_000, 2_000, 1.0), None);
        assert_eq!(energy_delta_j(1, 2, 0.0), None);
    }

    fn snapshot(mono_ms: u64, energy_mj: Option<u64>) -> Snapshot {
        let mut s = Snapshot::new(mono_ms / 1000, 0, mono_ms, 1000);
        s.nvidia = Some(NvidiaSection {
            devices: vec![NvidiaDevice {
                index: 0,
                uuid: Some("GPU-1".into()),
                energy_total_mj: energy_mj,
                ..Default::default()
            }],
            ..Default::default()
        });
        s
    }

    #[test]
    fn mean_power_per_interval() {
        let prev = snapshot(1000, Some(50_000));
        let mut cur = snapshot(3000, Some(750_000));
        derive(Some(&prev), &mut cur);
        assert_eq!(cur.derived.nvidia[0].energy_j, Some(700.0));
        assert_eq!(cur.derived.nvidia[0].mean_power_w, Some(350.0));

        let mut first = snapshot(0, Some(1));
        derive(None, &mut first);
        assert_eq!(first.derived.nvidia[0].mean_power_w, None, "one reading gives no rate");

        let mut unsupported = snapshot(4000, None);
        derive(Some(&cur), &mut unsupported);
        assert_eq!(unsupported.derived.nvidia[0].energy_j, None, "no counter on this board");
    }
}
