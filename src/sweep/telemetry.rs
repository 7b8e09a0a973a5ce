//! The machine while a sweep runs: the hub runs the host, amdgpu and NVIDIA collectors for the
//! whole sweep; every snapshot is boiled down to a [`Sample`] (hottest sensor, clocks, power,
//! load), optionally written whole to a session file (replayable), and each point takes the
//! samples of its own time window.

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use halo_collectors::amdgpu::{AmdgpuCollector, AmdgpuConfig};
use halo_collectors::host::{HostCollector, HostConfig};
use halo_collectors::nvidia::{self, NvidiaCollector, NvidiaConfig};
use halo_collectors::{Snapshot, Source};
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

use super::point::Telemetry;
use crate::cli::Global;
use crate::session::{Footer, Header, SessionWriter};

/// A span of wall-clock time, unix ms from..to.
pub type Window = (i64, i64);

/// What a point needs from one snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    pub ts_unix_ms: i64,
    /// The hottest sensor: (°C, its name).
    pub peak_temp: Option<(f64, String)>,
    pub gpu_clock_mhz: Option<f64>,
    /// Mean over the cores that report a clock.
    pub cpu_clock_mhz: Option<f64>,
    pub power_w: Option<f64>,
    pub power_source: Option<&'static str>,
    pub load_average_1m: Option<f64>,
}

impl Sample {
    pub fn of(s: &Snapshot) -> Sample {
        let mut temps: Vec<(f64, String)> = Vec::new();
        if let Some(h) = &s.host {
            temps.extend(h.tctl_c.map(|t| (t, "tctl".to_string())));
            temps.extend(
                h.temperatures.iter().map(|t| (t.temp_c, format!("{} {}", t.chip, t.label))),
            );
        }
        let cards = s.amdgpu.iter().flat_map(|a| &a.cards);
        for card in cards.clone() {
            temps.extend(card.hwmon.edge_temp_c.map(|t| (t, format!("{} edge", card.card))));
            if let Some(m) = &card.metrics {
                for (t, name) in
                    [(m.edge_temp_c, "edge"), (m.hotspot_temp_c, "hotspot"), (m.soc_temp_c, "soc")]
                {
                    temps.extend(t.map(|t| (t, format!("{} {name}", card.card))));
                }
            }
        }
        let nvidia_devices = s.nvidia.iter().flat_map(|n| &n.devices);
        temps.extend(
            nvidia_devices.clone().filter_map(|d| Some((d.temp_c?, format!("nvidia {}", d.index)))),
        );
        let peak_temp = temps.into_iter().max_by(|a, b| a.0.total_cmp(&b.0));

        let apu_metrics = cards.clone().find_map(|c| c.metrics.as_ref());
        let gpu_clock_mhz = apu_metrics
            .and_then(|m| m.gfxclk_mhz.map(f64::from))
            .or_else(|| nvidia_devices.clone().find_map(|d| d.sm_clock_mhz.map(f64::from)));
        let core_clocks: Vec<f64> =
            s.host.iter().flat_map(|h| h.cpu.freq_mhz.iter().flatten().copied()).collect();
        let cpu_clock_mhz = (!core_clocks.is_empty())
            .then(|| core_clocks.iter().sum::<f64>() / core_clocks.len() as f64);

        // As the live roofline does: the APU's socket power (CPU cores, GPU and memory
        // controller of a Strix Halo), else the NVIDIA cards' mean power over the interval.
        let socket_w = apu_metrics.and_then(|m| m.socket_power_mw).map(|mw| f64::from(mw) / 1000.0);
        let nvidia_w: Vec<f64> = s.derived.nvidia.iter().filter_map(|d| d.mean_power_w).collect();
        let (power_w, power_source) = match socket_w {
            Some(w) => (Some(w), Some("amdgpu socket")),
            None if !nvidia_w.is_empty() => (Some(nvidia_w.iter().sum()), Some("nvidia")),
            None => (None, None),
        };
        Sample {
            ts_unix_ms: s.ts_unix_ms,
            peak_temp,
            gpu_clock_mhz,
            cpu_clock_mhz,
            power_w,
            power_source,
            load_average_1m: s.host.as_ref().and_then(|h| h.load_average.as_ref()).map(|l| l.one),
        }
    }
}

/// The figures of the samples within `[start, end]`; prefill and decode power from the samples
/// inside their windows.
pub fn summarize(
    samples: &[Sample],
    start_unix_ms: i64,
    end_unix_ms: i64,
    prefill_windows: &[Window],
    decode_windows: &[Window],
) -> Telemetry {
    let within: Vec<&Sample> =
        samples.iter().filter(|s| (start_unix_ms..=end_unix_ms).contains(&s.ts_unix_ms)).collect();
    let values = |f: &dyn Fn(&Sample) -> Option<f64>| {
        within.iter().filter_map(|s| f(s)).collect::<Vec<f64>>()
    };
    let min = |v: &[f64]| v.iter().copied().reduce(f64::min);
    let max = |v: &[f64]| v.iter().copied().reduce(f64::max);
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let gpu = values(&|s| s.gpu_clock_mhz);
    let cpu = values(&|s| s.cpu_clock_mhz);
    let power = values(&|s| s.power_w);
    let in_windows = |windows: &[Window]| {
        let v: Vec<f64> = within
            .iter()
            .filter(|s| windows.iter().any(|(a, b)| (*a..=*b).contains(&s.ts_unix_ms)))
            .filter_map(|s| s.power_w)
            .collect();
        mean(&v)
    };
    let peak = within
        .iter()
        .filter_map(|s| s.peak_temp.as_ref())
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .cloned();
    Telemetry {
        snapshots: within.len() as u64,
        peak_temp_c: peak.as_ref().map(|p| p.0),
        peak_temp_sensor: peak.map(|p| p.1),
        gpu_clock_min_mhz: min(&gpu),
        gpu_clock_max_mhz: max(&gpu),
        cpu_clock_min_mhz: min(&cpu),
        cpu_clock_max_mhz: max(&cpu),
        mean_power_w: mean(&power),
        prefill_power_w: in_windows(prefill_windows),
        decode_power_w: in_windows(decode_windows),
        power_source: within.iter().find_map(|s| s.power_source).map(str::to_string),
        load_average_max: max(&values(&|s| s.load_average_1m)),
    }
}

