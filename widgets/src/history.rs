//! What the charts show over time, kept by the app (one push per snapshot shown) and read by the
//! panes. Every point is `Option<f64>`, so a gap in the data draws as a gap, not a drop to zero.

use halo_collectors::Snapshot;
use halo_collectors::model::{LlamaRates, LlamaServer};

use crate::drift::{DriftBaseline, DriftSettings};
use crate::limiters;
use crate::series::{Series, TimeWindow};

/// The shortest window a chart shows.
pub const MIN_WINDOW_MS: u64 = 10_000;

/// The `url` of the row of halo-top's own reference decoder among the servers.
pub const REFERENCE_ROW: &str = "reference";

/// The figures of one llama-server over time.
#[derive(Debug, Clone)]
pub struct ServerHistory {
    pub url: String,
    pub model_id: Option<String>,
    /// What charts call it: the model's alias, or the URL when that is unknown.
    pub label: String,
    pub decode_tok_s: Series,
    pub prefill_tok_s: Series,
    /// Accepted ÷ drafted per interval, in % (`None` in intervals in which no request ended).
    pub spec_acceptance_percent: Series,
    pub spec_acceptance_cumulative_percent: Series,
    pub spec_draft_tok_s: Series,
    /// The decode rate of this server while it ran without speculative decoding (a restart
    /// without a draft model), for the net effect of drafting; the mean and its sample count.
    pub no_draft_decode_tok_s: Option<(f64, u32)>,
}

impl ServerHistory {
    fn new(url: &str, model_id: Option<&str>, capacity: usize) -> Self {
        let series = || Series::with_capacity(capacity);
        Self {
            url: url.to_string(),
            model_id: model_id.map(str::to_string),
            label: url.trim_start_matches("http://").to_string(),
            decode_tok_s: series(),
            prefill_tok_s: series(),
            spec_acceptance_percent: series(),
            spec_acceptance_cumulative_percent: series(),
            spec_draft_tok_s: series(),
            no_draft_decode_tok_s: None,
        }
    }

    fn push(&mut self, t: u64, server: Option<&LlamaServer>, rates: Option<&LlamaRates>) {
        if let Some(alias) = server.and_then(server_label) {
            self.label = alias;
        }
        let rate = |f: fn(&LlamaRates) -> Option<f64>| rates.and_then(f);
        self.decode_tok_s.push(t, rate(|r| r.decode_tok_s));
        self.prefill_tok_s.push(t, rate(|r| r.prefill_tok_s));
        let percent = |v: Option<f64>| v.map(|a| a * 100.0);
        self.spec_acceptance_percent.push(t, percent(rate(|r| r.spec_acceptance)));
        self.spec_acceptance_cumulative_percent
            .push(t, percent(rate(|r| r.spec_acceptance_cumulative)));
        self.spec_draft_tok_s.push(t, rate(|r| r.spec_draft_tok_s));
        if let Some(r) = rates
            && r.spec_active == Some(false)
            && let Some(decode) = r.decode_tok_s.filter(|d| *d > 0.0)
        {
            let (mean, n) = self.no_draft_decode_tok_s.unwrap_or((0.0, 0));
            let n = n + 1;
            self.no_draft_decode_tok_s = Some((mean + (decode - mean) / f64::from(n), n));
        }
    }
}

/// The served model's name as llama-server gives it (`--alias`, else the file name).
fn server_label(server: &LlamaServer) -> Option<String> {
    let alias = server.model_id.clone().or_else(|| server.props.as_ref()?.model_alias.clone())?;
    let file = alias.rsplit('/').next().unwrap_or(&alias);
    Some(file.trim_end_matches(".gguf").to_string())
}

/// Every charted series. One point per snapshot.
#[derive(Debug, Clone)]
pub struct History {
    capacity: usize,
    pub cpu_total_percent: Series,
    pub memory_used_bytes: Series,
    pub tctl_c: Series,
    /// One entry per llama-server seen in this session, in the order they appeared.
    pub servers: Vec<ServerHistory>,
    /// Σ decode tok/s over the servers (`None` when no server had a rate).
    pub decode_tok_s_total: Series,
    pub roofline_achieved_gbps: Series,
    pub roofline_utilisation_percent: Series,
    pub counter_dram_gbps: Series,
    pub joules_per_token: Series,
    /// The first AMD card's edge (GFX) and SoC temperatures from `gpu_metrics` (hwmon's edge
    /// when there is no table).
    pub amd_edge_c: Series,
    pub amd_soc_c: Series,
    /// The hottest NVIDIA GPU.
    pub nvidia_temp_c: Series,
    /// AMD package (socket) power: CPU + GPU + SoC on an APU.
    pub package_power_w: Series,
    /// Every NVIDIA GPU's power, summed.
    pub nvidia_power_w: Series,
    /// The first AMD card's average GFX clock.
    pub gfx_clock_mhz: Series,
    /// Which limiters were engaged, as a bit set (see [`limiters`]); stored as `f64` so the
    /// ring is the same as the others.
    pub limiters: Series,
    pub drift: DriftBaseline,
}

