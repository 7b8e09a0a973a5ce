use super::*;
use halo_collectors::model::{
    HostSection, MemoryReading, NvidiaDevice, NvidiaSection, SourceState, SourceStatus,
};

fn snapshot() -> Snapshot {
    let mut s = Snapshot::new(9, 1_795_000_000_000, 9000, 1000);
    s.host = Some(HostSection {
        host_name: Some("strix".into()),
        cpu_model: Some("AMD \"RYZEN\" AI MAX+ 395".into()),
        memory: MemoryReading {
            total_bytes: Some(128 << 30),
            swap_used_bytes: Some(0),
            ..MemoryReading::default()
        },
        ..HostSection::default()
    });
    s.nvidia = Some(NvidiaSection {
        devices: vec![NvidiaDevice {
            index: 0,
            energy_total_mj: Some(123_456),
            gpu_busy_percent: Some(0.0),
            ..NvidiaDevice::default()
        }],
        ..NvidiaSection::default()
    });
    s.sources = vec![SourceState {
        name: "host".into(),
        status: SourceStatus::Ok,
        samples: 10,
        last_sample_ms: Some(0.5),
        age_ms: None,
    }];
    s
}

fn sample<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines().find(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
}

#[test]
fn unknown_is_absent_and_zero_is_zero() {
    let text = openmetrics(Arc::new(snapshot()), "fallback");
    assert_eq!(
        sample(&text, "halo_host_memory_total_bytes"),
        Some(r#"halo_host_memory_total_bytes{host="strix"} 137438953472.0"#)
    );
    assert_eq!(
        sample(&text, "halo_host_swap_used_bytes"),
        Some(r#"halo_host_swap_used_bytes{host="strix"} 0.0"#)
    );
    assert_eq!(
        sample(&text, "halo_nvidia_gpu_busy_ratio"),
        Some(r#"halo_nvidia_gpu_busy_ratio{host="strix",device="0"} 0.0"#)
    );
    // Never read: neither a sample nor a family.
    for absent in ["halo_host_memory_used_bytes", "halo_nvidia_power_watts", "halo_roofline_"] {
        assert!(!text.contains(absent), "{absent} in:\n{text}");
    }
    assert!(!text.contains("halo_source_reading_age_seconds{"), "age unknown: {text}");
}

#[test]
fn counters_gauges_units_and_labels() {
    let text = openmetrics(Arc::new(snapshot()), "fallback");
    assert!(text.ends_with("# EOF\n"));
    assert!(text.contains("# TYPE halo_nvidia_energy_joules counter\n"), "{text}");
    assert!(text.contains("# UNIT halo_nvidia_energy_joules joules\n"), "{text}");
    assert!(
        text.contains("halo_nvidia_energy_joules_total{host=\"strix\",device=\"0\"} 123.456\n")
    );
    // Label values are escaped.
    assert!(text.contains(r#"cpu_model="AMD \"RYZEN\" AI MAX+ 395""#), "{text}");

    let classic = classic_from_openmetrics(&text);
    assert!(classic.contains("# TYPE halo_nvidia_energy_joules_total counter\n"), "{classic}");
    assert!(classic.contains("# HELP halo_nvidia_energy_joules_total Energy"), "{classic}");
    assert!(!classic.contains("# UNIT") && !classic.contains("# EOF"));
    // Samples are the same lines in both.
    let samples = |t: &str| t.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(samples(&text), samples(&classic));
}

#[test]
fn host_label_falls_back_when_the_host_source_failed() {
    let mut s = snapshot();
    s.host = None;
    let text = openmetrics(Arc::new(s), "box-from-procfs");
    assert!(text.contains(r#"halo_snapshots_total{host="box-from-procfs"} 10.0"#), "{text}");
    assert!(!text.contains("halo_host_"), "{text}");
}
