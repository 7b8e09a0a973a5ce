//! The AMD source end to end: the real binary on the fixture trees of a Strix Halo.

mod support;

use std::path::Path;
use std::time::Duration;

use halo_collectors::SourceStatus;
use halo_collectors::amdgpu::testing::{FixtureCopy, fixture_blobs, fixture_procfs, fixture_sysfs};
use halo_top::session::Session;
use serde_json::Value;
use support::{halo_top, run_ok};

fn snapshot_json(sysfs: &Path, procfs: &Path) -> Value {
    let out = run_ok(
        halo_top()
            .args(["--interval", "200ms", "snapshot", "--json", "--sysfs-root"])
            .arg(sysfs)
            .arg("--procfs-root")
            .arg(procfs),
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn status<'a>(snapshot: &'a Value, source: &str) -> &'a Value {
    let sources = snapshot["sources"].as_array().expect("sources");
    &sources.iter().find(|s| s["name"] == source).unwrap_or_else(|| panic!("no {source}"))["status"]
}

#[test]
fn snapshot_json_of_the_load_fixture_has_the_spec_decode_and_llama_server() {
    let s = snapshot_json(&fixture_sysfs("strix-halo-load"), &fixture_procfs("strix-halo-load"));
    assert_eq!(status(&s, "amdgpu")["state"], "ok");
    let card = &s["amdgpu"]["cards"][0];
    assert_eq!(card["card"], "card1");
    assert_eq!(card["identity"]["marketing_name"], "AMD Radeon 8060S Graphics");
    assert_eq!(card["identity"]["kind"], "apu");
    let m = &card["metrics"];
    assert_eq!(m["edge_temp_c"], 70.38);
    assert_eq!(m["soc_temp_c"], 62.62);
    assert_eq!(m["gfx_activity_percent"], 97.0);
    assert_eq!(m["socket_power_mw"], 88_165);
    assert_eq!(m["gfx_power_mw"], 71_230);
    assert_eq!(m["cpu_cores_power_mw"], 4659);
    assert_eq!(m["dram_read_mb_per_s"], 47_791);
    assert_eq!(m["dram_write_mb_per_s"], 1463);
    assert_eq!(
        [&m["gfxclk_mhz"], &m["socclk_mhz"], &m["fclk_mhz"], &m["uclk_mhz"]],
        [2900, 1472, 2000, 937]
    );
    assert_eq!(m["stapm_power_limit_mw"], Value::Null, "0xFFFF is n/a, never 65.5 W");
    assert_eq!(m["npu_activity_percent"][0], 0.0);
    assert_eq!(m["npuclk_mhz"], 0);
    assert_eq!(m["throttle_residency"]["sppt"], 5_233_158, "raw counters beside the rates");

    let clients = s["amdgpu"]["processes"]["clients"].as_array().unwrap();
    let llama = clients.iter().find(|c| c["name"] == "llama-server").expect("llama-server");
    assert_eq!(llama["pid"], 4242);
    assert_eq!(llama["gtt_bytes"], 29_971_892u64 * 1024);
    assert_eq!(llama["client_ids"], serde_json::json!([196_416]));
    assert!(clients.iter().all(|c| c["name"] != "chromium"), "an i915 client is not ours");

    let budget = &card["unified_memory"];
    assert_eq!(budget["largest_process"]["name"], "llama-server");
    assert_eq!(budget["carve_out_bytes"], 512u64 << 20);
    // Derived by the hub: the k10temp Tctl of the host section, labelled.
    assert_eq!(s["derived"]["amdgpu"]["cpu_temp_source"], "tctl");
    assert_eq!(s["derived"]["amdgpu"]["cpu_temp_c"], 78.125);
}

