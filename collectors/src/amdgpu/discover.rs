//! Finding the amdgpu cards under a sysfs root, and who they are.
//!
//! `/sys/class/drm/cardN` entries are symlinks into `/sys/devices/...` on a real machine and may
//! be plain directories in a fixture: both work. The card and hwmon indexes, and the PCI bus,
//! differ between machines and boots, so nothing here assumes them.

use std::path::{Path, PathBuf};

use crate::model::{GpuIdentity, GpuKind};
use crate::source::SourceError;
use crate::sysfs::{ReadError, list_dir};

use super::text::{read_number, read_small_text, read_trimmed};

/// A card found at discovery: what stays the same while the machine runs.
#[derive(Debug, Clone)]
pub struct Card {
    /// `card1`.
    pub name: String,
    /// `<root>/class/drm/card1/device`.
    pub device_dir: PathBuf,
    pub hwmon_dir: Option<PathBuf>,
    pub identity: GpuIdentity,
    /// Problems met while identifying the card (unreadable identity files).
    pub problems: Vec<String>,
}

const AMD_VENDOR_ID: u64 = 0x1002;

/// Every `cardN` whose driver is amdgpu. A missing `class/drm` means no GPU driver at all,
/// which is an empty list, not an error; an unreadable one is an error.
pub fn discover(sysfs_root: &Path) -> Result<Vec<Card>, SourceError> {
    let class = sysfs_root.join("class/drm");
    let entries = match list_dir(&class, is_card_name) {
        Ok(entries) => entries,
        Err(e) if e.is_not_found() => return Ok(Vec::new()),
        Err(e) => return Err(SourceError::Failed(e.to_string())),
    };
    Ok(entries.into_iter().filter_map(|(name, dir)| identify(&class, name, &dir)).collect())
}

