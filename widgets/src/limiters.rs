//! Power and thermal limiters, AMD and NVIDIA, as one set of flags per snapshot: the thermal
//! pane marks on its time axis when each one engaged.

use halo_collectors::Snapshot;

/// A limiter: its name as the snapshot spells it, and the letter that marks it on a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limiter {
    pub name: &'static str,
    pub letter: char,
    pub what: &'static str,
}

/// Every limiter halo-top marks. AMD names are the `gpu_metrics` v3 residency counters
/// (`derived.amdgpu.cards[].throttle_percent`); NVIDIA names are NVML's throttle reasons. NVML's
/// `gpu_idle`, `applications_clocks_setting`, `sync_boost` and `display_clock_setting` are not
/// limits a load runs into, so they are not marked.
pub const LIMITERS: [Limiter; 12] = [
    Limiter { name: "spl", letter: 'S', what: "AMD sustained power (STAPM)" },
    Limiter { name: "fppt", letter: 'F', what: "AMD fast PPT" },
    Limiter { name: "sppt", letter: 'P', what: "AMD slow PPT" },
    Limiter { name: "thm_core", letter: 'C', what: "AMD CPU-core thermal" },
    Limiter { name: "thm_gfx", letter: 'G', what: "AMD GFX thermal" },
    Limiter { name: "thm_soc", letter: 'O', what: "AMD SoC thermal" },
    Limiter { name: "prochot", letter: 'H', what: "PROCHOT" },
    Limiter { name: "sw_power_cap", letter: 'W', what: "NVIDIA power cap" },
    Limiter { name: "hw_power_brake_slowdown", letter: 'B', what: "NVIDIA power brake" },
    Limiter { name: "sw_thermal_slowdown", letter: 'T', what: "NVIDIA thermal (software)" },
    Limiter { name: "hw_thermal_slowdown", letter: 'X', what: "NVIDIA thermal (hardware)" },
    Limiter { name: "hw_slowdown", letter: 'D', what: "NVIDIA hardware slowdown" },
];

/// One bit per entry of [`LIMITERS`].
pub type LimiterSet = u16;

/// The limiters engaged in `snapshot`; `None` when nothing in it can tell (no AMD residency
/// figures and no NVIDIA throttle reasons).
pub fn engaged(snapshot: &Snapshot) -> Option<LimiterSet> {
    let mut known = false;
    let mut set: LimiterSet = 0;
    let mut mark = |name: &str| {
        if let Some(i) = LIMITERS.iter().position(|l| l.name == name) {
            set |= 1 << i;
        }
    };
    for card in &snapshot.derived.amdgpu.cards {
        for (name, percent) in &card.throttle_percent {
            known = true;
            if *percent > 0.0 {
                mark(name);
            }
        }
    }
    for device in snapshot.nvidia.iter().flat_map(|n| &n.devices) {
        if let Some(reasons) = &device.throttle_reasons {
            known = true;
            reasons.iter().for_each(|r| mark(r));
        }
    }
    known.then_some(set)
}

/// The limiters in `set`, in [`LIMITERS`] order.
pub fn members(set: LimiterSet) -> impl Iterator<Item = &'static Limiter> {
    LIMITERS.iter().enumerate().filter(move |(i, _)| set & (1 << i) != 0).map(|(_, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo_collectors::model::{AmdgpuCardDerived, NvidiaDevice, NvidiaSection};

    #[test]
    fn amd_residency_and_nvidia_reasons_become_one_set() {
        let mut s = Snapshot::new(0, 0, 0, 1000);
        assert_eq!(engaged(&s), None, "nothing can tell");
        let mut card = AmdgpuCardDerived { card: "card1".into(), ..Default::default() };
        card.throttle_percent.insert("spl".into(), 35.0);
        card.throttle_percent.insert("thm_core".into(), 0.0);
        s.derived.amdgpu.cards.push(card);
        s.nvidia = Some(NvidiaSection {
            devices: vec![NvidiaDevice {
                throttle_reasons: Some(vec!["gpu_idle".into(), "sw_power_cap".into()]),
                ..Default::default()
            }],
            ..Default::default()
        });
        let set = engaged(&s).unwrap();
        assert_eq!(members(set).map(|l| l.letter).collect::<String>(), "SW");
        s.derived.amdgpu.cards[0].throttle_percent.clear();
        s.nvidia = None;
        assert_eq!(engaged(&s), None, "a card without residency figures cannot tell");
    }
}
