use super::*;

#[test]
fn urls() {
    let u = RemoteUrl::parse("http://strix2:9000/halo/").unwrap();
    assert_eq!((u.host.as_str(), u.port, u.prefix.as_str()), ("strix2", 9000, "/halo"));
    assert_eq!(u.authority, "strix2:9000");
    let u = RemoteUrl::parse("http://[::1]").unwrap();
    assert_eq!((u.host.as_str(), u.port, u.prefix.as_str()), ("::1", 9464, ""));
    for bad in ["strix2:9464", "https://strix2", "ftp://x", "http://", "not a url"] {
        let e = RemoteUrl::parse(bad).unwrap_err();
        assert!(format!("{e:#}").contains(bad.trim()), "{bad}: {e:#}");
    }
}

#[test]
fn a_remote_goes_stale_then_unreachable_and_comes_back() {
    let t0 = Instant::now();
    let s = |secs: f64| t0 + Duration::from_secs_f64(secs);
    let interval = Some(1000);
    let mut link = Link::default();
    assert_eq!(link.status(None, t0), HostStatus::Connecting);

    link.connected = true;
    link.last_snapshot_at = Some(t0);
    assert_eq!(link.status(interval, s(1.0)), HostStatus::Live);
    // Connected but silent for more than 2.5 intervals.
    assert_eq!(link.status(interval, s(3.0)), HostStatus::Stale { age_s: 3.0 });

    // The connection breaks: stale at once, unreachable after UNREACHABLE_AFTER.
    link.connected = false;
    link.down_since = Some(s(1.0));
    link.error = Some("http://x:1: cannot connect".into());
    assert_eq!(link.status(interval, s(1.5)), HostStatus::Stale { age_s: 1.5 });
    assert_eq!(
        link.status(interval, s(11.0)),
        HostStatus::Unreachable { error: "http://x:1: cannot connect".into() }
    );

    // It returns: connected, then live with its first snapshot.
    link.connected = true;
    link.error = None;
    link.down_since = None;
    link.last_snapshot_at = Some(s(20.0));
    assert_eq!(link.status(interval, s(20.1)), HostStatus::Live);
}

#[test]
fn a_remote_never_reached_is_unreachable_at_once() {
    let link = Link {
        error: Some("http://x:1: cannot connect".into()),
        down_since: Some(Instant::now()),
        ..Link::default()
    };
    assert!(matches!(link.status(None, Instant::now()), HostStatus::Unreachable { .. }));
}
