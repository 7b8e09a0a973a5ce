//! Reading small text files from sysfs and procfs under a root, with errors that name the file.
//!
//! sysfs text files end in `\n` (sometimes with trailing spaces before it); a missing file is the
//! kernel's normal way of saying "not supported here", so callers usually turn errors into `None`.

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// A failed read or parse, carrying the path it concerns.
#[derive(Debug)]
pub struct ReadError {
    pub path: PathBuf,
    pub kind: ReadErrorKind,
}

#[derive(Debug)]
pub enum ReadErrorKind {
    Io(io::Error),
    Parse(String),
}

impl ReadError {
    pub fn parse(path: &Path, what: impl Into<String>) -> Self {
        Self { path: path.to_path_buf(), kind: ReadErrorKind::Parse(what.into()) }
    }

    /// True when the file does not exist (the usual "not supported" answer of sysfs).
    pub fn is_not_found(&self) -> bool {
        matches!(&self.kind, ReadErrorKind::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ReadErrorKind::Io(e) => write!(f, "{}: {e}", self.path.display()),
            ReadErrorKind::Parse(what) => write!(f, "{}: {what}", self.path.display()),
        }
    }
}

impl std::error::Error for ReadError {}

/// The largest text file we read. sysfs attributes are at most one page; procfs files such as
/// `/proc/stat` on a 256-thread machine stay well under this.
const MAX_TEXT_BYTES: u64 = 1 << 20;

/// Reads a whole text file (capped at 1 MiB), as lossy UTF-8.
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    let io_err = |e| ReadError { path: path.to_path_buf(), kind: ReadErrorKind::Io(e) };
    let file = std::fs::File::open(path).map_err(io_err)?;
    // A page of room up front: sysfs attributes and /proc/PID/stat then take one read plus the
    // one that sees the end, instead of a series of small growing reads.
    let mut bytes = Vec::with_capacity(4096);
    file.take(MAX_TEXT_BYTES).read_to_end(&mut bytes).map_err(io_err)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads a one-value attribute and trims the trailing newline and spaces.
pub fn read_trimmed(path: &Path) -> Result<String, ReadError> {
    Ok(read_text(path)?.trim_end().to_string())
}

/// Reads an unsigned integer attribute (decimal, or hex with a `0x` prefix).
pub fn read_u64(path: &Path) -> Result<u64, ReadError> {
    let text = read_trimmed(path)?;
    parse_u64(&text).ok_or_else(|| ReadError::parse(path, format!("not an integer: {text:?}")))
}

/// Reads a signed integer attribute (hwmon temperatures can be negative).
pub fn read_i64(path: &Path) -> Result<i64, ReadError> {
    let text = read_trimmed(path)?;
    text.parse().map_err(|_| ReadError::parse(path, format!("not an integer: {text:?}")))
}

pub fn parse_u64(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Lists the entries of a directory whose names satisfy `keep`, sorted by name, so that the
/// order of devices and sensors is stable from one sample to the next.
pub fn list_dir(
    dir: &Path,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<(String, PathBuf)>, ReadError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| ReadError { path: dir.to_path_buf(), kind: ReadErrorKind::Io(e) })?;
    let mut out: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            keep(&name).then(|| (name, e.path()))
        })
        .collect();
    out.sort_by(|a, b| natural_cmp(&a.0, &b.0));
    Ok(out)
}

/// Orders `hwmon2` before `hwmon10` and `cpu9` before `cpu10`.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn split(s: &str) -> (&str, Option<u64>) {
        let stem = s.trim_end_matches(|c: char| c.is_ascii_digit());
        (stem, s[stem.len()..].parse().ok())
    }
    split(a).cmp(&split(b)).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_sysfs_newline_and_trailing_spaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("attr");
        std::fs::write(&path, "0: 600Mhz \n").unwrap();
        assert_eq!(read_trimmed(&path).unwrap(), "0: 600Mhz");
    }

    #[test]
    fn parses_hex_and_decimal() {
        assert_eq!(parse_u64("0x1586\n"), Some(0x1586));
        assert_eq!(parse_u64("2900000000"), Some(2_900_000_000));
        assert_eq!(parse_u64("-1"), None);
        assert_eq!(parse_u64(""), None);
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = read_u64(&missing).unwrap_err();
        assert!(err.is_not_found());
        assert!(err.to_string().contains("nope"), "{err}");

        let garbage = dir.path().join("garbage");
        std::fs::write(&garbage, "abc\n").unwrap();
        let err = read_u64(&garbage).unwrap_err();
        assert!(!err.is_not_found());
        assert!(err.to_string().contains("garbage") && err.to_string().contains("abc"), "{err}");
    }

    #[test]
    fn natural_order() {
        let mut names = vec!["hwmon10", "hwmon2", "cpu10", "cpu9", "hwmon1"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(names, ["cpu9", "cpu10", "hwmon1", "hwmon2", "hwmon10"]);
    }
}
