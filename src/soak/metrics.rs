//! What a soak follows over time, taken from each snapshot: the series the verdict judges and
//! the report plots, and the throttle limiters engaged. One place, so that the live soak, the
//! footer, `report` and `export` agree.

use halo_collectors::Snapshot;
use serde::{Deserialize, Serialize};

/// Which family a series belongs to (one plot each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Throughput,
    Clock,
    Temperature,
    Power,
    /// Roofline utilisation, speculative acceptance.
    Efficiency,
    /// CPU busy, load average: how much else the machine was doing.
    Host,
}

/// One followed quantity of one snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// Stable name, e.g. `decode_tok_s`, `temp_c.tctl`, `power_w.nvidia0`.
    pub key: String,
    /// For people, e.g. `NVIDIA H200 (0) power`.
    pub label: String,
    pub unit: &'static str,
    pub kind: Kind,
    pub value: Option<f64>,
}

/// Share of the interval a limiter held the device back (0–100).
#[derive(Debug, Clone, PartialEq)]
pub struct Limiter {
    /// The device, e.g. `nvidia0` or `card1`.
    pub device: String,
    /// The limiter as the device names it (`sw_power_cap`, `thm_gfx`, ...).
    pub limiter: String,
    pub percent: f64,
}

/// Everything followed in one snapshot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Extract {
    pub readings: Vec<Reading>,
    /// Devices that reported their limiters in this snapshot (a device absent here does not
    /// count towards residency), and the limiters engaged.
    pub limiter_devices: Vec<String>,
    pub limiters: Vec<Limiter>,
}

impl Extract {
    fn push(&mut self, key: String, label: String, unit: &'static str, kind: Kind, v: Option<f64>) {
        self.readings.push(Reading { key, label, unit, kind, value: v });
    }

    pub fn value(&self, key: &str) -> Option<f64> {
        self.readings.iter().find(|r| r.key == key).and_then(|r| r.value)
    }

    /// For tests: card1's GPU temperature, with its limiters reported and, when `limited`,
    /// `thm_gfx` engaged at 40 %.
    #[cfg(test)]
    pub fn gpu_temperature(value: Option<f64>, limited: bool) -> Self {
        let mut x = Extract::default();
        x.push("temp_c.gpu".into(), "GPU".into(), "°C", Kind::Temperature, value);
        x.limiter_devices.push("card1".into());
        if limited {
            x.limiters.push(Limiter {
                device: "card1".into(),
                limiter: "thm_gfx".into(),
                percent: 40.0,
            });
        }
        x
    }
}

pub const DECODE: &str = "decode_tok_s";
pub const PREFILL: &str = "prefill_tok_s";
pub const CPU_BUSY: &str = "cpu_busy_percent";
pub const LOAD: &str = "load_1m";

