//! CPU time of one NVIDIA sample through NVML on this machine (run it on a machine with an
//! NVIDIA driver; elsewhere it says why it cannot). `cargo bench --bench nvml_sample`.

use std::path::PathBuf;
use std::time::Instant;

use halo_collectors::nvidia::{LIBRARIES, NvidiaCollector, NvidiaConfig};
use nix::time::{ClockId, clock_gettime};
use nvml_wrapper::Nvml;
use nvml_wrapper::enum_wrappers::device::{Clock, PcieUtilCounter, TemperatureSensor};

fn thread_cpu_ns() -> u64 {
    let t = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).expect("thread CPU clock");
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

fn main() {
    let mut nvidia = NvidiaCollector::new(NvidiaConfig {
        sysfs_root: PathBuf::from("/sys"),
        procfs_root: PathBuf::from("/proc"),
        libraries: LIBRARIES.iter().map(|l| l.to_string()).collect(),
    });
    let first_at = Instant::now();
    let first = match nvidia.read() {
        Ok(section) => section,
        Err(e) => {
            println!("NVML sample: cannot measure here: {e}");
            return;
        }
    };
    let first_ms = first_at.elapsed().as_secs_f64() * 1000.0;
    let samples = 200;
    let mut cpu_us: Vec<f64> = (0..samples)
        .map(|_| {
            let before = thread_cpu_ns();
            std::hint::black_box(nvidia.read().expect("NVML sample"));
            (thread_cpu_ns() - before) as f64 / 1000.0
        })
        .collect();
    cpu_us.sort_by(f64::total_cmp);
    let names: Vec<String> = first.devices.iter().filter_map(|d| d.name.clone()).collect();
    println!(
        "NVML sample: {} device(s) {names:?}, driver {:?}",
        first.devices.len(),
        first.driver_version
    );
    println!("  first sample (NVML init + static facts): {first_ms:.1} ms wall");
    println!(
        "  CPU per sample: median {:.0} µs, p90 {:.0} µs, max {:.0} µs ({samples} samples)",
        cpu_us[samples / 2],
        cpu_us[samples * 9 / 10],
        cpu_us[samples - 1]
    );
    per_call();
}

/// Median CPU and wall time of each NVML call the collector makes, to see where a sample's
/// cost goes.
fn per_call() {
    let Ok(nvml) = Nvml::init() else { return };
    let Ok(device) = nvml.device_by_index(0) else { return };
    type Call<'a> = Box<dyn Fn() -> bool + 'a>;
    let calls: Vec<(&str, Call)> = vec![
        ("device_by_index", Box::new(|| nvml.device_by_index(0).is_ok())),
        ("uuid", Box::new(|| device.uuid().is_ok())),
        ("utilization_rates", Box::new(|| device.utilization_rates().is_ok())),
        ("memory_info", Box::new(|| device.memory_info().is_ok())),
        ("clock_info(SM)", Box::new(|| device.clock_info(Clock::SM).is_ok())),
        ("power_usage", Box::new(|| device.power_usage().is_ok())),
        ("enforced_power_limit", Box::new(|| device.enforced_power_limit().is_ok())),
        ("total_energy_consumption", Box::new(|| device.total_energy_consumption().is_ok())),
        ("temperature", Box::new(|| device.temperature(TemperatureSensor::Gpu).is_ok())),
        ("performance_state", Box::new(|| device.performance_state().is_ok())),
        ("current_throttle_reasons", Box::new(|| device.current_throttle_reasons().is_ok())),
        ("current_pcie_link_gen", Box::new(|| device.current_pcie_link_gen().is_ok())),
        ("current_pcie_link_width", Box::new(|| device.current_pcie_link_width().is_ok())),
        (
            "pcie_throughput(Send)",
            Box::new(|| device.pcie_throughput(PcieUtilCounter::Send).is_ok()),
        ),
        ("running_compute_processes", Box::new(|| device.running_compute_processes().is_ok())),
        ("running_graphics_processes", Box::new(|| device.running_graphics_processes().is_ok())),
        ("process_utilization_stats", Box::new(|| device.process_utilization_stats(None).is_ok())),
        ("sys_driver_version", Box::new(|| nvml.sys_driver_version().is_ok())),
        ("sys_cuda_driver_version", Box::new(|| nvml.sys_cuda_driver_version().is_ok())),
    ];
    println!("  per call (median of 30):          CPU µs    wall µs   ok");
    for (name, call) in calls {
        let mut cpu = Vec::new();
        let mut wall = Vec::new();
        let mut ok = false;
        for _ in 0..30 {
            let (c, w) = (thread_cpu_ns(), Instant::now());
            ok = call();
            cpu.push((thread_cpu_ns() - c) as f64 / 1000.0);
            wall.push(w.elapsed().as_secs_f64() * 1e6);
        }
        cpu.sort_by(f64::total_cmp);
        wall.sort_by(f64::total_cmp);
        println!("    {name:30} {:9.0} {:10.0}   {ok}", cpu[15], wall[15]);
    }
}
