//! Test support: the fixture trees, and copies of them that a test may change.

use std::path::{Path, PathBuf};

pub use super::metrics::fixture_blobs;
pub use super::metrics::pack::Packer;

/// The repository's `fixtures/` directory (without a `..` in it: every path lookup walks it).
pub fn fixtures_dir() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    std::fs::canonicalize(&path).unwrap_or(path)
}

/// `fixtures/sysfs/<scenario>`: stands for `/sys`.
pub fn fixture_sysfs(scenario: &str) -> PathBuf {
    fixtures_dir().join("sysfs").join(scenario)
}

/// `fixtures/procfs/<scenario>`: stands for `/proc`.
pub fn fixture_procfs(scenario: &str) -> PathBuf {
    fixtures_dir().join("procfs").join(scenario)
}

/// Writes `text` to `root/rel`, creating directories.
pub fn write(root: &Path, rel: &str, text: &str) {
    write_bytes(root, rel, text.as_bytes());
}

pub fn write_bytes(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create fixture directory");
    }
    std::fs::write(&path, bytes).expect("write fixture file");
}

/// Copies a fixture tree, keeping its symlinks as symlinks (they are relative, so they still
/// point inside the copy).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create copy");
    for entry in std::fs::read_dir(from).expect("read fixture directory") {
        let entry = entry.expect("fixture entry");
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("fixture entry type");
        if kind.is_symlink() {
            let link = std::fs::read_link(entry.path()).expect("read fixture link");
            std::os::unix::fs::symlink(link, &target).expect("copy fixture link");
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy fixture file");
        }
    }
}

/// A scenario's sysfs and procfs trees, copied into a temporary directory.
pub struct FixtureCopy {
    pub dir: tempfile::TempDir,
    pub sysfs: PathBuf,
    pub procfs: PathBuf,
}

impl FixtureCopy {
    pub fn new(scenario: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let sysfs = dir.path().join("sys");
        let procfs = dir.path().join("proc");
        copy_tree(&fixture_sysfs(scenario), &sysfs);
        if fixture_procfs(scenario).exists() {
            copy_tree(&fixture_procfs(scenario), &procfs);
        }
        Self { dir, sysfs, procfs }
    }

    /// The real path of `rel` under the sysfs copy (through its symlinks).
    pub fn sys_file(&self, rel: &str) -> PathBuf {
        let path = self.sysfs.join(rel);
        std::fs::canonicalize(&path).unwrap_or(path)
    }
}
