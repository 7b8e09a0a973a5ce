//! Reading one awake NVIDIA device through NVML.

use std::collections::HashMap;
use std::path::Path;

use nvml_wrapper::Device;
use nvml_wrapper::enum_wrappers::device::{
    Clock, PcieUtilCounter, TemperatureSensor, TemperatureThreshold,
};
use nvml_wrapper::enums::device::UsedGpuMemory;
use nvml_wrapper::error::NvmlError;

use super::mapping::{field, pstate_name, sysfs_bus_id, throttle_names, watts};
use crate::model::{NvidiaDevice, NvidiaProcess};
use crate::sysfs::read_trimmed;

/// What does not change while the driver runs: read once per device, so that each sample
/// makes fewer driver calls.
#[derive(Debug, Clone, Default)]
pub struct Statics {
    pub name: Option<String>,
    pub uuid: Option<String>,
    pub pci_bus_id: Option<String>,
    pub sm_clock_max_mhz: Option<u32>,
    pub graphics_clock_max_mhz: Option<u32>,
    pub memory_clock_max_mhz: Option<u32>,
    pub temp_slowdown_c: Option<f64>,
    pub temp_shutdown_c: Option<f64>,
    pub fans: u32,
}

impl Statics {
    pub fn read(device: &Device) -> Result<Statics, NvmlError> {
        let threshold = |t| field(device.temperature_threshold(t)).map(|v| v.map(f64::from));
        Ok(Statics {
            name: field(device.name())?,
            uuid: field(device.uuid())?,
            pci_bus_id: field(device.pci_info())?.map(|p| sysfs_bus_id(&p.bus_id)),
            sm_clock_max_mhz: field(device.max_clock_info(Clock::SM))?,
            graphics_clock_max_mhz: field(device.max_clock_info(Clock::Graphics))?,
            memory_clock_max_mhz: field(device.max_clock_info(Clock::Memory))?,
            temp_slowdown_c: threshold(TemperatureThreshold::Slowdown)?,
            temp_shutdown_c: threshold(TemperatureThreshold::Shutdown)?,
            fans: field(device.num_fans())?.unwrap_or(0),
        })
    }

    /// A device we may not query: only what is already known.
    pub fn asleep(&self, index: u32, runtime_status: &str) -> NvidiaDevice {
        NvidiaDevice {
            index,
            name: self.name.clone(),
            uuid: self.uuid.clone(),
            pci_bus_id: self.pci_bus_id.clone(),
            runtime_status: Some(runtime_status.to_string()),
            ..NvidiaDevice::default()
        }
    }
}

/// Readings too costly for every sample (measured on an H200, driver 580: each PCIe
/// throughput call blocks for its 20 ms sampling window and takes ~0.6 ms of CPU; per-process
/// utilisation takes ~2 ms of CPU), refreshed every few seconds and reused in between. Both
/// are averages over a window anyway, so the last reading stays a fair answer.
#[derive(Debug, Clone, Default)]
pub struct SlowReadings {
    pub pcie_tx_kb_per_s: Option<u64>,
    pub pcie_rx_kb_per_s: Option<u64>,
    /// pid → (SM %, memory %) over the window since the previous utilisation read; `None`
    /// when the driver does not report per-process utilisation.
    pub process_busy: Option<HashMap<u32, (u32, u32)>>,
    /// Driver timestamp of the newest per-process sample seen (NVML returns only newer ones).
    pub last_utilization_us: Option<u64>,
}

impl SlowReadings {
    pub fn refresh(&mut self, device: &Device) -> Result<(), NvmlError> {
        self.pcie_tx_kb_per_s =
            field(device.pcie_throughput(PcieUtilCounter::Send))?.map(u64::from);
        self.pcie_rx_kb_per_s =
            field(device.pcie_throughput(PcieUtilCounter::Receive))?.map(u64::from);
        // NOT_FOUND here means "no process was busy since the timestamp" (seen on an idle H200
        // with driver 580), not a missing device.
        let samples = match device.process_utilization_stats(self.last_utilization_us) {
            Err(NvmlError::NotFound) => Some(Vec::new()),
            other => field(other)?,
        };
        self.process_busy = samples.map(|samples| {
            let mut latest: HashMap<u32, (u64, u32, u32)> = HashMap::new();
            for s in &samples {
                let entry = latest.entry(s.pid).or_insert((s.timestamp, s.sm_util, s.mem_util));
                if s.timestamp >= entry.0 {
                    *entry = (s.timestamp, s.sm_util, s.mem_util);
                }
                self.last_utilization_us =
                    Some(self.last_utilization_us.map_or(s.timestamp, |t| t.max(s.timestamp)));
            }
            latest.into_iter().map(|(pid, (_, sm, mem))| (pid, (sm, mem))).collect()
        });
        Ok(())
    }
}

