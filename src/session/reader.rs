use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use halo_collectors::{SCHEMA, Snapshot};

use super::{Footer, FooterLine, Header, HeaderLine};

/// Streams a session file: the header is read on open, then snapshots one at a time.
///
/// A malformed line followed by more lines is an error naming the file and line. A malformed
/// *last* line is what an interrupted writer leaves behind: it is skipped with a warning.
pub struct SessionReader {
    path: PathBuf,
    lines: BufReader<File>,
    header: Header,
    line_no: usize,
    /// The next line, read ahead so that we know whether the current one is the last.
    next: Option<Vec<u8>>,
    footer: Option<Footer>,
    warnings: Vec<String>,
}

impl SessionReader {
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut lines = BufReader::new(file);
        let first = read_line(&mut lines, path)?
            .ok_or_else(|| anyhow!("{}: empty file", path.display()))?;
        let header = serde_json::from_slice::<HeaderLine>(&first)
            .map_err(|e| anyhow!("{}:1: not a halo-top session header: {e}", path.display()))?
            .header;
        if header.schema != SCHEMA {
            bail!(
                "{}:1: session schema {} is not supported (this halo-top reads schema {SCHEMA})",
                path.display(),
                header.schema
            );
        }
        let next = read_line(&mut lines, path)?;
        Ok(Self {
            path: path.to_path_buf(),
            lines,
            header,
            line_no: 1,
            next,
            footer: None,
            warnings: Vec::new(),
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The footer, once the reader has reached it.
    pub fn footer(&self) -> Option<&Footer> {
        self.footer.as_ref()
    }

    /// Lines skipped so far (a truncated last line).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The next snapshot, `Ok(None)` at the end of the file.
    pub fn next_snapshot(&mut self) -> Result<Option<Snapshot>> {
        while let Some(line) = self.next.take() {
            self.line_no += 1;
            self.next = read_line(&mut self.lines, &self.path)?;
            let is_last = self.next.is_none();
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Snapshot>(&line) {
                Ok(snapshot) if snapshot.schema == SCHEMA => return Ok(Some(snapshot)),
                Ok(snapshot) => bail!(
                    "{}:{}: snapshot schema {} differs from the header's {SCHEMA}",
                    self.path.display(),
                    self.line_no,
                    snapshot.schema
                ),
                Err(snapshot_err) => {
                    if let Ok(FooterLine { footer }) = serde_json::from_slice(&line) {
                        self.footer = Some(footer);
                    } else if is_last {
                        self.warnings.push(format!(
                            "{}:{}: truncated last line skipped ({} bytes)",
                            self.path.display(),
                            self.line_no,
                            line.len()
                        ));
                    } else {
                        bail!(
                            "{}:{}: malformed snapshot: {snapshot_err}",
                            self.path.display(),
                            self.line_no
                        );
                    }
                }
            }
        }
        Ok(None)
    }
}

impl Iterator for SessionReader {
    type Item = Result<Snapshot>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_snapshot().transpose()
    }
}

/// A whole session in memory.
#[derive(Debug)]
pub struct Session {
    pub header: Header,
    pub snapshots: Vec<Snapshot>,
    pub footer: Option<Footer>,
    pub warnings: Vec<String>,
}

impl Session {
    pub fn read(path: &Path) -> Result<Session> {
        let mut reader = SessionReader::open(path)?;
        let mut snapshots = Vec::new();
        while let Some(s) = reader.next_snapshot()? {
            snapshots.push(s);
        }
        Ok(Session {
            header: reader.header,
            snapshots,
            footer: reader.footer,
            warnings: reader.warnings,
        })
    }
}

/// One line without its `\n`, `None` at the end of the file.
fn read_line(lines: &mut BufReader<File>, path: &Path) -> Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = lines
        .read_until(b'\n', &mut line)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    Ok(Some(line))
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::{corrupt_line_3, header, write_session};
    use super::*;
    use std::io::Write;

    #[test]
    fn round_trip_preserves_every_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.ndjson");
        let written = write_session(&path, 5, true);
        let session = Session::read(&path).unwrap();
        assert_eq!(session.header, header());
        assert_eq!(session.snapshots, written);
        assert_eq!(session.footer.unwrap().snapshots, 5);
        assert!(session.warnings.is_empty());
    }

    #[test]
    fn truncated_last_line_is_skipped_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.ndjson");
        write_session(&path, 4, false);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 40]).unwrap(); // cut the last line mid-way
        let session = Session::read(&path).unwrap();
        assert_eq!(session.snapshots.len(), 3);
        assert_eq!(session.warnings.len(), 1);
        assert!(session.warnings[0].contains(":5: truncated"), "{}", session.warnings[0]);
    }

    #[test]
    fn corrupt_middle_line_is_an_error_with_its_line_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.ndjson");
        write_session(&path, 4, true);
        corrupt_line_3(&path);
        let err = Session::read(&path).unwrap_err().to_string();
        assert!(err.contains("s.ndjson:3: malformed snapshot"), "{err}");
    }

    #[test]
    fn unknown_schema_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.ndjson");
        let mut h = header();
        h.schema = 99;
        let mut f = File::create(&path).unwrap();
        writeln!(f, "{}", serde_json::to_string(&HeaderLine { header: h }).unwrap()).unwrap();
        let err = SessionReader::open(&path).err().unwrap().to_string();
        assert!(err.contains(":1: session schema 99 is not supported"), "{err}");

        std::fs::write(&path, "not json\n").unwrap();
        let err = SessionReader::open(&path).err().unwrap().to_string();
        assert!(err.contains(":1: not a halo-top session header"), "{err}");

        let err =
            SessionReader::open(&dir.path().join("missing.ndjson")).err().unwrap().to_string();
        assert!(err.contains("missing.ndjson"), "{err}");
    }
}