impl History {
    /// Keeps `capacity` snapshots (an hour at 1 s is 3600).
    pub fn new(capacity: usize) -> Self {
        Self::with_drift(capacity, DriftSettings::default())
    }

    pub fn with_drift(capacity: usize, drift: DriftSettings) -> Self {
        let series = || Series::with_capacity(capacity);
        Self {
            capacity,
            cpu_total_percent: series(),
            memory_used_bytes: series(),
            tctl_c: series(),
            servers: Vec::new(),
            decode_tok_s_total: series(),
            roofline_achieved_gbps: series(),
            roofline_utilisation_percent: series(),
            counter_dram_gbps: series(),
            joules_per_token: series(),
            amd_edge_c: series(),
            amd_soc_c: series(),
            nvidia_temp_c: series(),
            package_power_w: series(),
            nvidia_power_w: series(),
            gfx_clock_mhz: series(),
            limiters: series(),
            drift: DriftBaseline::new(drift),
        }
    }

    pub fn push(&mut self, snapshot: &Snapshot) {
        let t = snapshot.mono_ms;
        let host = snapshot.host.as_ref();
        self.cpu_total_percent.push(t, host.and_then(|h| h.cpu.total_percent));
        self.memory_used_bytes.push(t, host.and_then(|h| h.memory.used_bytes).map(|b| b as f64));
        self.tctl_c.push(t, host.and_then(|h| h.tctl_c));
        self.push_servers(snapshot);

        let roofline = &snapshot.derived.roofline;
        self.roofline_achieved_gbps.push(t, roofline.achieved_gbps);
        self.roofline_utilisation_percent.push(t, roofline.utilisation_of_peak_percent);
        self.counter_dram_gbps.push(t, roofline.counter_dram_gbps);
        self.joules_per_token.push(t, roofline.joules_per_token);

        let card = snapshot.amdgpu.as_ref().and_then(|a| a.cards.first());
        let metrics = card.and_then(|c| c.metrics.as_ref());
        let edge = metrics.and_then(|m| m.edge_temp_c).or(card.and_then(|c| c.hwmon.edge_temp_c));
        self.amd_edge_c.push(t, edge);
        self.amd_soc_c.push(t, metrics.and_then(|m| m.soc_temp_c));
        let watts = |mw: Option<u32>| mw.map(|mw| f64::from(mw) / 1000.0);
        let package = watts(metrics.and_then(|m| m.socket_power_mw));
        self.package_power_w.push(t, package.or(card.and_then(|c| c.hwmon.power_w)));
        self.gfx_clock_mhz.push(t, metrics.and_then(|m| m.gfxclk_mhz).map(f64::from));
        let devices = snapshot.nvidia.iter().flat_map(|n| &n.devices);
        self.nvidia_temp_c.push(t, devices.clone().filter_map(|d| d.temp_c).reduce(f64::max));
        self.nvidia_power_w.push(t, devices.filter_map(|d| d.power_w).reduce(|a, b| a + b));
        self.limiters.push(t, limiters::engaged(snapshot).map(f64::from));
    }

    fn push_servers(&mut self, snapshot: &Snapshot) {
        let t = snapshot.mono_ms;
        for server in &snapshot.llama {
            let known =
                self.servers.iter().any(|h| h.url == server.url && h.model_id == server.model_id);
            if !known {
                let history =
                    ServerHistory::new(&server.url, server.model_id.as_deref(), self.capacity);
                self.servers.push(history);
            }
        }
        for rates in &snapshot.derived.llama {
            let known =
                self.servers.iter().any(|h| h.url == rates.url && h.model_id == rates.model_id);
            if !known {
                let history =
                    ServerHistory::new(&rates.url, rates.model_id.as_deref(), self.capacity);
                self.servers.push(history);
            }
        }
        // halo-top's own decoder (`--workload reference`) is one more row, charted and judged
        // for drift like a server.
        if let Some(reference) = &snapshot.reference
            && !self.servers.iter().any(|h| h.url == REFERENCE_ROW)
        {
            let mut history = ServerHistory::new(REFERENCE_ROW, None, self.capacity);
            let model = reference.model_name.as_deref().unwrap_or(&reference.model_source);
            history.label = format!("reference decoder · {model}");
            self.servers.push(history);
        }
        // A server missing from this snapshot (down, restarting) gets a gap.
        let mut total: Option<f64> = None;
        for history in &mut self.servers {
            if history.url == REFERENCE_ROW {
                let reference = snapshot.reference.as_ref();
                // The model's name is known once the decoder has made or loaded it.
                if let Some(name) = reference.and_then(|r| r.model_name.as_deref()) {
                    history.label = format!("reference decoder · {name}");
                }
                let decode = reference.and_then(|r| r.decode_tok_s);
                history.decode_tok_s.push(t, decode);
                history.prefill_tok_s.push(t, reference.and_then(|r| r.prompt_tok_s));
                for series in [
                    &mut history.spec_acceptance_percent,
                    &mut history.spec_acceptance_cumulative_percent,
                    &mut history.spec_draft_tok_s,
                ] {
                    series.push(t, None);
                }
                if let Some(decode) = decode {
                    total = Some(total.unwrap_or(0.0) + decode);
                }
                continue;
            }
            let key = (history.url.as_str(), history.model_id.as_deref());
            let server = snapshot.llama.iter().find(|s| s.key() == key);
            let rates = snapshot
                .derived
                .llama
                .iter()
                .find(|r| (r.url.as_str(), r.model_id.as_deref()) == key);
            history.push(t, server, rates);
            if let Some(decode) = rates.and_then(|r| r.decode_tok_s) {
                total = Some(total.unwrap_or(0.0) + decode);
            }
        }
        self.decode_tok_s_total.push(t, total);
        self.drift.push(t, total);
    }

