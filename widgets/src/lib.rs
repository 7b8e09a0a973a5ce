//! halo-top's dashboard panes.
//!
//! Every widget here is a pure function of its inputs: a [`Snapshot`](halo_collectors::Snapshot)
//! (and the [`History`] of earlier ones) in, cells of a ratatui `Buffer` out. No I/O, no clocks,
//! no channels, so each is tested by rendering into a `TestBackend`.

pub mod chart;
pub mod devices_pane;
pub mod drift;
pub mod fleet_pane;
pub mod format;
pub mod header;
pub mod help;
pub mod history;
pub mod host_pane;
pub mod latency_pane;
pub mod layout;
pub mod limiters;
pub mod memory_pane;
pub mod pane;
pub mod roofline_pane;
pub mod screen;
pub mod series;
pub mod speculative_pane;
pub mod status_line;
pub mod theme;
pub mod thermal_pane;
pub mod throughput_pane;

#[cfg(test)]
mod test_support;

pub use history::History;
pub use layout::View;
pub use pane::Pane;
pub use screen::Screen;
pub use theme::Theme;
