//! halo-top's own CPU use, from its cumulative CPU-time counter.

use halo_collectors::Snapshot;

pub fn derive(previous: Option<&Snapshot>, current: &mut Snapshot) {
    current.derived.own_cpu_percent = None;
    current.derived.own_cpu_ms_per_sample = None;

    let own_cpu_ns = |s: &Snapshot| s.host.as_ref()?.own_process.cpu_time_ns;
    if let Some(prev) = previous
        && let (Some(before), Some(now)) = (own_cpu_ns(prev), own_cpu_ns(current))
        && let Some(cpu_ns) = now.checked_sub(before)
    {
        let wall_ms = current.mono_ms.saturating_sub(prev.mono_ms);
        let samples = current.seq.saturating_sub(prev.seq);
        let cpu_ms = cpu_ns as f64 / 1e6;
        if wall_ms > 0 {
            current.derived.own_cpu_percent = Some(cpu_ms / wall_ms as f64 * 100.0);
        }
        if samples > 0 {
            current.derived.own_cpu_ms_per_sample = Some(cpu_ms / samples as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo_collectors::model::{HostSection, OwnProcess};

    fn snap(seq: u64, mono_ms: u64, cpu_ns: Option<u64>) -> Snapshot {
        let mut s = Snapshot::new(seq, 0, mono_ms, 1000);
        s.host = Some(HostSection {
            own_process: OwnProcess { cpu_time_ns: cpu_ns, rss_bytes: None },
            ..HostSection::default()
        });
        s
    }

    #[test]
    fn own_cpu_from_counter_delta() {
        let prev = snap(4, 4000, Some(10_000_000));
        let mut cur = snap(6, 6000, Some(14_000_000));
        derive(Some(&prev), &mut cur);
        assert_eq!(cur.derived.own_cpu_percent, Some(0.2));
        assert_eq!(cur.derived.own_cpu_ms_per_sample, Some(2.0));
    }

    #[test]
    fn unknown_inputs_give_unknown_outputs() {
        let mut first = snap(0, 0, Some(1));
        derive(None, &mut first);
        assert_eq!(first.derived.own_cpu_percent, None);

        let prev = snap(0, 0, None);
        let mut cur = snap(1, 1000, Some(5));
        derive(Some(&prev), &mut cur);
        assert_eq!(cur.derived.own_cpu_ms_per_sample, None);

        // A counter that goes backwards (a different process) is not a negative rate.
        let prev = snap(0, 0, Some(50));
        let mut cur = snap(1, 1000, Some(5));
        derive(Some(&prev), &mut cur);
        assert_eq!(cur.derived.own_cpu_percent, None);
    }
}
