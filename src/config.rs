//! halo-top's config file (TOML): `$XDG_CONFIG_HOME/halo-top/config.toml`, else
//! `~/.config/halo-top/config.toml`, or `--config PATH`.
//!
//! ```toml
//! peak_bandwidth_gbps = 256          # optional: this machine's theoretical memory bandwidth
//!
//! [calibration]                      # written by `halo-top calibrate`
//! best_read_gbps = 212.4
//! ...
//! ```
//!
//! Keys halo-top does not know are kept when it rewrites the file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// The machine's theoretical memory bandwidth, when halo-top does not know the platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_bandwidth_gbps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
}

/// What `halo-top calibrate` measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub measured_unix_ms: i64,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub cpu: Option<String>,
    /// Size of each of the three arrays.
    pub array_mib: u64,
    pub best_read_gbps: f64,
    pub best_read_threads: u64,
    pub best_triad_gbps: f64,
    /// The 1-minute load average when the measurement started: other work lowers the figures.
    #[serde(default)]
    pub load_average: Option<f64>,
    pub runs: Vec<CalibrationRun>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationRun {
    pub threads: u64,
    pub read_gbps: f64,
    /// STREAM triad `a = b + s·c`, counted as 24 bytes per element (no write-allocate).
    pub triad_gbps: f64,
}

/// The config file to use: `--config`, else the XDG location. `None` when neither `--config`
/// nor `$XDG_CONFIG_HOME` nor `$HOME` is set.
pub fn path(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    let non_empty = |var: &str| std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base =
        non_empty("XDG_CONFIG_HOME").or_else(|| non_empty("HOME").map(|h| h.join(".config")))?;
    Some(base.join("halo-top").join("config.toml"))
}

/// Reads the config; a missing file is an empty config, a broken one an error naming it.
pub fn load(path: Option<&Path>) -> Result<Config> {
    let Some(path) = path else { return Ok(Config::default()) };
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .with_context(|| format!("{}: not a valid config file", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Stores a calibration, keeping every other key of the file.
pub fn save_calibration(path: &Path, calibration: &Calibration) -> Result<()> {
    let mut table: toml::Table = match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .with_context(|| format!("{}: not a valid config file", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => toml::Table::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    table.insert("calibration".into(), toml::Value::try_from(calibration)?);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let text = format!(
        "# halo-top configuration; [calibration] is written by `halo-top calibrate`.\n{}",
        toml::to_string(&table)?
    );
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calibration() -> Calibration {
        Calibration {
            measured_unix_ms: 1,
            host: Some("box".into()),
            cpu: None,
            array_mib: 64,
            best_read_gbps: 30.5,
            best_read_threads: 2,
            best_triad_gbps: 28.0,
            load_average: Some(0.5),
            runs: vec![CalibrationRun { threads: 1, read_gbps: 18.0, triad_gbps: 20.0 }],
        }
    }

    #[test]
    fn calibration_round_trips_and_other_keys_survive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.toml");
        assert_eq!(load(Some(&path)).unwrap(), Config::default(), "missing file: empty config");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "peak_bandwidth_gbps = 273.0\nfuture_key = \"kept\"\n").unwrap();
        save_calibration(&path, &calibration()).unwrap();
        let config = load(Some(&path)).unwrap();
        assert_eq!(config.peak_bandwidth_gbps, Some(273.0));
        assert_eq!(config.calibration, Some(calibration()));
        assert!(std::fs::read_to_string(&path).unwrap().contains("future_key = \"kept\""));
    }

    #[test]
    fn a_broken_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "peak_bandwidth_gbps = [oops").unwrap();
        let err = format!("{:#}", load(Some(&path)).unwrap_err());
        assert!(err.contains("config.toml"), "{err}");
        assert!(
            save_calibration(&path, &calibration()).is_err(),
            "never overwrite a file it cannot read"
        );
    }
}
