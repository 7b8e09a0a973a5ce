//! The AMD lines of `halo-top snapshot` (the text summary; `--json` has everything).

use std::fmt::Write;

use halo_collectors::Snapshot;
use halo_collectors::model::{AmdgpuCard, GpuKind, GpuProcess};
use halo_widgets::format::{NA, bytes, mhz};

fn or_na<T>(value: Option<T>, show: impl Fn(T) -> String) -> String {
    value.map_or_else(|| NA.to_string(), show)
}

fn celsius2(v: Option<f64>) -> String {
    or_na(v, |v| format!("{v:.2}°C"))
}

fn watts_from_mw(v: Option<u32>) -> String {
    or_na(v, |mw| format!("{:.3} W", f64::from(mw) / 1000.0))
}

fn percent1(v: Option<f64>) -> String {
    or_na(v, |v| format!("{v:.1}%"))
}

pub fn summary(s: &Snapshot) -> String {
    let mut out = String::new();
    let derived = &s.derived.amdgpu;
    if let Some(amd) = &s.amdgpu {
        for card in &amd.cards {
            card_lines(&mut out, card, s);
            let mine =
                amd.processes.clients.iter().filter(|p| p.card.as_deref() == Some(&card.card));
            for process in mine {
                process_line(&mut out, process, s);
            }
        }
        if amd.processes.hidden_processes > 0 {
            let _ = writeln!(
                out,
                "         {} processes not readable (other users): their GPU use is not shown",
                amd.processes.hidden_processes
            );
        }
    }
    if let Some(source) = derived.cpu_temp_source {
        let _ = writeln!(out, "cpu temp {} ({})", celsius2(derived.cpu_temp_c), source.label());
    }
    out
}

fn card_lines(out: &mut String, card: &AmdgpuCard, s: &Snapshot) {
    let id = &card.identity;
    let kind = match id.kind {
        Some(GpuKind::Apu) => "APU",
        Some(GpuKind::Dgpu) => "dGPU",
        None => "GPU",
    };
    let name = id.marketing_name.as_deref().unwrap_or("AMD GPU");
    let _ = writeln!(
        out,
        "amdgpu   {} {name} ({}{kind}, {})",
        card.card,
        id.codename.as_deref().map(|c| format!("{c} ")).unwrap_or_default(),
        id.pci_bdf.as_deref().unwrap_or(NA)
    );
    if card.asleep {
        let _ = writeln!(out, "         runtime-suspended: not read, so as not to wake it");
        return;
    }
    let m = card.metrics.as_ref();
    let edge = m.and_then(|m| m.edge_temp_c).or(card.hwmon.edge_temp_c);
    let sclk = m.and_then(|m| m.gfxclk_mhz.map(f64::from)).or(card.hwmon.sclk_mhz);
    let gfx = m.and_then(|m| m.gfx_activity_percent).or(card.gpu_busy_percent);
    let _ = writeln!(
        out,
        "         edge {}, SoC {}, GFX {} busy, sclk {}",
        celsius2(edge),
        celsius2(m.and_then(|m| m.soc_temp_c)),
        percent1(gfx),
        mhz(sclk)
    );
    let socket = m.and_then(|m| m.socket_power_mw);
    let socket = if socket.is_some() {
        watts_from_mw(socket)
    } else {
        or_na(card.hwmon.power_w, |w| format!("{w:.2} W (hwmon)"))
    };
    let _ = writeln!(
        out,
        "         power socket {socket}, GFX {}, CPU cores {}, STAPM limit {}",
        watts_from_mw(m.and_then(|m| m.gfx_power_mw)),
        watts_from_mw(m.and_then(|m| m.cpu_cores_power_mw)),
        watts_from_mw(m.and_then(|m| m.stapm_power_limit_mw))
    );
    if let Some(m) = m {
        let mbs = |v: Option<u32>| or_na(v, |v| format!("{v} MB/s"));
        let _ = writeln!(
            out,
            "         DRAM read {}, write {}{}",
            mbs(m.dram_read_mb_per_s),
            mbs(m.dram_write_mb_per_s),
            if m.dram_bandwidth_saturated { " (at the u16 ceiling: may be clipped)" } else { "" }
        );
    }
    let mem = &card.memory;
    let host_available = card.unified_memory.as_ref().and_then(|u| u.host_available_bytes);
    let _ = writeln!(
        out,
        "         memory VRAM {} of {}, GTT {} used of {} allocatable, host available {}",
        bytes(mem.vram_used_bytes),
        bytes(mem.vram_total_bytes),
        bytes(mem.gtt_used_bytes),
        bytes(mem.gtt_allocatable_bytes),
        bytes(host_available)
    );
    let has_counters = m.is_some_and(|m| m.throttle_residency.is_some());
    if let Some(d) = s.derived.amdgpu.cards.iter().find(|d| d.card == card.card)
        && has_counters
    {
        let limiters: Vec<String> =
            d.throttle_percent.iter().map(|(l, p)| format!("{l} {p:.1}%")).collect();
        if !limiters.is_empty() {
            let _ = writeln!(out, "         limiters engaged {}", limiters.join(", "));
        } else if d.metrics_stale {
            let _ = writeln!(
                out,
                "         limiters engaged n/a (gpu_metrics unchanged since the previous snapshot)"
            );
        }
    }
    for problem in &card.problems {
        let _ = writeln!(out, "         problem: {problem}");
    }
}

fn process_line(out: &mut String, p: &GpuProcess, s: &Snapshot) {
    let busy = s.derived.amdgpu.processes.iter().find(|b| b.pid == p.pid && b.card == p.card);
    let engines = if !p.engine_time_visible {
        "engine time n/a (KFD)".to_string()
    } else {
        match busy {
            Some(b) if !b.engine_percent.is_empty() => b
                .engine_percent
                .iter()
                .map(|(e, pct)| format!("{e} {pct:.1}%"))
                .collect::<Vec<_>>()
                .join(", "),
            _ => "engine use n/a".to_string(),
        }
    };
    let _ = writeln!(
        out,
        "         process {} {}: GTT {}, VRAM {}, {engines}",
        p.pid,
        p.name,
        bytes(p.gtt_bytes),
        bytes(p.vram_bytes)
    );
}