    /// Starts a new drift baseline from the next decoding snapshot after `mono_ms`.
    pub fn reset_drift(&mut self, mono_ms: u64) {
        self.drift.reset(mono_ms);
    }

    /// The history of the server of `rates`, if it was seen.
    pub fn server(&self, url: &str, model_id: Option<&str>) -> Option<&ServerHistory> {
        self.servers.iter().find(|h| h.url == url && h.model_id.as_deref() == model_id)
    }

    /// The latest session time pushed.
    pub fn last_ms(&self) -> Option<u64> {
        self.cpu_total_percent.points().next_back().map(|p| p.0)
    }

    /// The charts' window: `span_ms` up to the snapshot on screen, or while the history is
    /// shorter than that, just the history (at least [`MIN_WINDOW_MS`]), so a young session
    /// fills the chart; the time axis says how long it is.
    pub fn window(&self, snapshot: &Snapshot, span_ms: u64) -> TimeWindow {
        let first = self.cpu_total_percent.points().next().map_or(snapshot.mono_ms, |p| p.0);
        let age = snapshot.mono_ms.saturating_sub(first);
        TimeWindow { end_ms: snapshot.mono_ms, span_ms: span_ms.min(age.max(MIN_WINDOW_MS)) }
    }
}

impl Default for History {
    fn default() -> Self {
        Self::new(3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo_collectors::model::LlamaRates;

    fn with_rates(t_ms: u64, rates: &[(&str, Option<f64>)]) -> Snapshot {
        let mut s = Snapshot::new(t_ms / 1000, 0, t_ms, 1000);
        s.derived.llama = rates
            .iter()
            .map(|(url, decode)| LlamaRates {
                url: url.to_string(),
                decode_tok_s: *decode,
                spec_active: Some(false),
                ..Default::default()
            })
            .collect();
        s
    }

    #[test]
    fn servers_keep_their_own_series_and_gaps_when_absent() {
        let mut h = History::new(100);
        h.push(&with_rates(1000, &[("http://a:1", Some(10.0))]));
        h.push(&with_rates(2000, &[("http://a:1", Some(12.0)), ("http://b:2", Some(5.0))]));
        h.push(&with_rates(3000, &[("http://b:2", None)]));
        assert_eq!(h.servers.len(), 2);
        let a = h.server("http://a:1", None).unwrap();
        assert_eq!(
            a.decode_tok_s.last_values(3).collect::<Vec<_>>(),
            [Some(10.0), Some(12.0), None]
        );
        assert_eq!(a.label, "a:1");
        let b = h.server("http://b:2", None).unwrap();
        assert_eq!(b.decode_tok_s.points().count(), 2, "b starts when it is first seen");
        assert_eq!(
            h.decode_tok_s_total.last_values(3).collect::<Vec<_>>(),
            [Some(10.0), Some(17.0), None]
        );
        assert_eq!(a.no_draft_decode_tok_s, Some((11.0, 2)), "decoding without drafts");
    }

    #[test]
    fn the_reference_decoder_is_a_row_of_its_own() {
        let mut h = History::new(100);
        let mut s = Snapshot::new(0, 0, 1000, 1000);
        h.push(&s);
        assert!(h.servers.is_empty(), "no row before the decoder is seen");
        s.reference = Some(halo_collectors::model::ReferenceSection {
            model_source: "--synthetic 1.5GB:q8_0".into(),
            decode_tok_s: Some(20.0),
            ..Default::default()
        });
        s.mono_ms = 2000;
        h.push(&s);
        s.reference = None;
        s.mono_ms = 3000;
        h.push(&s);
        let row = h.server(REFERENCE_ROW, None).unwrap();
        assert_eq!(row.label, "reference decoder · --synthetic 1.5GB:q8_0");
        assert_eq!(row.decode_tok_s.last_values(2).collect::<Vec<_>>(), [Some(20.0), None]);
        assert_eq!(row.prefill_tok_s.latest(), None, "no prompt phase: unknown, not 0");
        assert_eq!(
            h.decode_tok_s_total.last_values(3).collect::<Vec<_>>(),
            [None, Some(20.0), None]
        );
    }

    #[test]
    fn host_series_have_gaps_without_a_host_reading() {
        let mut h = History::new(10);
        h.push(&Snapshot::new(0, 0, 0, 1000));
        assert_eq!(h.cpu_total_percent.points().collect::<Vec<_>>(), [(0, None)]);
        assert_eq!(h.limiters.latest(), None);
        assert_eq!(h.last_ms(), Some(0));
    }
}
