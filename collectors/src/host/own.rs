//! halo-top's own footprint, read from the real process whatever roots the collectors use.

use nix::time::{ClockId, clock_gettime};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use crate::model::OwnProcess;

pub struct OwnUsage {
    /// `None` when sysinfo cannot work on this OS: RSS is then unknown.
    process: Option<(System, Pid)>,
}

impl OwnUsage {
    pub fn new() -> Self {
        Self { process: System::new().ok().zip(sysinfo::get_current_pid().ok()) }
    }

    pub fn read(&mut self) -> OwnProcess {
        // CLOCK_PROCESS_CPUTIME_ID sums every thread with nanosecond resolution; the clock-tick
        // figures of /proc/self/stat are too coarse (10 ms) for a per-sample cost of ~1 ms.
        let cpu_time_ns = clock_gettime(ClockId::CLOCK_PROCESS_CPUTIME_ID).ok().and_then(|t| {
            u64::try_from(t.tv_sec())
                .ok()?
                .checked_mul(1_000_000_000)?
                .checked_add(u64::try_from(t.tv_nsec()).ok()?)
        });
        let rss_bytes = self.process.as_mut().and_then(|(system, pid)| {
            let kind = ProcessRefreshKind::nothing().with_memory();
            system.refresh_processes_specifics(ProcessesToUpdate::Some(&[*pid]), true, kind);
            system.process(*pid).map(|p| p.memory())
        });
        OwnProcess { cpu_time_ns, rss_bytes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_cpu_time_and_rss() {
        let mut own = OwnUsage::new();
        let first = own.read();
        // Burn a little CPU so the counter must move.
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let second = own.read();
        assert!(second.cpu_time_ns.unwrap() > first.cpu_time_ns.unwrap());
        assert!(second.rss_bytes.unwrap() > 1024 * 1024, "a running test binary has >1 MiB RSS");
    }
}
