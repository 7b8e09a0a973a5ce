//! Parsers for the procfs files the host collector reads. Each takes the file's text and
//! returns `None` (or skips a line) on anything it does not understand: procfs formats grow
//! new columns over kernel versions, so unknown trailing fields are ignored.

use crate::model::LoadAverage;

/// Jiffies of one `cpu` line of `/proc/stat`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    pub busy: u64,
    pub total: u64,
}

impl CpuTimes {
    /// Busy share between two readings, in %. `None` when no time passed or a counter went
    /// backwards (CPU hotplug resets a CPU's counters).
    pub fn percent_since(&self, earlier: &CpuTimes) -> Option<f64> {
        let total = self.total.checked_sub(earlier.total)?;
        let busy = self.busy.checked_sub(earlier.busy)?;
        (total > 0).then(|| (busy.min(total) as f64 / total as f64) * 100.0)
    }
}

/// `/proc/stat`: the aggregate `cpu` line and the per-CPU `cpuN` lines, in file order.
pub fn parse_stat(text: &str) -> (Option<CpuTimes>, Vec<CpuTimes>) {
    let mut total = None;
    let mut per_cpu = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let Some(label) = fields.next() else { continue };
        if !label.starts_with("cpu") {
            continue;
        }
        // user nice system idle iowait irq softirq steal [guest guest_nice]. guest time is
        // already included in user and nice, so only the first eight columns are summed.
        let values: Vec<u64> = fields.take(8).map_while(|f| f.parse().ok()).collect();
        if values.len() < 4 {
            continue;
        }
        // Counters that add up past u64 are not a real /proc/stat (fuzzing found it): the line
        // is skipped rather than wrapped into a wrong total. The idle part of a sum that fits
        // fits too.
        let Some(sum) = values.iter().try_fold(0u64, |sum, &v| sum.checked_add(v)) else {
            continue;
        };
        let idle = values[3] + values.get(4).copied().unwrap_or(0);
        let times = CpuTimes { busy: sum - idle, total: sum };
        if label == "cpu" {
            total = Some(times);
        } else {
            per_cpu.push(times);
        }
    }
    (total, per_cpu)
}

/// A `/proc/meminfo` value in bytes (the file says kB and means KiB).
pub fn meminfo_bytes(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        let mut parts = rest.split_ascii_whitespace();
        let value: u64 = parts.next()?.parse().ok()?;
        match parts.next() {
            Some("kB") => value.checked_mul(1024),
            None => Some(value),
            Some(_) => None,
        }
    })
}

pub fn parse_loadavg(text: &str) -> Option<LoadAverage> {
    let mut fields = text.split_ascii_whitespace().map(|f| f.parse::<f64>().ok());
    Some(LoadAverage { one: fields.next()??, five: fields.next()??, fifteen: fields.next()?? })
}

pub fn parse_uptime(text: &str) -> Option<f64> {
    text.split_ascii_whitespace().next()?.parse().ok()
}

/// The first `model name` of `/proc/cpuinfo` (x86), else the first `Model` line (Arm boards).
pub fn cpu_model(text: &str) -> Option<String> {
    ["model name", "Model"].iter().find_map(|key| {
        text.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            (k.trim() == *key && !v.trim().is_empty()).then(|| v.trim().to_string())
        })
    })
}

/// The fields of `/proc/PID/stat` the process list needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcStat {
    pub pid: u32,
    pub comm: String,
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
    /// Start time after boot, in clock ticks: with the pid it identifies a process across
    /// samples even when pids are reused.
    pub start_ticks: u64,
    pub rss_pages: u64,
}

