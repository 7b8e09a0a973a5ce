//! Every point of every followed series, warm-up included, and the times a limiter was engaged:
//! what the report's plots draw and its notes count. Built offline from a session file, so its
//! size follows the file's; the live soak keeps only the bounded `soak::verdict::Tracker`.

use std::collections::BTreeMap;

use crate::soak::metrics::{Extract, Kind};

/// One followed series with every point of the session.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesData {
    pub key: String,
    pub label: String,
    pub unit: &'static str,
    pub kind: Kind,
    /// (seconds since the session started, value); `None` where the value was unknown.
    pub points: Vec<(f64, Option<f64>)>,
}

impl SeriesData {
    pub fn known_values(&self) -> impl Iterator<Item = f64> + '_ {
        self.points.iter().filter_map(|p| p.1)
    }
}

#[derive(Debug, Default)]
pub struct Traces {
    series: BTreeMap<String, SeriesData>,
    /// (time, device, limiter) wherever a limiter was engaged: the plots' throttle marks.
    pub throttle_marks: Vec<(f64, String, String)>,
}

impl Traces {
    pub fn push_extract(&mut self, mono_ms: u64, x: &Extract) {
        let t = mono_ms as f64 / 1000.0;
        for r in &x.readings {
            self.series
                .entry(r.key.clone())
                .or_insert_with(|| SeriesData {
                    key: r.key.clone(),
                    label: r.label.clone(),
                    unit: r.unit,
                    kind: r.kind,
                    points: Vec::new(),
                })
                .points
                .push((t, r.value));
        }
        for l in &x.limiters {
            self.throttle_marks.push((t, l.device.clone(), l.limiter.clone()));
        }
    }

    pub fn series(&self) -> impl Iterator<Item = &SeriesData> {
        self.series.values()
    }

    pub fn get(&self, key: &str) -> Option<&SeriesData> {
        self.series.get(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_point_and_every_throttle_mark_is_kept() {
        let mut traces = Traces::default();
        for (i, limited) in [true, false, true].into_iter().enumerate() {
            let x = Extract::gpu_temperature((i != 1).then_some(50.0 + i as f64), limited);
            traces.push_extract(i as u64 * 1000, &x);
        }
        let gpu = traces.get("temp_c.gpu").unwrap();
        assert_eq!(gpu.points, [(0.0, Some(50.0)), (1.0, None), (2.0, Some(52.0))]);
        assert_eq!(gpu.known_values().count(), 2);
        assert_eq!(traces.throttle_marks.iter().map(|m| m.0).collect::<Vec<_>>(), [0.0, 2.0]);
    }
}
