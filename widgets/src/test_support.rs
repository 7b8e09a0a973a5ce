//! A realistic snapshot to render in tests, and a helper that renders into a `TestBackend`.

use halo_collectors::Snapshot;
use halo_collectors::model::{
    CpuReading, HostSection, LoadAverage, MemoryReading, NvidiaDevice, NvidiaSection, OwnProcess,
    ProcessReading, SourceState, SourceStatus, TemperatureSensor,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::widgets::Widget;

use crate::history::History;

/// A Strix Halo box decoding with llama-server: numbers in the range of the spec's readings.
pub fn host_snapshot() -> Snapshot {
    let mut s = Snapshot::new(42, 1_795_000_000_000, 42_000, 1000);
    let per_core: Vec<Option<f64>> = (0..32).map(|i| Some(((i * 37) % 100) as f64)).collect();
    s.host = Some(HostSection {
        host_name: Some("strix".into()),
        os_name: Some("Debian GNU/Linux 13".into()),
        kernel_release: Some("6.17.0-halo".into()),
        cpu_model: Some("AMD RYZEN AI MAX+ 395 w/ Radeon 8060S".into()),
        uptime_s: Some(3.0 * 86400.0 + 4000.0),
        cpu: CpuReading {
            total_percent: Some(42.5),
            per_core_percent: per_core,
            freq_mhz: vec![Some(5140.0), Some(625.0), None],
            logical_cpus: Some(32),
        },
        load_average: Some(LoadAverage { one: 8.2, five: 6.1, fifteen: 3.0 }),
        memory: MemoryReading {
            total_bytes: Some(128 << 30),
            available_bytes: Some(80 << 30),
            used_bytes: Some(48 << 30),
            swap_total_bytes: Some(0),
            swap_used_bytes: Some(0),
        },
        tctl_c: Some(88.25),
        temperatures: vec![
            TemperatureSensor { chip: "k10temp".into(), label: "Tctl".into(), temp_c: 88.25 },
            TemperatureSensor { chip: "amdgpu".into(), label: "edge".into(), temp_c: 70.0 },
            TemperatureSensor { chip: "nvme".into(), label: "Composite".into(), temp_c: 41.85 },
        ],
        top_processes: vec![
            ProcessReading {
                pid: 4242,
                name: "llama-server".into(),
                cpu_percent: Some(97.0),
                rss_bytes: Some(3 << 30),
            },
            ProcessReading {
                pid: 77,
                name: "halo-top".into(),
                cpu_percent: Some(0.4),
                rss_bytes: Some(14 << 20),
            },
            ProcessReading {
                pid: 1,
                name: "systemd".into(),
                cpu_percent: None,
                rss_bytes: Some(12 << 20),
            },
        ],
        own_process: OwnProcess { cpu_time_ns: Some(1_000_000_000), rss_bytes: Some(14 << 20) },
    });
    s.derived.own_cpu_percent = Some(0.3);
    s.derived.own_cpu_ms_per_sample = Some(3.0);
    let state = |name: &str, status| SourceState {
        name: name.into(),
        status,
        samples: 43,
        last_sample_ms: Some(0.8),
        age_ms: Some(500),
    };
    s.sources = vec![
        state("host", SourceStatus::Ok),
        state("nvidia", SourceStatus::Unavailable { reason: "NVML library not found".into() }),
    ];
    s
}

/// An RTX 3090 decoding at its power cap and one asleep under runtime PM.
pub fn nvidia_section() -> NvidiaSection {
    NvidiaSection {
        driver_version: Some("580.159.04".into()),
        cuda_driver_version: Some("13.0".into()),
        devices: vec![
            NvidiaDevice {
                index: 0,
                name: Some("NVIDIA GeForce RTX 3090".into()),
                gpu_busy_percent: Some(98.0),
                vram_used_bytes: Some(22 << 30),
                vram_total_bytes: Some(24 << 30),
                sm_clock_mhz: Some(1695),
                sm_clock_max_mhz: Some(2100),
                power_w: Some(349.6),
                power_limit_w: Some(350.0),
                temp_c: Some(71.0),
                performance_state: Some("P2".into()),
                throttle_reasons: Some(vec!["sw_power_cap".into()]),
                ..NvidiaDevice::default()
            },
            NvidiaDevice {
                index: 1,
                pci_bus_id: Some("0000:02:00.0".into()),
                runtime_status: Some("suspended".into()),
                ..NvidiaDevice::default()
            },
        ],
    }
}

/// The snapshots of a committed session file (`fixtures/sessions/NAME.ndjson`), without its
/// header and footer lines.
pub fn session(name: &str) -> Vec<Snapshot> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/sessions")
        .join(format!("{name}.ndjson"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with("{\"header\"") && !l.starts_with("{\"footer\""))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

/// A session played into a history up to snapshot `upto` (all of it with `None`), as the
/// dashboard would have it: the history and the snapshot on screen.
pub fn played(name: &str, upto: Option<usize>) -> (History, Snapshot) {
    let snapshots = session(name);
    let end = upto.unwrap_or(snapshots.len() - 1);
    let mut history = History::default();
    for s in &snapshots[..=end] {
        history.push(s);
    }
    (history, snapshots[end].clone())
}

/// Renders `widget` into a `width`×`height` test terminal and returns its text, one quoted
/// line per row. (TestBackend's own `Display` panics on a zero-width buffer.)
pub fn render(width: u16, height: u16, widget: impl Widget) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    terminal.draw(|frame| frame.render_widget(widget, frame.area())).expect("draw");
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        let row: String = (0..buffer.area.width).map(|x| buffer[(x, y)].symbol()).collect();
        text += &format!("\"{row}\"\n");
    }
    text
}

/// The AMD section the real collector reads from the committed Strix Halo load fixture.
pub fn strix_halo_load() -> halo_collectors::model::AmdgpuSection {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let mut amd =
        halo_collectors::amdgpu::AmdgpuCollector::new(halo_collectors::amdgpu::AmdgpuConfig {
            sysfs_root: fixtures.join("sysfs/strix-halo-load"),
            procfs_root: fixtures.join("procfs/strix-halo-load"),
        });
    amd.read().expect("the Strix Halo load fixture reads")
}
