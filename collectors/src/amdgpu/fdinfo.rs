//! Parsing `/proc/PID/fdinfo/FD` of a DRM file (kernel `drm_show_fdinfo`, `amdgpu_fdinfo.c`,
//! `Documentation/gpu/drm-usage-stats.rst`).

use std::collections::BTreeMap;

use crate::model::DrmRegion;

/// One DRM client (one open `drm_file`) as its fdinfo describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DrmClient {
    pub driver: String,
    /// Unique per open file; dup'ed and inherited fds share it.
    pub client_id: Option<u64>,
    /// PCI address of the GPU, e.g. `0000:c5:00.0`.
    pub pdev: Option<String>,
    /// `drm-{total,shared,resident,purgeable}-<region>` by region (`vram`, `gtt`, `cpu`, `gds`,
    /// `gws`, `oa`, `doorbell`, `mmioremap`); on kernels before 6.11, VRAM and GTT totals from the
    /// legacy `drm-memory-<region>` keys.
    pub regions: BTreeMap<String, DrmRegion>,
    /// `amd-evicted-vram`: this client's VRAM pushed out to system memory.
    pub evicted_vram_bytes: Option<u64>,
    /// Cumulative busy ns per engine, only engines the kernel printed (it skips zeros).
    pub engine_ns: BTreeMap<String, u64>,
}

/// Parses the text of one fdinfo file; `None` if it is not a DRM file at all.
///
/// Keys and values are split at the first `:` and trimmed, because the legacy
/// `drm-memory-gtt: \t...` has a space before the tab.
pub fn parse(text: &str) -> Option<DrmClient> {
    let mut client = DrmClient::default();
    let mut driver = None;
    let mut legacy: BTreeMap<&str, u64> = BTreeMap::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match key.trim() {
            "drm-driver" => driver = Some(value.to_string()),
            "drm-client-id" => client.client_id = value.parse().ok(),
            "drm-pdev" => client.pdev = Some(value.to_string()),
            "amd-evicted-vram" => client.evicted_vram_bytes = parse_size(value),
            key => {
                if let Some(region) = key.strip_prefix("drm-memory-") {
                    legacy.extend(parse_size(value).map(|bytes| (region, bytes)));
                } else if let Some(engine) = key.strip_prefix("drm-engine-") {
                    // `drm-engine-capacity-*` is i915/xe only; amdgpu's capacity is 1.
                    if !engine.starts_with("capacity-")
                        && let Some(ns) =
                            value.strip_suffix("ns").and_then(|v| v.trim().parse::<u64>().ok())
                    {
                        // UVD and VCN decode both print as `dec`: add them up (saturating:
                        // fuzzing found two huge values that overflowed).
                        let total = client.engine_ns.entry(engine.to_string()).or_insert(0);
                        *total = total.saturating_add(ns);
                    }
                } else if let Some((stat, region)) =
                    key.strip_prefix("drm-").and_then(|k| k.split_once('-'))
                    && matches!(stat, "total" | "shared" | "resident" | "purgeable")
                    && let Some(bytes) = parse_size(value)
                {
                    let region = client.regions.entry(region.to_string()).or_default();
                    match stat {
                        "total" => region.total_bytes = Some(bytes),
                        "shared" => region.shared_bytes = Some(bytes),
                        "resident" => region.resident_bytes = Some(bytes),
                        _ => region.purgeable_bytes = Some(bytes),
                    }
                }
            }
        }
    }
    client.driver = driver?;
    // drm-total-* (kernels 6.11+) wins over the legacy alias.
    for (region, bytes) in legacy {
        let entry = client.regions.entry(region.to_string()).or_default();
        entry.total_bytes = entry.total_bytes.or(Some(bytes));
    }
    Some(client)
}

impl DrmClient {
    pub fn total_bytes(&self, region: &str) -> Option<u64> {
        self.regions.get(region)?.total_bytes
    }
}

/// `395148 KiB`, `64 MiB`, `0`, `4096` (bytes): the kernel divides by 1024 while the value is
/// 1 KiB-aligned (up to MiB); other drivers may go further, so GiB is accepted too.
pub fn parse_size(value: &str) -> Option<u64> {
    let mut parts = value.split_whitespace();
    let number: u64 = parts.next()?.parse().ok()?;
    let scale: u64 = match parts.next() {
        None => 1,
        Some("KiB") => 1 << 10,
        Some("MiB") => 1 << 20,
        Some("GiB") => 1 << 30,
        Some(_) => return None,
    };
    number.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amdgpu::testing::fixture_procfs;

    #[test]
    fn sizes_in_every_unit() {
        assert_eq!(parse_size("0"), Some(0));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("143872 KiB"), Some(143_872 * 1024));
        assert_eq!(parse_size("64 MiB"), Some(64 << 20));
        assert_eq!(parse_size("2 GiB"), Some(2 << 30));
        assert_eq!(parse_size("12 parsecs"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn the_real_llama_server_fdinfo() {
        let path = fixture_procfs("strix-halo-uma64g").join("4242/fdinfo/7");
        let client = parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(client.driver, "amdgpu");
        assert_eq!(client.client_id, Some(196_416));
        assert_eq!(client.pdev.as_deref(), Some("0000:c5:00.0"));
        assert_eq!(client.total_bytes("vram"), Some(29_971_892 * 1024));
        assert_eq!(client.total_bytes("gtt"), Some(395_148 * 1024));
        assert_eq!(client.total_bytes("cpu"), Some(0));
        assert_eq!(client.regions["vram"].purgeable_bytes, Some(2816 * 1024));
        assert_eq!(client.regions["gtt"].shared_bytes, Some(0));
        assert_eq!(client.regions.len(), 8, "cpu gtt vram gds gws oa doorbell mmioremap");
        assert_eq!(client.evicted_vram_bytes, Some(0));
        assert_eq!(client.engine_ns.get("gfx"), Some(&576_304_900));
        assert_eq!(client.engine_ns.get("compute"), Some(&25_285_118_630));
    }

    #[test]
    fn legacy_keys_duplicate_engines_and_other_drivers() {
        let legacy = "drm-driver:\tamdgpu\ndrm-client-id:\t3\ndrm-memory-vram:\t131072 KiB\n\
                      drm-memory-gtt: \t65985924 KiB\ndrm-engine-dec:\t10 ns\ndrm-engine-dec:\t5 ns\n\
                      drm-engine-capacity-gfx:\t2\n";
        let client = parse(legacy).unwrap();
        assert_eq!(client.total_bytes("vram"), Some(128 << 20));
        assert_eq!(client.total_bytes("gtt"), Some(65_985_924 * 1024), "space before the tab");
        assert_eq!(client.engine_ns.get("dec"), Some(&15), "UVD and VCN decode add up");
        assert_eq!(client.engine_ns.len(), 1);

        let i915 = parse("drm-driver:\ti915\ndrm-client-id:\t9\n").unwrap();
        assert_eq!(i915.driver, "i915");
        assert_eq!(parse("pos:\t0\nflags:\t02\nmnt_id:\t1\n"), None, "not a DRM file");
    }

    #[test]
    fn engine_times_that_add_past_u64_saturate() {
        // From the kernel_text fuzz target (fuzz/regressions/kernel_text): two `dec` lines whose
        // sum overflowed; release builds would have wrapped to a small, wrong number.
        let text = format!(
            "drm-driver:\tamdgpu\ndrm-engine-dec:\t{0} ns\ndrm-engine-dec:\t{0} ns\n",
            u64::MAX - 1
        );
        assert_eq!(parse(&text).unwrap().engine_ns.get("dec"), Some(&u64::MAX));
    }
}
