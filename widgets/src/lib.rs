//! halo-top's dashboard panes.
//!
//! Every widget here is a pure function of its inputs: a [`Snapshot`](halo_collectors::Snapshot)
//! (and the [`History`] of earlier ones) in, cells of a ratatui `Buffer` out. No I/O, no clocks,
//! no channels, so each is tested by rendering into a `TestBackend`.

pub mod devices_pane;
pub mod fleet_pane;
pub mod format;
pub mod header;
pub mod help;
pub mod history;
pub mod host_pane;
pub mod screen;
pub mod status_line;
pub mod theme;

#[cfg(test)]
mod test_support;

pub use history::History;
pub use screen::Screen;
pub use theme::Theme;