/// The samples a [`Recorder`] has taken so far.
#[derive(Clone)]
pub struct Samples(Arc<Mutex<Vec<Sample>>>);

impl Samples {
    pub fn now(&self) -> Vec<Sample> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The running collectors and what they have seen.
pub struct Recorder {
    samples: Arc<Mutex<Vec<Sample>>>,
    hub: JoinHandle<()>,
    task: JoinHandle<Result<()>>,
}

/// The sources a sweep watches: the machine, not the servers it starts itself.
pub fn sources(global: &Global) -> Vec<Box<dyn Source>> {
    let host = HostCollector::new(HostConfig {
        sysfs_root: global.sysfs_root.clone(),
        procfs_root: global.procfs_root.clone(),
        ..HostConfig::default()
    });
    let amdgpu = AmdgpuCollector::new(AmdgpuConfig {
        sysfs_root: global.sysfs_root.clone(),
        procfs_root: global.procfs_root.clone(),
    });
    let nvidia = NvidiaCollector::new(NvidiaConfig {
        sysfs_root: global.sysfs_root.clone(),
        procfs_root: global.procfs_root.clone(),
        libraries: nvidia::LIBRARIES.iter().map(|l| l.to_string()).collect(),
    });
    vec![Box::new(host), Box::new(amdgpu), Box::new(nvidia)]
}

impl Recorder {
    /// Starts the hub; with `session`, every snapshot is also written to that session file.
    pub fn start(global: &Global, session: Option<(&Path, Header)>) -> Result<Recorder> {
        let sources = sources(global);
        let (feed, hub) = crate::hub::start(sources, global.interval);
        let mut writer = match session {
            Some((path, header)) => Some(SessionWriter::create(path, &header)?),
            None => None,
        };
        let samples = Arc::new(Mutex::new(Vec::new()));
        let mut all = feed.subscribe();
        let kept = samples.clone();
        let task = tokio::spawn(async move {
            let mut missed = 0;
            loop {
                match all.recv().await {
                    Ok(snapshot) => {
                        kept.lock().unwrap_or_else(|p| p.into_inner()).push(Sample::of(&snapshot));
                        if let Some(w) = writer.as_mut() {
                            w.write_snapshot(&snapshot)?;
                        }
                    }
                    Err(RecvError::Lagged(n)) => missed += n,
                    Err(RecvError::Closed) => break,
                }
            }
            if let Some(w) = writer {
                let footer = Footer {
                    ended_unix_ms: crate::record::unix_ms_now(),
                    snapshots: w.written(),
                    missed,
                    stop_reason: Some("sweep ended".into()),
                    verdict: None,
                };
                w.finish(&footer)?;
            }
            Ok(())
        });
        Ok(Recorder { samples, hub, task })
    }

    /// A handle to the samples, for the threads that measure points.
    pub fn samples(&self) -> Samples {
        Samples(self.samples.clone())
    }

    /// Stops the collectors; the session file (if any) gets its footer.
    pub async fn stop(self) -> Result<()> {
        self.hub.abort();
        let _ = self.hub.await;
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(anyhow::anyhow!("the telemetry task failed: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(ts: i64, temp: f64, power: Option<f64>) -> Sample {
        Sample {
            ts_unix_ms: ts,
            peak_temp: Some((temp, format!("sensor{ts}"))),
            gpu_clock_mhz: Some(2900.0 - ts as f64),
            cpu_clock_mhz: None,
            power_w: power,
            power_source: power.map(|_| "amdgpu socket"),
            load_average_1m: Some(ts as f64 / 100.0),
        }
    }

    #[test]
    fn a_point_takes_its_own_window() {
        let samples: Vec<Sample> = [
            (0, 50.0, Some(10.0)),
            (100, 70.0, Some(80.0)),
            (200, 60.0, Some(60.0)),
            (300, 90.0, None),
        ]
        .into_iter()
        .map(|(t, c, p)| sample(t, c, p))
        .collect();
        let t = summarize(&samples, 50, 250, &[(90, 110)], &[(150, 260)]);
        assert_eq!(t.snapshots, 2);
        assert_eq!((t.peak_temp_c, t.peak_temp_sensor.as_deref()), (Some(70.0), Some("sensor100")));
        assert_eq!((t.gpu_clock_min_mhz, t.gpu_clock_max_mhz), (Some(2700.0), Some(2800.0)));
        assert_eq!((t.cpu_clock_min_mhz, t.cpu_clock_max_mhz), (None, None), "no reading: n/a");
        assert_eq!(t.mean_power_w, Some(70.0));
        assert_eq!((t.prefill_power_w, t.decode_power_w), (Some(80.0), Some(60.0)));
        assert_eq!(t.load_average_max, Some(2.0));
        let empty = summarize(&samples, 1000, 2000, &[], &[]);
        assert_eq!((empty.snapshots, empty.peak_temp_c, empty.mean_power_w), (0, None, None));
    }
}
