//! The fleet view: one row per machine (this one first, then every `--remote`) with the figures
//! that say how each is doing: decode tok/s, roofline %, CPU, temperatures, power, speculative
//! acceptance, memory and the state of the link.

use halo_collectors::Snapshot;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, Widget, Wrap};

use crate::format;
use crate::theme::{Level, Theme};

/// Where a host's snapshots come from and whether they are current.
#[derive(Debug, Clone, PartialEq)]
pub enum HostStatus {
    /// This machine's own collectors.
    Local,
    /// A remote not heard from yet.
    Connecting,
    Live,
    /// No fresh snapshot for `age_s`: the numbers shown are that old.
    Stale {
        age_s: f64,
    },
    /// Gone: no numbers are shown, only why.
    Unreachable {
        error: String,
    },
}

/// One machine of the fleet.
pub struct FleetHost<'a> {
    /// The URL for a remote, `local` for this machine: the name until a snapshot gives one.
    pub label: &'a str,
    pub snapshot: Option<&'a Snapshot>,
    pub status: HostStatus,
}

/// The figures of one row, `None` where unknown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetFigures {
    pub decode_tok_s: Option<f64>,
    pub roofline_percent: Option<f64>,
    pub cpu_percent: Option<f64>,
    pub cpu_temp_c: Option<f64>,
    /// The hottest GPU.
    pub gpu_temp_c: Option<f64>,
    /// Every GPU's power, summed.
    pub gpu_power_w: Option<f64>,
    pub acceptance_percent: Option<f64>,
    pub memory_used_bytes: Option<u64>,
    pub memory_total_bytes: Option<u64>,
}

impl FleetFigures {
    pub fn of(s: &Snapshot) -> FleetFigures {
        let host = s.host.as_ref();
        let roofline = &s.derived.roofline;
        let nvidia = s.nvidia.iter().flat_map(|n| &n.devices);
        let amd = s.amdgpu.iter().flat_map(|a| &a.cards);
        let max = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let sum = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        let amd_temps = amd.clone().map(|c| {
            c.hwmon.edge_temp_c.or_else(|| c.metrics.as_ref().and_then(|m| m.edge_temp_c))
        });
        // On an APU the package power (CPU + GPU + SoC) is what the machine draws for decode.
        let amd_power = amd.map(|c| {
            let socket = c.metrics.as_ref().and_then(|m| m.socket_power_mw);
            socket.map(|mw| f64::from(mw) / 1000.0).or(c.hwmon.power_w)
        });
        FleetFigures {
            // Every llama-server's generated tokens/s, else what the roofline was given.
            decode_tok_s: s.derived.llama.iter().map(|r| r.decode_tok_s).fold(None, sum).or_else(
                || {
                    roofline
                        .decode_steps_per_s
                        .zip(roofline.tokens_per_step)
                        .map(|(steps, tokens)| steps * tokens)
                },
            ),
            roofline_percent: roofline.utilisation_of_peak_percent,
            cpu_percent: host.and_then(|h| h.cpu.total_percent),
            cpu_temp_c: s.derived.amdgpu.cpu_temp_c.or(host.and_then(|h| h.tctl_c)),
            gpu_temp_c: nvidia.clone().map(|d| d.temp_c).chain(amd_temps).fold(None, max),
            gpu_power_w: nvidia.map(|d| d.power_w).chain(amd_power).fold(None, sum),
            // Since the server started: the per-interval figure moves only when requests end.
            acceptance_percent: s
                .derived
                .llama
                .iter()
                .find_map(|r| r.spec_acceptance_cumulative)
                .map(|a| a * 100.0),
            memory_used_bytes: host.and_then(|h| h.memory.used_bytes),
            memory_total_bytes: host.and_then(|h| h.memory.total_bytes),
        }
    }
}

pub struct FleetPane<'a> {
    pub hosts: &'a [FleetHost<'a>],
    /// The highlighted row (Enter opens its dashboard).
    pub selected: usize,
    pub theme: Theme,
}

fn status_text(status: &HostStatus) -> (String, Level) {
    match status {
        HostStatus::Local => ("local".into(), Level::Normal),
        HostStatus::Connecting => ("connecting…".into(), Level::Unknown),
        HostStatus::Live => ("live".into(), Level::Normal),
        HostStatus::Stale { age_s } => (format!("stale {age_s:.0}s"), Level::Warn),
        HostStatus::Unreachable { .. } => ("UNREACHABLE".into(), Level::Critical),
    }
}