/// `/proc/PID/stat`. The command name sits in parentheses and may itself contain spaces and
/// parentheses, so the fields are counted from the last `)`.
pub fn parse_proc_stat(text: &str) -> Option<ProcStat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let comm = text.get(open + 1..close)?.to_string();
    // Fields after the comm start at field 3 (state); utime is field 14, stime 15,
    // starttime 22 and rss 24 (man 5 proc), i.e. indices 11, 12, 19 and 21 here.
    let rest: Vec<&str> = text[close + 1..].split_ascii_whitespace().collect();
    let field = |i: usize| rest.get(i).and_then(|f| f.parse::<u64>().ok());
    Some(ProcStat {
        pid,
        comm,
        cpu_ticks: field(11)?.checked_add(field(12)?)?,
        start_ticks: field(19)?,
        rss_pages: field(21)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  100 0 50 800 50 0 0 0 0 0\n\
                        cpu0 60 0 20 400 20 0 0 0 0 0\n\
                        cpu1 40 0 30 400 30 0 0 0 0 0\n\
                        intr 12345 0 0\nctxt 999\n";

    #[test]
    fn stat_counts_iowait_as_idle() {
        let (total, per_cpu) = parse_stat(STAT);
        assert_eq!(total, Some(CpuTimes { busy: 150, total: 1000 }));
        assert_eq!(per_cpu.len(), 2);
        assert_eq!(per_cpu[1], CpuTimes { busy: 70, total: 500 });
    }

    #[test]
    fn cpu_percent_between_samples() {
        let a = CpuTimes { busy: 100, total: 1000 };
        let b = CpuTimes { busy: 150, total: 1100 };
        assert_eq!(b.percent_since(&a), Some(50.0));
        assert_eq!(a.percent_since(&a), None, "no time passed");
        assert_eq!(a.percent_since(&b), None, "counters went backwards");
    }

    #[test]
    fn meminfo_in_bytes() {
        let text = "MemTotal:       24576000 kB\nMemFree: 1 kB\nMemAvailable:   20000000 kB\n\
                    HugePages_Total:       0\n";
        assert_eq!(meminfo_bytes(text, "MemTotal"), Some(24_576_000 * 1024));
        assert_eq!(meminfo_bytes(text, "MemAvailable"), Some(20_000_000 * 1024));
        assert_eq!(meminfo_bytes(text, "HugePages_Total"), Some(0));
        assert_eq!(meminfo_bytes(text, "Mem"), None, "whole keys only");
        assert_eq!(meminfo_bytes(text, "SwapTotal"), None);
    }

    #[test]
    fn loadavg_and_uptime() {
        let load = parse_loadavg("0.52 1.25 2.00 3/456 7890\n").unwrap();
        assert_eq!((load.one, load.five, load.fifteen), (0.52, 1.25, 2.0));
        assert_eq!(parse_loadavg("garbage"), None);
        assert_eq!(parse_uptime("12345.67 23456.78\n"), Some(12345.67));
    }

    #[test]
    fn cpuinfo_model_name() {
        let text = "processor\t: 0\nvendor_id\t: AuthenticAMD\n\
                    model name\t: AMD RYZEN AI MAX+ 395 w/ Radeon 8060S\n";
        assert_eq!(cpu_model(text).as_deref(), Some("AMD RYZEN AI MAX+ 395 w/ Radeon 8060S"));
        assert_eq!(cpu_model("processor : 0\n"), None);
    }

    #[test]
    fn proc_stat_with_awkward_comm() {
        let text = "4242 (llama (serv) er) S 1 4242 4242 0 -1 4194304 100 0 0 0 \
                    1500 250 0 0 20 0 9 0 123456 2147483648 51200 18446744073709551615";
        let stat = parse_proc_stat(text).unwrap();
        assert_eq!(stat.pid, 4242);
        assert_eq!(stat.comm, "llama (serv) er");
        assert_eq!(stat.cpu_ticks, 1750);
        assert_eq!(stat.start_ticks, 123456);
        assert_eq!(stat.rss_pages, 51200);
        assert_eq!(parse_proc_stat("4242 (short) S 1 2"), None);
        assert_eq!(parse_proc_stat(""), None);
    }

    #[test]
    fn counters_that_add_past_u64_skip_the_line() {
        // From the kernel_text fuzz target (fuzz/regressions/kernel_text).
        let text = format!("cpu  {} 0 {} 5\ncpu0 1 0 1 5\n", u64::MAX - 1, u64::MAX - 1);
        let (total, per_cpu) = parse_stat(&text);
        assert_eq!(total, None);
        assert_eq!(per_cpu.len(), 1);
        assert_eq!(per_cpu[0].total, 7);
    }
}