#[test]
fn the_text_summary_has_the_amd_lines() {
    let out = run_ok(
        halo_top()
            .args(["--interval", "200ms", "snapshot", "--sysfs-root"])
            .arg(fixture_sysfs("strix-halo-load"))
            .arg("--procfs-root")
            .arg(fixture_procfs("strix-halo-load")),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "amdgpu   card1 AMD Radeon 8060S Graphics (Strix Halo APU, 0000:c5:00.0)",
        "edge 70.38°C, SoC 62.62°C, GFX 97.0% busy, sclk 2.90 GHz",
        "power socket 88.165 W, GFX 71.230 W, CPU cores 4.659 W, STAPM limit n/a",
        "DRAM read 47791 MB/s, write 1463 MB/s",
        "GTT 29.0 GiB used of 120 GiB allocatable",
        "process 4242 llama-server: GTT 28.6 GiB, VRAM 386 MiB",
        "cpu temp 78.12°C (Tctl)",
        "source   amdgpu   ok",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn no_amdgpu_card_is_unavailable_not_zeros() {
    let sysfs = fixture_sysfs("no-amdgpu");
    let s = snapshot_json(&sysfs, &fixture_procfs("quiet"));
    let st = status(&s, "amdgpu");
    assert_eq!(st["state"], "unavailable");
    let expected = format!("no amdgpu card under {}", sysfs.join("class/drm").display());
    assert_eq!(st["reason"], expected.as_str());
    assert_eq!(s["amdgpu"], Value::Null);
    assert_eq!(status(&s, "host")["state"], "ok", "the other sources carry on");
}

#[test]
fn old_kernel_falls_back_to_the_soc_temperature_and_caps_gtt_at_ttm() {
    let s = snapshot_json(&fixture_sysfs("strix-halo-old-kernel"), &fixture_procfs("quiet"));
    assert_eq!(s["host"]["tctl_c"], Value::Null, "no k10temp on this kernel");
    assert_eq!(s["derived"]["amdgpu"]["cpu_temp_c"], 62.62);
    assert_eq!(s["derived"]["amdgpu"]["cpu_temp_source"], "gpu_metrics_soc");
    assert_eq!(s["amdgpu"]["cards"][0]["memory"]["gtt_allocatable_bytes"], 66_818_834_432u64);
}

#[test]
fn a_suspended_dgpu_says_so() {
    let s = snapshot_json(&fixture_sysfs("navi31-suspended"), &fixture_procfs("quiet"));
    let card = &s["amdgpu"]["cards"][0];
    assert_eq!(card["asleep"], true);
    assert_eq!(card["metrics"], Value::Null);
    assert_eq!(card["identity"]["kind"], "dgpu");
}

/// `record` on a copy of the load fixture whose `gpu_metrics` moves on by one second partway
/// through: the snapshot after the change has the per-interval limiter percentages.
#[test]
fn throttle_percentages_when_the_table_changes_between_polls() {
    let copy = FixtureCopy::new("strix-halo-load");
    let session = copy.dir.path().join("s.ndjson");
    let child = halo_top()
        .args(["--interval", "250ms", "record", "--duration", "4s", "-o"])
        .arg(&session)
        .arg("--sysfs-root")
        .arg(&copy.sysfs)
        .arg("--procfs-root")
        .arg(&copy.procfs)
        .spawn()
        .unwrap();
    // Change the table only once two snapshots with the old one are on disk (header + 2 lines).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&session).map_or(0, |t| t.lines().count()) < 3 {
        assert!(std::time::Instant::now() < deadline, "no snapshots recorded");
        std::thread::sleep(Duration::from_millis(50));
    }
    let next = fixture_blobs::strix_halo_load_next(&[
        ("system_clock_counter", 3_901_000_000_000),
        ("throttle_residency_sppt", 5_233_258),
        ("throttle_residency_thm_gfx", 68_974 + 250),
    ]);
    // Replace the file in one step, as sysfs would present it: a reader never sees half a table.
    let blob = copy.sys_file("class/drm/card1/device/gpu_metrics");
    let staged = blob.with_extension("new");
    std::fs::write(&staged, next).unwrap();
    std::fs::rename(&staged, &blob).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");

    let snapshots = Session::read(&session).unwrap().snapshots;
    let changed: Vec<_> = snapshots
        .iter()
        .filter_map(|s| s.derived.amdgpu.cards.first())
        .filter(|c| !c.throttle_percent.is_empty())
        .collect();
    assert_eq!(changed.len(), 1, "exactly one interval saw the table move");
    let pct = &changed[0].throttle_percent;
    assert!((pct["sppt"] - 10.0).abs() < 1e-9, "{pct:?}");
    assert!((pct["thm_gfx"] - 25.0).abs() < 1e-9, "{pct:?}");
    assert_eq!(pct["fppt"], 0.0);
    assert_eq!(changed[0].metrics_interval_s, Some(1.0));
    for s in &snapshots {
        let status = &s.source("amdgpu").unwrap().status;
        assert!(status.is_ok() || *status == SourceStatus::Pending, "{status:?}");
    }
}