fn one_decimal(value: Option<f64>) -> String {
    value.map_or_else(|| format::NA.to_string(), |v| format!("{v:.1}"))
}

impl Widget for &FleetPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        let table_height = self.hosts.len() as u16 + 3;
        let [table_area, problems, hint] = Layout::vertical([
            Constraint::Length(table_height),
            Constraint::Fill(1),
            Constraint::Length(1),
        ])
        .areas(area);
        let block = Block::bordered()
            .title(format!(" Fleet: {} hosts ", self.hosts.len()))
            .title_style(theme.title());
        let rows = self.hosts.iter().enumerate().map(|(i, host)| {
            // An unreachable host's last numbers are not current: show none.
            let snapshot = match host.status {
                HostStatus::Unreachable { .. } => None,
                _ => host.snapshot,
            };
            let figures = snapshot.map(FleetFigures::of).unwrap_or_default();
            let host_name = host.snapshot.and_then(|s| s.host.as_ref()?.host_name.clone());
            let name = match (host_name, &host.status) {
                (Some(name), HostStatus::Local) => name,
                // Remotes also show where they are: two boxes may share a host name.
                (Some(name), _) => format!("{name} {}", host.label.trim_start_matches("http://")),
                (None, _) => host.label.to_string(),
            };
            let (status, level) = status_text(&host.status);
            let watts =
                figures.gpu_power_w.map_or_else(|| format::NA.to_string(), |w| format!("{w:.0} W"));
            let memory = figures
                .memory_used_bytes
                .zip(figures.memory_total_bytes)
                .filter(|(_, total)| *total > 0)
                .map(|(used, total)| used as f64 / total as f64 * 100.0);
            let marker = if i == self.selected { "›" } else { " " };
            let row = Row::new([
                format!("{marker}{name}"),
                one_decimal(figures.decode_tok_s),
                format::percent(figures.roofline_percent),
                format::percent(figures.cpu_percent),
                format::celsius(figures.cpu_temp_c),
                format::celsius(figures.gpu_temp_c),
                watts,
                format::percent(figures.acceptance_percent),
                format::percent(memory),
                status,
            ])
            .style(theme.level(level));
            if i == self.selected { row.style(theme.highlight()) } else { row }
        });
        let widths = [
            Constraint::Fill(3),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(11),
        ];
        Table::new(rows, widths)
            .header(
                Row::new([
                    " HOST", "TOK/S", "ROOF", "CPU", "CPU°C", "GPU°C", "POWER", "ACCEPT", "MEMORY",
                    "STATUS",
                ])
                .style(theme.title()),
            )
            .block(block)
            .render(table_area, buf);
        // The whole reason a host is unreachable does not fit in its row.
        let why: Vec<Line> = self
            .hosts
            .iter()
            .filter_map(|h| match &h.status {
                HostStatus::Unreachable { error } => {
                    Some(Line::styled(format!(" {error}"), theme.level(Level::Critical)))
                }
                _ => None,
            })
            .collect();
        Paragraph::new(why).wrap(Wrap { trim: false }).render(problems, buf);
        Line::styled(
            "↑↓ select  Enter open a host's dashboard  f back to the fleet  q quit",
            theme.dim(),
        )
        .render(hint, buf);
    }
}

/// One line over a remote host's dashboard while its numbers are not current.
pub struct LinkBanner<'a> {
    pub label: &'a str,
    pub status: &'a HostStatus,
    pub theme: Theme,
}

impl Widget for &LinkBanner<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let text = match self.status {
            HostStatus::Local | HostStatus::Live => return,
            HostStatus::Connecting => format!(" {}: connecting… ", self.label),
            HostStatus::Stale { age_s } => {
                format!(" {}: no snapshot for {age_s:.0}s, numbers are stale ", self.label)
            }
            HostStatus::Unreachable { error } => format!(" UNREACHABLE {error} "),
        };
        Line::styled(text, self.theme.highlight()).render(area, buf);
    }
}

#[cfg(test)]
mod tests;
