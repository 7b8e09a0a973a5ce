//! The process list: the top processes by CPU and by resident memory, from `/proc/PID/stat`.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use nix::unistd::{SysconfVar, sysconf};

use super::procfs::{ProcStat, parse_proc_stat};
use crate::model::ProcessReading;
use crate::sysfs::{list_dir, read_text};

pub struct ProcessTable {
    top_n: usize,
    clock_ticks_per_s: f64,
    page_bytes: u64,
    /// CPU ticks per (pid, start time) at the previous sample.
    previous: HashMap<(u32, u64), u64>,
    previous_at: Option<Instant>,
}

impl ProcessTable {
    pub fn new(top_n: usize) -> Self {
        let conf =
            |var, fallback: i64| sysconf(var).ok().flatten().filter(|v| *v > 0).unwrap_or(fallback);
        Self {
            top_n,
            clock_ticks_per_s: conf(SysconfVar::CLK_TCK, 100) as f64,
            page_bytes: conf(SysconfVar::PAGE_SIZE, 4096) as u64,
            previous: HashMap::new(),
            previous_at: None,
        }
    }

    /// Scans every process once. Processes that vanish mid-scan or that we may not read are
    /// skipped: the list is of what could be read.
    pub fn sample(&mut self, procfs_root: &Path, now: Instant) -> Vec<ProcessReading> {
        let proc_dir = procfs_root;
        let is_pid = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
        let stats: Vec<ProcStat> = list_dir(proc_dir, is_pid)
            .unwrap_or_default()
            .iter()
            .filter_map(|(_, dir)| parse_proc_stat(&read_text(&dir.join("stat")).ok()?))
            .collect();

        let elapsed_s = self.previous_at.map(|t| now.duration_since(t).as_secs_f64());
        let mut readings: Vec<ProcessReading> = stats
            .iter()
            .map(|s| {
                let cpu_percent = elapsed_s.filter(|e| *e > 0.0).and_then(|elapsed| {
                    let before = self.previous.get(&(s.pid, s.start_ticks))?;
                    let ticks = s.cpu_ticks.checked_sub(*before)?;
                    Some(ticks as f64 / self.clock_ticks_per_s / elapsed * 100.0)
                });
                ProcessReading {
                    pid: s.pid,
                    name: s.comm.clone(),
                    cpu_percent,
                    rss_bytes: s.rss_pages.checked_mul(self.page_bytes),
                }
            })
            .collect();
        self.previous = stats.iter().map(|s| ((s.pid, s.start_ticks), s.cpu_ticks)).collect();
        self.previous_at = Some(now);
        top_union(&mut readings, self.top_n)
    }
}

/// The union of the `n` busiest and the `n` largest processes, busiest first.
fn top_union(readings: &mut [ProcessReading], n: usize) -> Vec<ProcessReading> {
    let by_cpu = |a: &ProcessReading, b: &ProcessReading| {
        b.cpu_percent
            .unwrap_or(-1.0)
            .total_cmp(&a.cpu_percent.unwrap_or(-1.0))
            .then(a.pid.cmp(&b.pid))
    };
    readings.sort_by(|a, b| b.rss_bytes.cmp(&a.rss_bytes).then(a.pid.cmp(&b.pid)));
    let mut top: Vec<ProcessReading> = readings.iter().take(n).cloned().collect();
    readings.sort_by(by_cpu);
    for r in readings.iter().take(n) {
        if !top.iter().any(|t| t.pid == r.pid) {
            top.push(r.clone());
        }
    }
    top.sort_by(by_cpu);
    top
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(pid: u32, cpu: Option<f64>, rss: u64) -> ProcessReading {
        ProcessReading { pid, name: format!("p{pid}"), cpu_percent: cpu, rss_bytes: Some(rss) }
    }

    #[test]
    fn union_of_busiest_and_largest() {
        let mut all = vec![
            reading(1, Some(90.0), 10),
            reading(2, Some(50.0), 20),
            reading(3, Some(1.0), 9000),
            reading(4, None, 8000),
            reading(5, Some(2.0), 30),
        ];
        let pids: Vec<u32> = top_union(&mut all, 2).iter().map(|r| r.pid).collect();
        assert_eq!(pids, [1, 2, 3, 4]);
    }

    #[test]
    fn cpu_percent_from_tick_deltas_and_pid_reuse() {
        let dir = tempfile::tempdir().unwrap();
        let proc_dir = dir.path();
        let write = |pid: u32, ticks: u64, start: u64| {
            let d = proc_dir.join(pid.to_string());
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(
                d.join("stat"),
                format!("{pid} (x) R 1 1 1 0 -1 0 0 0 0 0 {ticks} 0 0 0 20 0 1 0 {start} 0 10 0"),
            )
            .unwrap();
        };
        write(7, 100, 5);
        write(8, 100, 5);
        let mut table = ProcessTable::new(8);
        let t0 = Instant::now();
        table.sample(dir.path(), t0);
        write(7, 100 + table.clock_ticks_per_s as u64 / 2, 5);
        write(8, 0, 6); // pid 8 was reused by a new process
        let t1 = t0 + std::time::Duration::from_secs(1);
        let top = table.sample(dir.path(), t1);
        let cpu = |pid| top.iter().find(|r| r.pid == pid).unwrap().cpu_percent;
        assert_eq!(cpu(7), Some(50.0));
        assert_eq!(cpu(8), None, "a new process has no rate yet");
    }
}
