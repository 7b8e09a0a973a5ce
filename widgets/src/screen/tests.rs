//! The whole screen as a person sees it, from the committed sessions (fixtures/sessions), at
//! the sizes the issue names, and every pane on its own.

use super::*;
use crate::test_support::{host_snapshot, played, render};
use halo_collectors::model::{ReplayState, SourceStatus};

/// The committed sessions: (file name, snapshot to stop at, what it shows).
/// (fixtures/README.md says how each was made.)
const SESSIONS: [(&str, Option<usize>); 5] = [
    // Strix Halo fixture tree, idle, no llama-server.
    ("strix-halo-idle", None),
    // Strix Halo fixture tree beside a real llama-server under the chat load, two slots.
    ("strix-halo-decode", None),
    // The same with a draft model.
    ("strix-halo-speculative", None),
    // A real llama-server with a draft model on this machine's own host section.
    ("llama-speculative-chat", None),
    // A real H200 at full load under its power cap (snapshot 120 is in the hold phase).
    ("h200-matmul", Some(120)),
];

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (160, 45)];

fn screen_text(
    width: u16,
    height: u16,
    snapshot: Option<&Snapshot>,
    history: &History,
    mode: &FeedMode,
    view: View,
) -> String {
    let screen = Screen { snapshot, history, mode, view, theme: Theme::PLAIN };
    render(width, height, &screen)
}

#[test]
fn every_session_at_every_size() {
    for (name, upto) in SESSIONS {
        let (history, snapshot) = played(name, upto);
        for (w, h) in SIZES {
            let text =
                screen_text(w, h, Some(&snapshot), &history, &FeedMode::Live, View::default());
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), text);
        }
    }
}

#[test]
fn every_pane_from_every_session() {
    for pane in Pane::ALL {
        let mut text = String::new();
        for (name, upto) in SESSIONS {
            let (history, snapshot) = played(name, upto);
            let ctx = PaneContext {
                snapshot: &snapshot,
                history: &history,
                window: history.window(&snapshot, 300_000),
                theme: Theme::PLAIN,
            };
            text += &format!("{name}:\n");
            text += &render(64, 16, &PaneView { pane, ctx, focused: false, zoomed: false });
        }
        insta::assert_snapshot!(
            format!("pane_{}", pane.short().to_lowercase().replace('/', "_")),
            text
        );
    }
}

#[test]
fn focus_zoom_and_help() {
    let (history, snapshot) = played("llama-speculative-chat", None);
    let live = FeedMode::Live;
    let focused = View { focused: Pane::Latency, ..View::default() };
    insta::assert_snapshot!(
        "focused_latency_80x24",
        screen_text(80, 24, Some(&snapshot), &history, &live, focused)
    );
    let zoomed = View { focused: Pane::Speculative, zoomed: true, ..View::default() };
    insta::assert_snapshot!(
        "zoomed_speculative_120x40",
        screen_text(120, 40, Some(&snapshot), &history, &live, zoomed)
    );
    let help = View { show_help: true, ..View::default() };
    insta::assert_snapshot!(
        "help_80x24",
        screen_text(80, 24, Some(&snapshot), &history, &live, help)
    );
}

#[test]
fn replay_paused_with_a_failed_host_source() {
    let mut s = host_snapshot();
    s.host = None;
    s.sources[0].status = SourceStatus::Failed { error: "/proc/stat: permission denied".into() };
    let mode = FeedMode::Replay(ReplayState { speed: 4.0, ended: true, ..Default::default() });
    let mut history = History::default();
    history.push(&s);
    let view = View { paused: true, focused: Pane::Host, ..View::default() };
    insta::assert_snapshot!(screen_text(80, 24, Some(&s), &history, &mode, view));
}

#[test]
fn before_the_first_snapshot() {
    let history = History::default();
    insta::assert_snapshot!(screen_text(80, 24, None, &history, &FeedMode::Live, View::default()));
}

#[test]
fn tiny_and_empty_terminals_do_not_panic() {
    let (history, snapshot) = played("llama-speculative-chat", None);
    let views = [
        View::default(),
        View { show_help: true, zoomed: true, ..View::default() },
        View { focused: Pane::Host, ..View::default() },
    ];
    for (w, h) in
        [(0, 0), (1, 1), (20, 5), (5, 20), (300, 2), (40, 12), (39, 12), (41, 13), (300, 100)]
    {
        for view in views {
            screen_text(w, h, Some(&snapshot), &history, &FeedMode::Live, view);
        }
    }
    let live = FeedMode::Live;
    insta::assert_snapshot!(
        "zero_by_zero",
        screen_text(0, 0, Some(&snapshot), &history, &live, View::default())
    );
    insta::assert_snapshot!(
        "twenty_by_five",
        screen_text(20, 5, Some(&snapshot), &history, &live, View::default())
    );
}

/// The AMD collector's reading of the Strix Halo load fixture beside an RTX 3090 (one asleep).
#[test]
fn strix_halo_beside_an_nvidia_card() {
    let mut s = host_snapshot();
    s.amdgpu = Some(crate::test_support::strix_halo_load());
    s.nvidia = Some(crate::test_support::nvidia_section());
    s.sources[1].status = SourceStatus::Ok;
    let mut history = History::default();
    history.push(&s);
    let live = FeedMode::Live;
    insta::assert_snapshot!(screen_text(160, 45, Some(&s), &history, &live, View::default()));
}

/// A real recording of `--workload reference` (the lent GPU machine's CPU, 8 threads): the
/// decoder is the throughput row, the roofline's decode and the latency pane's subject.
#[test]
fn the_reference_decoder_fills_throughput_roofline_and_latency() {
    let (history, snapshot) = played("reference-decoder", None);
    let text = screen_text(160, 45, Some(&snapshot), &history, &FeedMode::Live, View::default());
    let reference = snapshot.reference.as_ref().unwrap();
    assert!(text.contains("reference decoder · synthetic TinyLlama"), "{text}");
    let decode = format!("decode {} tok/s", crate::format::num(reference.decode_tok_s));
    assert!(text.contains(&decode), "{decode}\n{text}");
    let gbps = snapshot.derived.roofline.achieved_gbps.unwrap();
    assert!(text.contains(&crate::format::sig3(gbps)), "{gbps}\n{text}");
    assert!(text.contains("token ms: p50"), "{text}");
    insta::assert_snapshot!(text);
}
