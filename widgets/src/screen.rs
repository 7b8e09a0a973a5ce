//! The whole screen: header, panes, status line, and the help overlay on top.

use halo_collectors::Snapshot;
use halo_collectors::model::{FeedMode, SourceStatus};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Widget;

use crate::devices_pane::DevicesPane;
use crate::header::Header;
use crate::help::Help;
use crate::history::History;
use crate::host_pane::HostPane;
use crate::status_line::StatusLine;
use crate::theme::Theme;

/// Everything the screen shows, borrowed from the app for one frame.
pub struct Screen<'a> {
    pub snapshot: Option<&'a Snapshot>,
    pub history: &'a History,
    pub mode: &'a FeedMode,
    pub paused: bool,
    pub show_help: bool,
    pub theme: Theme,
}

impl Widget for &Screen<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let devices_height = DevicesPane::wanted_height(self.snapshot);
        let [header, body, devices, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(devices_height),
            Constraint::Length(1),
        ])
        .areas(area);
        Header { snapshot: self.snapshot, theme: self.theme }.render(header, buf);
        let missing_reason = self.snapshot.and_then(|s| match &s.source("host")?.status {
            SourceStatus::Unavailable { reason } => Some(reason.as_str()),
            SourceStatus::Failed { error } => Some(error.as_str()),
            _ => None,
        });
        HostPane {
            host: self.snapshot.and_then(|s| s.host.as_ref()),
            missing_reason,
            history: self.history,
            theme: self.theme,
        }
        .render(body, buf);
        DevicesPane { snapshot: self.snapshot, theme: self.theme }.render(devices, buf);
        StatusLine {
            snapshot: self.snapshot,
            mode: self.mode,
            paused: self.paused,
            theme: self.theme,
        }
        .render(status, buf);
        if self.show_help {
            Help { theme: self.theme }.render(area, buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{host_snapshot, render};
    use halo_collectors::model::ReplayState;

    fn screen_text(
        width: u16,
        height: u16,
        snapshot: Option<&Snapshot>,
        mode: &FeedMode,
        help: bool,
    ) -> String {
        let mut history = History::new(100);
        if let Some(s) = snapshot {
            history.push(s);
        }
        let screen = Screen {
            snapshot,
            history: &history,
            mode,
            paused: false,
            show_help: help,
            theme: Theme::PLAIN,
        };
        render(width, height, &screen)
    }

    #[test]
    fn live_screen_at_80x24() {
        insta::assert_snapshot!(screen_text(
            80,
            24,
            Some(&host_snapshot()),
            &FeedMode::Live,
            false
        ));
    }

    #[test]
    fn live_screen_at_120x40() {
        insta::assert_snapshot!(screen_text(
            120,
            40,
            Some(&host_snapshot()),
            &FeedMode::Live,
            false
        ));
    }

    #[test]
    fn help_overlay_at_80x24() {
        insta::assert_snapshot!(screen_text(80, 24, Some(&host_snapshot()), &FeedMode::Live, true));
    }

    #[test]
    fn replay_with_a_failed_host_source() {
        let mut s = host_snapshot();
        s.host = None;
        s.sources[0].status =
            SourceStatus::Failed { error: "/proc/stat: permission denied".into() };
        let mode = FeedMode::Replay(ReplayState { speed: 4.0, ended: true, ..Default::default() });
        insta::assert_snapshot!(screen_text(80, 24, Some(&s), &mode, false));
    }

    #[test]
    fn nvidia_devices_at_120x40() {
        let mut s = host_snapshot();
        s.nvidia = Some(crate::test_support::nvidia_section());
        s.sources[1].status = SourceStatus::Ok;
        insta::assert_snapshot!(screen_text(120, 40, Some(&s), &FeedMode::Live, false));
    }

    #[test]
    fn strix_halo_beside_an_nvidia_card_at_120x40() {
        let mut s = host_snapshot();
        s.amdgpu = Some(crate::test_support::strix_halo_load());
        s.nvidia = Some(crate::test_support::nvidia_section());
        s.sources[1].status = SourceStatus::Ok;
        insta::assert_snapshot!(screen_text(120, 40, Some(&s), &FeedMode::Live, false));
    }

    #[test]
    fn before_the_first_snapshot() {
        insta::assert_snapshot!(screen_text(80, 24, None, &FeedMode::Live, false));
    }

    #[test]
    fn tiny_and_empty_terminals_do_not_panic() {
        let s = host_snapshot();
        for (w, h) in [(0, 0), (1, 1), (20, 5), (5, 20), (300, 2)] {
            screen_text(w, h, Some(&s), &FeedMode::Live, true);
        }
        insta::assert_snapshot!(
            "zero_by_zero",
            screen_text(0, 0, Some(&s), &FeedMode::Live, false)
        );
    }
}
