//! Where each pane goes for a terminal size: every pane in a grid on large terminals, fewer
//! stacked on small ones (the focused pane always among them, the others listed on a line at
//! the bottom), the focused one alone when zoomed, and nothing below a minimum.

use halo_collectors::Snapshot;
use ratatui::layout::{Constraint, Layout, Rect};

use crate::devices_pane;
use crate::pane::Pane;

/// Below this the screen shows one line saying so.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 12;

/// What the user chose to see; the app owns it, the screen draws it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    pub focused: Pane,
    /// The focused pane fills the screen.
    pub zoomed: bool,
    /// The time span of the charts.
    pub window_ms: u64,
    /// The view is frozen (`p`).
    pub paused: bool,
    pub show_help: bool,
}

impl Default for View {
    fn default() -> Self {
        Self {
            focused: Pane::Throughput,
            zoomed: false,
            window_ms: 300_000,
            paused: false,
            show_help: false,
        }
    }
}

/// The panes placed in the body, and the line naming those that did not fit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placement {
    pub panes: Vec<(Pane, Rect)>,
    /// The bottom line of a stacked or zoomed body: where each hidden pane's name is.
    pub hidden: Vec<(Pane, Rect)>,
    pub hidden_line: Option<Rect>,
}

impl Placement {
    /// The pane under a screen position (a click), placed or named on the bottom line.
    pub fn pane_at(&self, column: u16, row: u16) -> Option<Pane> {
        let hit = |r: &Rect| r.contains(ratatui::layout::Position { x: column, y: row });
        self.panes.iter().chain(&self.hidden).find(|(_, r)| hit(r)).map(|(p, _)| *p)
    }
}

/// Whether the terminal is too small for anything but a line saying so.
pub fn too_small(area: Rect) -> bool {
    area.width < MIN_WIDTH || area.height < MIN_HEIGHT
}

/// Places the panes in `body` (the screen less its header and status lines).
pub fn place(body: Rect, view: &View, snapshot: Option<&Snapshot>) -> Placement {
    if view.zoomed {
        let [pane, line] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(body);
        return with_hidden_line(vec![(view.focused, pane)], line);
    }
    if body.width >= 120 && body.height >= 34 {
        return Placement { panes: grid3(body), ..Placement::default() };
    }
    if body.width >= 80 && body.height >= 28 {
        return Placement { panes: grid2(body), ..Placement::default() };
    }
    stacked(body, view.focused, snapshot)
}

/// Three rows: rates (throughput, roofline, speculation), the machine (thermal, memory,
/// latency), devices and host.
fn grid3(body: Rect) -> Vec<(Pane, Rect)> {
    let [top, middle, bottom] = Layout::vertical([
        Constraint::Percentage(35),
        Constraint::Percentage(35),
        Constraint::Fill(1),
    ])
    .areas(body);
    let three = [Constraint::Fill(4), Constraint::Fill(3), Constraint::Fill(3)];
    let [throughput, roofline, speculative] = Layout::horizontal(three).areas(top);
    let [thermal, memory, latency] = Layout::horizontal(three).areas(middle);
    let [devices, host] =
        Layout::horizontal([Constraint::Fill(2), Constraint::Fill(1)]).areas(bottom);
    vec![
        (Pane::Throughput, throughput),
        (Pane::Roofline, roofline),
        (Pane::Thermal, thermal),
        (Pane::Speculative, speculative),
        (Pane::Memory, memory),
        (Pane::Latency, latency),
        (Pane::Devices, devices),
        (Pane::Host, host),
    ]
}

/// Two columns, four rows, in pane order.
fn grid2(body: Rect) -> Vec<(Pane, Rect)> {
    let rows = Layout::vertical([Constraint::Fill(1); 4]).split(body);
    let mut panes = Vec::new();
    for (pair, row) in Pane::ALL.chunks(2).zip(rows.iter()) {
        let [left, right] = Layout::horizontal([Constraint::Fill(1); 2]).areas(*row);
        panes.extend(pair.iter().copied().zip([left, right]));
    }
    panes
}

/// Rows a pane needs to say something useful; a pane without data needs only its one line.
fn min_height(pane: Pane, snapshot: Option<&Snapshot>) -> u16 {
    let Some(s) = snapshot else { return 3 };
    let amd_cards = s.amdgpu.as_ref().map_or(0, |a| a.cards.len());
    let nvidia_devices = s.nvidia.as_ref().map_or(0, |n| n.devices.len());
    let has_data = match pane {
        Pane::Throughput | Pane::Speculative => !s.llama.is_empty(),
        Pane::Roofline => s.model.is_some() || s.derived.roofline.counter_dram_gbps.is_some(),
        Pane::Latency => s.llama_load.is_some(),
        Pane::Thermal => {
            amd_cards + nvidia_devices > 0 || s.host.as_ref().is_some_and(|h| h.tctl_c.is_some())
        }
        Pane::Devices => amd_cards + nvidia_devices > 0,
        Pane::Memory | Pane::Host => s.host.is_some() || amd_cards + nvidia_devices > 0,
    };
    if !has_data {
        return 3;
    }
    match pane {
        Pane::Throughput | Pane::Thermal => 9,
        Pane::Roofline => 8,
        Pane::Devices => (devices_pane::wanted_height(s) + 2).min(7),
        Pane::Host => 8,
        Pane::Speculative | Pane::Memory | Pane::Latency => 6,
    }
}

