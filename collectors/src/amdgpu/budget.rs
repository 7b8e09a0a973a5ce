//! The unified-memory budget of an APU: one pool of DRAM seen through three windows.
//!
//! - the BIOS carve-out ("VRAM"), which the OS does not count in `MemTotal`;
//! - GTT, ordinary RAM pages the GPU maps: counted in `MemTotal` and, once used, no longer in
//!   `MemAvailable`;
//! - the CPU side's own use.
//!
//! So the pool is carve-out + MemTotal, and MemTotal splits into GTT used + the host's own use
//! + MemAvailable. Adding "GPU memory" to "host used" would count GTT twice.

use crate::model::{GpuMemory, GpuProcess, ProcessShare, UnifiedMemory};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostMemory {
    pub total_bytes: Option<u64>,
    pub available_bytes: Option<u64>,
}

/// `MemTotal` and `MemAvailable` from `/proc/meminfo` text.
pub fn parse_meminfo(text: &str) -> HostMemory {
    let kib = |key: &str| {
        text.lines().find_map(|l| {
            let rest = l.strip_prefix(key)?.strip_prefix(':')?;
            rest.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()?.checked_mul(1024)
        })
    };
    HostMemory { total_bytes: kib("MemTotal"), available_bytes: kib("MemAvailable") }
}

/// The budget of one APU card, given the processes using it.
pub fn unified_memory(
    gpu: &GpuMemory,
    host: HostMemory,
    card_processes: &[&GpuProcess],
) -> UnifiedMemory {
    let pool = gpu.vram_total_bytes.zip(host.total_bytes).map(|(v, t)| v.saturating_add(t));
    let host_used_excluding_gtt = host
        .total_bytes
        .zip(host.available_bytes)
        .zip(gpu.gtt_used_bytes)
        .map(|((total, available), gtt)| total.saturating_sub(available).saturating_sub(gtt));
    let gtt_headroom = gpu
        .gtt_allocatable_bytes
        .zip(gpu.gtt_used_bytes)
        .map(|(cap, used)| cap.saturating_sub(used));
    let vram_free = gpu
        .vram_total_bytes
        .zip(gpu.vram_used_bytes)
        .map(|(total, used)| total.saturating_sub(used));
    let largest = card_processes
        .iter()
        .filter_map(|p| Some((p, p.gpu_memory_bytes?)))
        .max_by_key(|(p, bytes)| (*bytes, std::cmp::Reverse(p.pid)))
        .map(|(p, bytes)| ProcessShare {
            pid: p.pid,
            name: p.name.clone(),
            gpu_memory_bytes: bytes,
            pool_percent: pool.filter(|p| *p > 0).map(|pool| bytes as f64 / pool as f64 * 100.0),
        });
    UnifiedMemory {
        pool_bytes: pool,
        carve_out_bytes: gpu.vram_total_bytes,
        carve_out_used_bytes: gpu.vram_used_bytes,
        gtt_used_bytes: gpu.gtt_used_bytes,
        gtt_allocatable_bytes: gpu.gtt_allocatable_bytes,
        host_available_bytes: host.available_bytes,
        host_used_excluding_gtt_bytes: host_used_excluding_gtt,
        gpu_used_bytes: gpu
            .vram_used_bytes
            .zip(gpu.gtt_used_bytes)
            .map(|(v, g)| v.saturating_add(g)),
        // GTT can grow only into memory that is available, and only up to the TTM cap.
        gpu_headroom_bytes: vram_free
            .zip(gtt_headroom)
            .zip(host.available_bytes)
            .map(|((vram, gtt), available)| vram.saturating_add(gtt.min(available))),
        largest_process: largest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn meminfo() {
        let m = parse_meminfo(
            "MemTotal:       131155886 kB\nMemFree: 1 kB\nMemAvailable:    94012332 kB\n",
        );
        assert_eq!(m.total_bytes, Some(131_155_886 * 1024));
        assert_eq!(m.available_bytes, Some(94_012_332 * 1024));
        assert_eq!(parse_meminfo("garbage"), HostMemory::default());
    }

    #[test]
    fn the_pool_adds_up_without_counting_gtt_twice() {
        let gpu = GpuMemory {
            vram_total_bytes: Some(GIB / 2),
            vram_used_bytes: Some(480 << 20),
            gtt_total_bytes: Some(120 * GIB),
            gtt_used_bytes: Some(29 * GIB),
            ttm_limit_bytes: Some(120 * GIB),
            gtt_allocatable_bytes: Some(120 * GIB),
        };
        let host = HostMemory { total_bytes: Some(125 * GIB), available_bytes: Some(89 * GIB) };
        let llama = GpuProcess {
            pid: 4242,
            name: "llama-server".into(),
            gpu_memory_bytes: Some(28 * GIB),
            ..Default::default()
        };
        let shell = GpuProcess {
            pid: 1830,
            name: "gnome-shell".into(),
            gpu_memory_bytes: Some(GIB / 4),
            ..Default::default()
        };
        let b = unified_memory(&gpu, host, &[&shell, &llama]);
        let pool = b.pool_bytes.unwrap();
        assert_eq!(pool, 125 * GIB + GIB / 2);
        let free_vram = b.carve_out_bytes.unwrap() - b.carve_out_used_bytes.unwrap();
        let parts = b.carve_out_used_bytes.unwrap()
            + free_vram
            + b.gtt_used_bytes.unwrap()
            + b.host_used_excluding_gtt_bytes.unwrap()
            + b.host_available_bytes.unwrap();
        assert_eq!(parts, pool, "every byte of the pool counted exactly once");
        assert_eq!(b.host_used_excluding_gtt_bytes, Some(7 * GIB));
        assert_eq!(b.gpu_headroom_bytes, Some(free_vram + 89 * GIB), "bounded by MemAvailable");
        let share = b.largest_process.unwrap();
        assert_eq!((share.pid, share.gpu_memory_bytes), (4242, 28 * GIB));
        assert!((share.pool_percent.unwrap() - 28.0 / 125.5 * 100.0).abs() < 1e-9);
    }

    #[test]
    fn the_ttm_cap_bounds_the_headroom_and_unknowns_stay_unknown() {
        let gpu = GpuMemory {
            vram_total_bytes: Some(GIB),
            vram_used_bytes: Some(GIB),
            gtt_used_bytes: Some(60 * GIB),
            gtt_allocatable_bytes: Some(66_818_834_432),
            ..GpuMemory::default()
        };
        let host = HostMemory { total_bytes: Some(125 * GIB), available_bytes: Some(60 * GIB) };
        let b = unified_memory(&gpu, host, &[]);
        assert_eq!(b.gpu_headroom_bytes, Some(66_818_834_432 - 60 * GIB));
        assert_eq!(b.largest_process, None);
        let b = unified_memory(&gpu, HostMemory::default(), &[]);
        assert_eq!(
            (b.pool_bytes, b.host_used_excluding_gtt_bytes, b.gpu_headroom_bytes),
            (None, None, None)
        );
    }
}
