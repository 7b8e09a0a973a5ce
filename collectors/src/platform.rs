//! The machine's theoretical memory bandwidth, from the identity of its GPU.
//!
//! Decode speed is bounded by memory bandwidth, so the roofline needs the peak of the memory the
//! weights live in. On an APU that is the system memory; halo-top knows it per PCI device id.

use std::path::Path;

use crate::sysfs;

/// A platform halo-top knows the memory of.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownPlatform {
    pub pci_vendor: u64,
    pub pci_device: u64,
    pub name: &'static str,
    /// How the peak follows from the memory: transfers/s × bus width.
    pub memory: &'static str,
    pub peak_bandwidth_gbps: f64,
}

/// Strix Halo (Ryzen AI Max, Radeon 8060S/8050S/8040S, all PCI id 1002:1586): 256-bit
/// LPDDR5X-8000, 8000 MT/s × 32 bytes = 256 GB/s, shared by CPU and GPU.
const KNOWN: &[KnownPlatform] = &[KnownPlatform {
    pci_vendor: 0x1002,
    pci_device: 0x1586,
    name: "AMD Strix Halo",
    memory: "LPDDR5X-8000 x 256 bit",
    peak_bandwidth_gbps: 256.0,
}];

impl KnownPlatform {
    pub fn describe(&self) -> String {
        format!(
            "{} (PCI {:04x}:{:04x}): {}",
            self.name, self.pci_vendor, self.pci_device, self.memory
        )
    }
}

/// Looks for a known GPU under `{sysfs_root}/class/drm/card*/device/{vendor,device}`. Missing
/// or unreadable files mean "not this one", never an error: most machines are not known.
pub fn identify(sysfs_root: &Path) -> Option<KnownPlatform> {
    let drm = sysfs_root.join("class/drm");
    let cards = sysfs::list_dir(&drm, |name| {
        name.strip_prefix("card")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
    .ok()?;
    cards.iter().find_map(|(_, card)| {
        let vendor = sysfs::read_u64(&card.join("device/vendor")).ok()?;
        let device = sysfs::read_u64(&card.join("device/device")).ok()?;
        KNOWN.iter().find(|k| k.pci_vendor == vendor && k.pci_device == device).cloned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(root: &Path, name: &str, vendor: &str, device: &str) {
        let dir = root.join("class/drm").join(name).join("device");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("vendor"), format!("{vendor}\n")).unwrap();
        std::fs::write(dir.join("device"), format!("{device}\n")).unwrap();
    }

    #[test]
    fn strix_halo_is_256_gbps() {
        let dir = tempfile::tempdir().unwrap();
        // A connector entry shares the prefix and must be ignored.
        std::fs::create_dir_all(dir.path().join("class/drm/card1-DP-1")).unwrap();
        card(dir.path(), "card0", "0x10de", "0x2684");
        card(dir.path(), "card1", "0x1002", "0x1586");
        let platform = identify(dir.path()).unwrap();
        assert_eq!(platform.peak_bandwidth_gbps, 256.0);
        assert!(platform.describe().contains("1002:1586"), "{}", platform.describe());
    }

    #[test]
    fn unknown_or_missing_hardware_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(identify(dir.path()), None);
        card(dir.path(), "card0", "0x1002", "0x150e");
        assert_eq!(identify(dir.path()), None, "Strix Point is not Strix Halo");
    }
}