/// The series of one snapshot. Sources that are absent add nothing; a source that is present
/// but could not read a value adds the series with `None`, so the gap shows.
pub fn extract(s: &Snapshot) -> Extract {
    let mut x = Extract::default();
    let throughput = throughput(s);
    x.push(DECODE.into(), "decode".into(), "tok/s", Kind::Throughput, throughput.decode_tok_s);
    x.push(PREFILL.into(), "prefill".into(), "tok/s", Kind::Throughput, throughput.prefill_tok_s);

    let roofline = &s.derived.roofline;
    if s.model.is_some() {
        x.push(
            "roofline_utilisation_percent".into(),
            "roofline utilisation (of peak)".into(),
            "%",
            Kind::Efficiency,
            roofline.utilisation_of_peak_percent,
        );
    }
    if let Some(acceptance) = throughput.spec_acceptance_percent {
        x.push(
            "spec_acceptance_percent".into(),
            "draft acceptance".into(),
            "%",
            Kind::Efficiency,
            Some(acceptance),
        );
    }

    if let Some(h) = &s.host {
        x.push(CPU_BUSY.into(), "CPU busy".into(), "%", Kind::Host, h.cpu.total_percent);
        let load = h.load_average.map(|l| l.one);
        x.push(LOAD.into(), "load average (1 min)".into(), "", Kind::Host, load);
        let freqs: Vec<f64> = h.cpu.freq_mhz.iter().flatten().copied().collect();
        if !h.cpu.freq_mhz.is_empty() {
            let mean = (!freqs.is_empty()).then(|| freqs.iter().sum::<f64>() / freqs.len() as f64);
            x.push("clock_mhz.cpu".into(), "CPU clock (mean)".into(), "MHz", Kind::Clock, mean);
        }
        if h.tctl_c.is_some() {
            x.push("temp_c.tctl".into(), "CPU Tctl".into(), "°C", Kind::Temperature, h.tctl_c);
        }
    }

    for card in s.amdgpu.iter().flat_map(|a| &a.cards).filter(|c| !c.asleep) {
        let dev = card.card.clone();
        let name = match &card.identity.marketing_name {
            // "AMD Radeon 8060S Graphics" → "Radeon 8060S": the rest is the same on every card.
            Some(n) => n.trim_start_matches("AMD ").trim_end_matches(" Graphics").to_string(),
            None => format!("AMD {dev}"),
        };
        let m = card.metrics.as_ref();
        // gpu_metrics' time-filtered gfx clock; hwmon's instantaneous one where there is no table.
        let gfx = m.and_then(|m| m.gfxclk_mhz).map(f64::from).or(card.hwmon.sclk_mhz);
        x.push(format!("clock_mhz.{dev}"), format!("{name} gfx clock"), "MHz", Kind::Clock, gfx);
        let edge = card.hwmon.edge_temp_c.or(m.and_then(|m| m.edge_temp_c));
        x.push(format!("temp_c.{dev}"), format!("{name} edge"), "°C", Kind::Temperature, edge);
        if let Some(soc) = m.and_then(|m| m.soc_temp_c) {
            x.push(
                format!("temp_c.{dev}_soc"),
                format!("{name} SoC"),
                "°C",
                Kind::Temperature,
                Some(soc),
            );
        }
        // On an APU the socket power is the whole package (CPU + GPU + SoC).
        let power = m
            .and_then(|m| m.socket_power_mw)
            .map(|mw| f64::from(mw) / 1000.0)
            .or(card.hwmon.power_w);
        x.push(format!("power_w.{dev}"), format!("{name} package power"), "W", Kind::Power, power);
    }
    for d in s.derived.amdgpu.cards.iter().filter(|d| !d.throttle_percent.is_empty()) {
        // gpu_metrics v3 residency counters: the share of the interval each limiter was engaged.
        x.limiter_devices.push(d.card.clone());
        for (limiter, &percent) in d.throttle_percent.iter().filter(|(_, p)| **p > 0.0) {
            x.limiters.push(Limiter { device: d.card.clone(), limiter: limiter.clone(), percent });
        }
    }

    for d in s.nvidia.iter().flat_map(|n| &n.devices) {
        let dev = format!("nvidia{}", d.index);
        let name = format!("{} ({})", d.name.as_deref().unwrap_or("NVIDIA GPU"), d.index);
        let f = |v: Option<u32>| v.map(f64::from);
        x.push(
            format!("clock_mhz.{dev}"),
            format!("{name} graphics clock"),
            "MHz",
            Kind::Clock,
            f(d.graphics_clock_mhz),
        );
        x.push(
            format!("temp_c.{dev}"),
            format!("{name} temperature"),
            "°C",
            Kind::Temperature,
            d.temp_c,
        );
        x.push(format!("power_w.{dev}"), format!("{name} power"), "W", Kind::Power, d.power_w);
        // NVML's clock event reasons: each one named is engaged at the time of the read.
        if let Some(reasons) = &d.throttle_reasons {
            x.limiter_devices.push(dev.clone());
            // `gpu_idle` says the clocks are low because nothing runs: not a limiter.
            for reason in reasons.iter().filter(|r| *r != "gpu_idle") {
                x.limiters.push(Limiter {
                    device: dev.clone(),
                    limiter: reason.clone(),
                    percent: 100.0,
                });
            }
        }
    }
    x
}

/// Token rates and acceptance, from whichever source produced them.
#[derive(Debug, Default)]
struct Throughput {
    decode_tok_s: Option<f64>,
    prefill_tok_s: Option<f64>,
    spec_acceptance_percent: Option<f64>,
}

fn throughput(s: &Snapshot) -> Throughput {
    let llama = &s.derived.llama;
    // Several servers (or a router's models) serve at once: their rates add up.
    let sum = |f: fn(&halo_collectors::model::LlamaRates) -> Option<f64>| {
        llama.iter().filter_map(f).reduce(|a, b| a + b)
    };
    let mean = |f: fn(&halo_collectors::model::LlamaRates) -> Option<f64>| {
        let v: Vec<f64> = llama.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let r = &s.derived.roofline;
    // halo-top's own decoder (`--workload reference`) when no llama-server is decoding.
    let reference = s.reference.as_ref();
    Throughput {
        decode_tok_s: sum(|l| l.decode_tok_s)
            .or_else(|| r.decode_steps_per_s.zip(r.tokens_per_step).map(|(s, t)| s * t))
            .or_else(|| reference.and_then(|r| r.decode_tok_s)),
        // The prompt speed while prefilling: the rate over the whole interval mostly measures
        // how often prompts arrive.
        prefill_tok_s: sum(|l| l.prefill_tok_s_busy)
            .or_else(|| reference.and_then(|r| r.prompt_tok_s)),
        // Over the interval: defined only when a speculative request ended in it (sparse).
        spec_acceptance_percent: mean(|l| l.spec_acceptance).map(|a| a * 100.0),
    }
}