/// `card1`, not `card1-DP-1` (connectors share the prefix) nor `renderD128`.
fn is_card_name(name: &str) -> bool {
    name.strip_prefix("card")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn identify(class: &Path, name: String, card_dir: &Path) -> Option<Card> {
    let device_link = card_dir.join("device");
    let pci_bdf = pci_bdf(&device_link);
    // Every later read goes to the device's real directory: resolving `class/drm/cardN/device`
    // (two symlinks) on every open costs more than the read itself.
    let device_dir = std::fs::canonicalize(&device_link).unwrap_or(device_link);
    if read_number(&device_dir.join("vendor")).ok()? != AMD_VENDOR_ID
        || driver_name(&device_dir).as_deref() != Some("amdgpu")
    {
        return None;
    }
    let mut problems = Vec::new();
    let mut id = |file: &str| match read_number(&device_dir.join(file)) {
        Ok(v) => Some(v),
        Err(e) => {
            note(&mut problems, e);
            None
        }
    };
    let device_id = id("device").and_then(|v| u16::try_from(v).ok());
    let revision = id("revision").and_then(|v| u8::try_from(v).ok());
    let subsystem_vendor_id = id("subsystem_vendor").and_then(|v| u16::try_from(v).ok());
    let subsystem_device_id = id("subsystem_device").and_then(|v| u16::try_from(v).ok());
    let known = device_id.and_then(known_device);
    let hwmon_dir = amdgpu_hwmon(&device_dir);
    let identity = GpuIdentity {
        vendor_id: Some(0x1002),
        device_id,
        revision,
        subsystem_vendor_id,
        subsystem_device_id,
        marketing_name: device_id.zip(revision).and_then(|(d, r)| marketing_name(d, r)),
        codename: known.map(|(codename, _)| codename.to_string()),
        kind: known.map(|(_, kind)| kind),
        render_node: render_node(class, &device_dir, pci_bdf.as_deref()),
        pci_bdf,
        hwmon: hwmon_dir.as_ref().and_then(|d| Some(d.file_name()?.to_str()?.to_string())),
        vbios_version: read_trimmed(&device_dir.join("vbios_version")).ok(),
    };
    Some(Card { name, device_dir, hwmon_dir, identity, problems })
}

fn note(problems: &mut Vec<String>, e: ReadError) {
    if !e.is_not_found() {
        problems.push(e.to_string());
    }
}

/// The basename of `readlink(device/driver)`; in a tree without symlinks, `DRIVER=` of `uevent`.
fn driver_name(device_dir: &Path) -> Option<String> {
    if let Ok(target) = std::fs::read_link(device_dir.join("driver")) {
        return Some(target.file_name()?.to_str()?.to_string());
    }
    uevent(device_dir, "DRIVER")
}

fn uevent(device_dir: &Path, key: &str) -> Option<String> {
    let text = read_small_text(&device_dir.join("uevent")).ok()?;
    text.lines().find_map(|l| Some(l.strip_prefix(key)?.strip_prefix('=')?.trim().to_string()))
}

/// The PCI address. `cardN/device` is a symlink to `../../../0000:c5:00.0`, so the basename of
/// its target is the BDF (one readlink, where a realpath walks every component); failing that,
/// the basename of the real path, then `PCI_SLOT_NAME` from `uevent` where the tree has no
/// symlinks.
fn pci_bdf(device_dir: &Path) -> Option<String> {
    let basename = |p: PathBuf| Some(p.file_name()?.to_str()?.to_string());
    std::fs::read_link(device_dir)
        .ok()
        .and_then(basename)
        .filter(|name| looks_like_bdf(name))
        .or_else(|| {
            std::fs::canonicalize(device_dir).ok().and_then(basename).filter(|n| looks_like_bdf(n))
        })
        .or_else(|| uevent(device_dir, "PCI_SLOT_NAME"))
}

fn looks_like_bdf(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 12 && b[4] == b':' && b[7] == b':' && b[10] == b'.'
}

/// The `renderD*` node of the same PCI device: the device's own `drm/` directory lists it next
/// to `cardN`; failing that, a `renderD*` in `class/drm` whose device has the same BDF.
fn render_node(class: &Path, device_dir: &Path, bdf: Option<&str>) -> Option<String> {
    let is_render = |n: &str| n.starts_with("renderD");
    let own = list_dir(&device_dir.join("drm"), is_render).unwrap_or_default();
    if let Some((name, _)) = own.into_iter().next() {
        return Some(name);
    }
    let bdf = bdf?;
    let nodes = list_dir(class, is_render).ok()?;
    nodes.into_iter().find_map(|(name, dir)| {
        (pci_bdf(&dir.join("device")).as_deref() == Some(bdf)).then_some(name)
    })
}

/// The device's hwmon chip: `device/hwmon/hwmonN` with `name` = `amdgpu`.
fn amdgpu_hwmon(device_dir: &Path) -> Option<PathBuf> {
    let chips = list_dir(&device_dir.join("hwmon"), |n| n.starts_with("hwmon")).ok()?;
    chips
        .into_iter()
        .map(|(_, dir)| dir)
        .find(|dir| read_trimmed(&dir.join("name")).is_ok_and(|n| n == "amdgpu"))
}

/// Codename and APU/dGPU for device ids worth naming (libdrm `amdgpu.ids`, PCI id lists).
fn known_device(device_id: u16) -> Option<(&'static str, GpuKind)> {
    use GpuKind::{Apu, Dgpu};
    Some(match device_id {
        0x1586 => ("Strix Halo", Apu),
        0x150e => ("Strix Point", Apu),
        0x1114 => ("Krackan Point", Apu),
        0x15bf => ("Phoenix", Apu),
        0x15c8 => ("Phoenix2", Apu),
        0x1681 => ("Rembrandt", Apu),
        0x1636 => ("Renoir", Apu),
        0x1638 => ("Cezanne", Apu),
        0x164c => ("Lucienne", Apu),
        0x15e7 => ("Barcelo", Apu),
        0x163f => ("Van Gogh", Apu),
        0x164e => ("Raphael", Apu),
        0x1506 => ("Mendocino", Apu),
        0x15d8 => ("Picasso", Apu),
        0x15dd => ("Raven", Apu),
        0x744c => ("Navi 31", Dgpu),
        0x747e => ("Navi 32", Dgpu),
        0x7480 => ("Navi 33", Dgpu),
        0x73bf => ("Navi 21", Dgpu),
        0x73df => ("Navi 22", Dgpu),
        0x7550 => ("Navi 48", Dgpu),
        _ => return None,
    })
}

/// SMU 14 APUs: their hwmon power carries centiwatts in the µW value (see `hwmon`).
pub fn is_smu14_apu(identity: &GpuIdentity) -> bool {
    matches!(identity.device_id, Some(0x1586 | 0x150e | 0x1114))
}

/// Strix Halo's marketing name depends on the revision (libdrm `amdgpu.ids`).
fn marketing_name(device_id: u16, revision: u8) -> Option<String> {
    let name = match (device_id, revision) {
        (0x1586, 0xc1 | 0xc3 | 0xc6 | 0xd1) => "AMD Radeon 8060S Graphics",
        (0x1586, 0xc2 | 0xc4 | 0xd2 | 0xd4) => "AMD Radeon 8050S Graphics",
        (0x1586, 0xd5) => "AMD Radeon 8040S Graphics",
        _ => return None,
    };
    Some(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amdgpu::testing::{fixture_sysfs, write};

    #[test]
    fn finds_strix_halo_in_a_plain_tree_and_ignores_connectors() {
        let cards = discover(&fixture_sysfs("strix-halo-idle")).unwrap();
        assert_eq!(cards.len(), 1, "card1-DP-1 is a connector, not a card");
        let card = &cards[0];
        assert_eq!(card.name, "card1");
        let id = &card.identity;
        assert_eq!((id.device_id, id.revision), (Some(0x1586), Some(0xc1)));
        assert_eq!(id.marketing_name.as_deref(), Some("AMD Radeon 8060S Graphics"));
        assert_eq!(id.codename.as_deref(), Some("Strix Halo"));
        assert_eq!(id.kind, Some(GpuKind::Apu));
        assert_eq!(id.pci_bdf.as_deref(), Some("0000:c5:00.0"), "from uevent in a plain tree");
        assert_eq!(id.render_node.as_deref(), Some("renderD128"));
        assert_eq!(id.hwmon.as_deref(), Some("hwmon5"));
        assert_eq!(id.vbios_version.as_deref(), Some("113-STRXLGEN-001"));
        assert!(card.problems.is_empty(), "{:?}", card.problems);
    }

    #[test]
    fn follows_symlinks_to_the_pci_device() {
        let cards = discover(&fixture_sysfs("strix-halo-load")).unwrap();
        let id = &cards[0].identity;
        assert_eq!(id.pci_bdf.as_deref(), Some("0000:c5:00.0"), "from the real path");
        assert_eq!(id.render_node.as_deref(), Some("renderD128"));
        assert_eq!(id.hwmon.as_deref(), Some("hwmon5"));
        assert!(
            std::fs::symlink_metadata(fixture_sysfs("strix-halo-load").join("class/drm/card1"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn card_index_and_hwmon_index_are_discovered() {
        let cards = discover(&fixture_sysfs("strix-halo-uma64g")).unwrap();
        assert_eq!(cards[0].name, "card0");
        assert_eq!(cards[0].identity.hwmon.as_deref(), Some("hwmon3"));
    }

    #[test]
    fn other_vendors_and_drivers_are_skipped() {
        assert!(discover(&fixture_sysfs("no-amdgpu")).unwrap().is_empty());
        let dir = tempfile::tempdir().unwrap();
        // An AMD device bound to another driver (vfio-pci for a passed-through GPU).
        write(dir.path(), "class/drm/card0/device/vendor", "0x1002\n");
        write(dir.path(), "class/drm/card0/device/uevent", "DRIVER=vfio-pci\n");
        assert!(discover(dir.path()).unwrap().is_empty());
        assert!(discover(&dir.path().join("nowhere")).unwrap().is_empty());
    }

    #[test]
    fn names_and_bdfs() {
        assert!(is_card_name("card0") && is_card_name("card12"));
        assert!(
            !is_card_name("card1-DP-1") && !is_card_name("card") && !is_card_name("renderD128")
        );
        assert!(looks_like_bdf("0000:c5:00.0") && !looks_like_bdf("card1"));
        assert_eq!(marketing_name(0x1586, 0xd5).as_deref(), Some("AMD Radeon 8040S Graphics"));
        assert_eq!(marketing_name(0x1586, 0xff), None);
        assert_eq!(marketing_name(0x150e, 0xc1), None);
    }
}