/// Reads the live fields of an awake device; `slow` holds the latest of the costly readings.
pub fn read_device(
    device: &Device,
    index: u32,
    statics: &Statics,
    runtime_status: Option<String>,
    procfs_root: &Path,
    slow: &SlowReadings,
) -> Result<NvidiaDevice, NvmlError> {
    let utilization = field(device.utilization_rates())?;
    let memory = field(device.memory_info())?;
    let clock = |c| field(device.clock_info(c));
    let fan_percent = (0..statics.fans)
        .map(|i| field(device.fan_speed(i)).map(|v| v.map(f64::from)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(NvidiaDevice {
        index,
        name: statics.name.clone(),
        uuid: statics.uuid.clone(),
        pci_bus_id: statics.pci_bus_id.clone(),
        runtime_status,
        gpu_busy_percent: utilization.as_ref().map(|u| f64::from(u.gpu)),
        memory_busy_percent: utilization.as_ref().map(|u| f64::from(u.memory)),
        vram_total_bytes: memory.as_ref().map(|m| m.total),
        vram_used_bytes: memory.as_ref().map(|m| m.used),
        vram_reserved_bytes: memory.as_ref().map(|m| m.reserved),
        sm_clock_mhz: clock(Clock::SM)?,
        sm_clock_max_mhz: statics.sm_clock_max_mhz,
        graphics_clock_mhz: clock(Clock::Graphics)?,
        graphics_clock_max_mhz: statics.graphics_clock_max_mhz,
        memory_clock_mhz: clock(Clock::Memory)?,
        memory_clock_max_mhz: statics.memory_clock_max_mhz,
        power_w: field(device.power_usage())?.map(watts),
        power_limit_w: field(device.enforced_power_limit())?.map(watts),
        energy_total_mj: field(device.total_energy_consumption())?,
        temp_c: field(device.temperature(TemperatureSensor::Gpu))?.map(f64::from),
        temp_slowdown_c: statics.temp_slowdown_c,
        temp_shutdown_c: statics.temp_shutdown_c,
        fan_percent,
        performance_state: field(device.performance_state())?.and_then(pstate_name),
        throttle_reasons: field(device.current_throttle_reasons())?.map(throttle_names),
        pcie_gen: field(device.current_pcie_link_gen())?,
        pcie_width: field(device.current_pcie_link_width())?,
        pcie_tx_kb_per_s: slow.pcie_tx_kb_per_s,
        pcie_rx_kb_per_s: slow.pcie_rx_kb_per_s,
        processes: processes(device, procfs_root, slow)?,
    })
}

fn processes(
    device: &Device,
    procfs_root: &Path,
    slow: &SlowReadings,
) -> Result<Vec<NvidiaProcess>, NvmlError> {
    let mut by_pid: Vec<NvidiaProcess> = Vec::new();
    let lists = [
        ("compute", field(device.running_compute_processes())?),
        ("graphics", field(device.running_graphics_processes())?),
    ];
    for (kind, list) in lists {
        for info in list.into_iter().flatten() {
            let used = match info.used_gpu_memory {
                UsedGpuMemory::Used(bytes) => Some(bytes),
                UsedGpuMemory::Unavailable => None,
            };
            match by_pid.iter_mut().find(|p| p.pid == info.pid) {
                // A process with both a CUDA and a graphics context is listed twice.
                Some(p) => p.kind = format!("{}+{kind}", p.kind),
                None => by_pid.push(NvidiaProcess {
                    pid: info.pid,
                    name: read_trimmed(&procfs_root.join(info.pid.to_string()).join("comm")).ok(),
                    kind: kind.to_string(),
                    vram_used_bytes: used,
                    ..NvidiaProcess::default()
                }),
            }
        }
    }
    // NVML returns utilisation samples only for processes that were busy in the window; when
    // the query works, a listed process without a sample was idle (0 %). When the driver does
    // not support it, utilisation stays unknown.
    if let Some(busy) = &slow.process_busy {
        for p in &mut by_pid {
            let (sm, mem) = busy.get(&p.pid).copied().unwrap_or((0, 0));
            p.gpu_busy_percent = Some(f64::from(sm));
            p.memory_busy_percent = Some(f64::from(mem));
        }
    }
    Ok(by_pid)
}