/// One column: the focused pane, then the others in their order while they fit at their
/// minimum height; what is left over goes to the panes with data.
fn stacked(body: Rect, focused: Pane, snapshot: Option<&Snapshot>) -> Placement {
    let [column, line] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(body);
    let mut chosen = vec![(focused, min_height(focused, snapshot))];
    let mut used = chosen[0].1;
    for pane in Pane::ALL.into_iter().filter(|p| *p != focused) {
        let height = min_height(pane, snapshot);
        if used + height <= column.height {
            chosen.push((pane, height));
            used += height;
        }
    }
    chosen.sort_by_key(|(pane, _)| pane.number());
    let growing: Vec<usize> =
        (0..chosen.len()).filter(|i| chosen[*i].1 > 3 || chosen.len() == 1).collect();
    let mut extra = column.height.saturating_sub(used);
    let mut i = 0;
    while extra > 0 && !growing.is_empty() {
        chosen[growing[i % growing.len()]].1 += 1;
        extra -= 1;
        i += 1;
    }
    let mut y = column.y;
    let panes = chosen
        .into_iter()
        .map(|(pane, height)| {
            let height = height.min(column.bottom().saturating_sub(y));
            let rect = Rect { y, height, ..column };
            y += height;
            (pane, rect)
        })
        .collect();
    with_hidden_line(panes, line)
}

/// Lays out `N name` for every pane not placed, along `line`.
fn with_hidden_line(panes: Vec<(Pane, Rect)>, line: Rect) -> Placement {
    let mut x = line.x + hidden_prefix().chars().count() as u16;
    let mut hidden = Vec::new();
    for pane in Pane::ALL.into_iter().filter(|p| !panes.iter().any(|(q, _)| q == p)) {
        let width = hidden_label(pane).chars().count() as u16;
        if x + width > line.right() {
            break;
        }
        hidden.push((pane, Rect { x, width, ..line }));
        x += width + 2;
    }
    Placement { panes, hidden, hidden_line: Some(line) }
}

pub fn hidden_prefix() -> &'static str {
    "more: "
}

pub fn hidden_label(pane: Pane) -> String {
    format!("{} {}", pane.number(), pane.short())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(width: u16, height: u16) -> Rect {
        Rect { x: 0, y: 1, width, height }
    }

    #[test]
    fn every_pane_on_a_large_terminal_none_overlapping() {
        for (w, h) in [(160, 43), (120, 38), (100, 30)] {
            let placement = place(area(w, h), &View::default(), None);
            assert_eq!(placement.panes.len(), Pane::ALL.len(), "{w}x{h}");
            assert!(placement.hidden.is_empty());
            for (i, (_, a)) in placement.panes.iter().enumerate() {
                assert!(a.width >= 20 && a.height >= 7, "{w}x{h}: {a:?}");
                for (_, b) in &placement.panes[i + 1..] {
                    assert!(!a.intersects(*b), "{a:?} overlaps {b:?}");
                }
            }
        }
    }

    #[test]
    fn small_terminals_stack_fewer_panes_with_the_focused_one_among_them() {
        let view = View { focused: Pane::Host, ..View::default() };
        let placement = place(area(80, 22), &view, None);
        let placed: Vec<Pane> = placement.panes.iter().map(|(p, _)| *p).collect();
        assert!(placed.len() < Pane::ALL.len() && placed.contains(&Pane::Host));
        assert_eq!(placement.panes.iter().map(|(_, r)| r.height).sum::<u16>(), 21);
        assert_eq!(placement.hidden.len() + placed.len(), Pane::ALL.len());
        let (pane, rect) = placement.hidden[0];
        assert_eq!(placement.pane_at(rect.x, rect.y), Some(pane), "the hidden line is clickable");
        let (pane, rect) = placement.panes[0];
        assert_eq!(placement.pane_at(rect.x + 3, rect.y + 1), Some(pane));
    }

    #[test]
    fn zoom_gives_the_focused_pane_the_body() {
        let view = View { focused: Pane::Latency, zoomed: true, ..View::default() };
        let placement = place(area(160, 43), &view, None);
        assert_eq!(placement.panes, [(Pane::Latency, Rect { x: 0, y: 1, width: 160, height: 42 })]);
        assert_eq!(placement.hidden.len(), 7);
    }
}
