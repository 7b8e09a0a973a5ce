//! halo-top's own footprint, read from the real process whatever roots the collectors use.

use std::path::Path;

use nix::time::{ClockId, clock_gettime};
use nix::unistd::{SysconfVar, sysconf};

use crate::model::OwnProcess;
use crate::sysfs::read_text;

pub struct OwnUsage {
    page_bytes: u64,
}

impl OwnUsage {
    pub fn new() -> Self {
        let page = sysconf(SysconfVar::PAGE_SIZE).ok().flatten().filter(|p| *p > 0).unwrap_or(4096);
        Self { page_bytes: page as u64 }
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
        // statm's second field is the resident set in pages; one small read of the real /proc.
        let rss_bytes = read_text(Path::new("/proc/self/statm"))
            .ok()
            .and_then(|t| t.split_ascii_whitespace().nth(1)?.parse::<u64>().ok())
            .and_then(|pages| pages.checked_mul(self.page_bytes));
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
