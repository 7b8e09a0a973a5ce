use super::*;
use crate::test_support::{host_snapshot, nvidia_section, render};

/// This box decoding, a live remote with an NVIDIA card, a stale one, one gone and one not
/// heard from yet.
fn fleet_text(width: u16, height: u16, selected: usize) -> String {
    let local = host_snapshot();
    let mut remote = host_snapshot();
    remote.host.as_mut().unwrap().host_name = Some("strix2".into());
    remote.host.as_mut().unwrap().tctl_c = Some(71.5);
    remote.nvidia = Some(nvidia_section());
    remote.derived.roofline.decode_steps_per_s = Some(40.0);
    remote.derived.roofline.tokens_per_step = Some(1.25);
    remote.derived.roofline.utilisation_of_peak_percent = Some(74.8);
    let mut gone = host_snapshot();
    gone.host.as_mut().unwrap().host_name = Some("rtx-box".into());
    let hosts = [
        FleetHost { label: "local", snapshot: Some(&local), status: HostStatus::Local },
        FleetHost {
            label: "http://strix2:9464",
            snapshot: Some(&remote),
            status: HostStatus::Live,
        },
        FleetHost {
            label: "http://strix3:9464",
            snapshot: Some(&local),
            status: HostStatus::Stale { age_s: 4.2 },
        },
        FleetHost {
            label: "http://rtx-box:9464",
            snapshot: Some(&gone),
            status: HostStatus::Unreachable {
                error: "http://rtx-box:9464: cannot connect: Connection refused".into(),
            },
        },
        FleetHost { label: "http://strix4:9464", snapshot: None, status: HostStatus::Connecting },
    ];
    render(width, height, &FleetPane { hosts: &hosts, selected, theme: Theme::PLAIN })
}

#[test]
fn fleet_at_120x40() {
    insta::assert_snapshot!(fleet_text(120, 40, 1));
}

#[test]
fn fleet_at_80x24() {
    insta::assert_snapshot!(fleet_text(80, 24, 0));
}

#[test]
fn figures_are_unknown_unless_read() {
    let mut s = host_snapshot();
    s.host = None;
    assert_eq!(FleetFigures::of(&s), FleetFigures::default());
    s.nvidia = Some(nvidia_section());
    let f = FleetFigures::of(&s);
    // One device reports 349.6 W, the sleeping one nothing: the sum is of what is known.
    assert_eq!(f.gpu_power_w, Some(349.6));
    assert_eq!(f.gpu_temp_c, Some(71.0));
    assert_eq!(f.decode_tok_s, None);
}

#[test]
fn an_unreachable_host_shows_no_numbers() {
    let text = fleet_text(120, 40, 0);
    let row = text.lines().find(|l| l.contains("rtx-box")).unwrap();
    assert!(row.contains("UNREACHABLE"), "{row}");
    assert!(!row.contains("GiB"), "last numbers shown as current: {row}");
}

#[test]
fn banner_says_why_the_numbers_are_old() {
    let stale = HostStatus::Stale { age_s: 12.0 };
    let text = render(60, 1, &LinkBanner { label: "strix2", status: &stale, theme: Theme::PLAIN });
    assert!(text.contains("no snapshot for 12s"), "{text}");
    let live =
        render(60, 1, &LinkBanner { label: "x", status: &HostStatus::Live, theme: Theme::PLAIN });
    assert_eq!(live.trim_matches(['"', ' ', '\n']), "");
}

#[test]
fn tiny_and_empty_areas_do_not_panic() {
    for (w, h) in [(0, 0), (1, 1), (20, 3), (5, 20), (300, 2)] {
        fleet_text(w, h, 4);
    }
}
