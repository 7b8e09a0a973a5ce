//! An index of a session file: where each snapshot line starts and its `mono_ms`, found without
//! parsing the snapshots, so that replay can start, seek and step at once on an hour of 10 Hz
//! snapshots, and the report can parse the lines on several threads.
//!
//! `mono_ms` is read from the bytes after `"mono_ms":`; our writer puts it in the first
//! hundred bytes of every line (the Snapshot's field order), so only a line's head is searched
//! unless the key is not there (a file written by something else), then the whole line.

use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use halo_collectors::{SCHEMA, Snapshot};
use memchr::memmem;

use super::{Footer, FooterLine, Header, HeaderLine};

/// One snapshot line of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineEntry {
    /// Byte offset of the line's first byte.
    pub offset: u64,
    /// Length without the `\n`.
    pub len: u32,
    /// 1-based, as editors and error messages count.
    pub line_no: u32,
    /// The snapshot's `mono_ms`; a line where it could not be found (a corrupt line) carries
    /// the previous line's, so that the entries stay sorted for seeking.
    pub mono_ms: u64,
}

#[derive(Debug)]
pub struct SessionIndex {
    pub path: PathBuf,
    pub header: Header,
    pub entries: Vec<LineEntry>,
    pub footer: Option<Footer>,
    /// A truncated last line that was left out (what `kill -9` mid-write leaves).
    pub warnings: Vec<String>,
}

const CHUNK_BYTES: usize = 8 << 20;
/// How far into a line `"mono_ms":` is looked for before searching the whole line.
const HEAD_BYTES: usize = 256;

impl SessionIndex {
    pub fn open(path: &Path) -> Result<SessionIndex> {
        let mut file =
            File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut lines = Vec::new(); // (offset, len, head-or-whole mono_ms)
        let mut header_line: Option<Vec<u8>> = None;
        let mut buf = vec![0u8; CHUNK_BYTES];
        let mut carry: Vec<u8> = Vec::new(); // an incomplete line from the previous chunk
        let mut carry_offset = 0u64;
        let mut file_offset = 0u64;
        let key = memmem::Finder::new(b"\"mono_ms\":");
        loop {
            let n =
                file.read(&mut buf).with_context(|| format!("cannot read {}", path.display()))?;
            if n == 0 {
                break;
            }
            let chunk = &buf[..n];
            let mut start = 0;
            for nl in memchr::memchr_iter(b'\n', chunk) {
                let (offset, line): (u64, &[u8]) = if carry.is_empty() {
                    (file_offset + start as u64, &chunk[start..nl])
                } else {
                    carry.extend_from_slice(&chunk[start..nl]);
                    (carry_offset, &carry[..])
                };
                if header_line.is_none() {
                    header_line = Some(line.to_vec());
                } else {
                    lines.push((offset, line.len(), find_mono_ms(&key, line), true));
                }
                carry.clear();
                start = nl + 1;
            }
            if start < n {
                if carry.is_empty() {
                    carry_offset = file_offset + start as u64;
                }
                carry.extend_from_slice(&chunk[start..]);
            }
            file_offset += n as u64;
        }
        if !carry.is_empty() {
            // A last line without its `\n`: complete only if it parses (checked below).
            if header_line.is_none() {
                header_line = Some(std::mem::take(&mut carry));
            } else {
                lines.push((carry_offset, carry.len(), find_mono_ms(&key, &carry), false));
            }
        }

        let first = header_line.ok_or_else(|| anyhow!("{}: empty file", path.display()))?;
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

        let mut index = SessionIndex {
            path: path.to_path_buf(),
            header,
            entries: Vec::with_capacity(lines.len()),
            footer: None,
            warnings: Vec::new(),
        };
        let last_content = lines.iter().rposition(|&(_, len, ..)| len > 0);
        let mut mono_ms = 0;
        for (i, (offset, len, found, _)) in lines.iter().copied().enumerate() {
            let line_no = u32::try_from(i + 2).unwrap_or(u32::MAX);
            if len == 0 {
                continue;
            }
            let is_last = Some(i) == last_content;
            // The footer and the last line are small in number: parse them to know what they are.
            if found.is_none() || is_last {
                let bytes = index.read_bytes(&file, offset, len)?;
                if let Ok(FooterLine { footer }) = serde_json::from_slice(&bytes) {
                    index.footer = Some(footer);
                    continue;
                }
                if is_last && serde_json::from_slice::<Snapshot>(&bytes).is_err() {
                    index.warnings.push(format!(
                        "{}:{line_no}: truncated last line skipped ({len} bytes)",
                        path.display()
                    ));
                    continue;
                }
            }
            mono_ms = found.unwrap_or(mono_ms);
            index.entries.push(LineEntry {
                offset,
                len: u32::try_from(len).unwrap_or(u32::MAX),
                line_no,
                mono_ms,
            });
        }
        Ok(index)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Session time of the last snapshot.
    pub fn duration_ms(&self) -> u64 {
        self.entries.last().map_or(0, |e| e.mono_ms)
    }

    /// The first entry at or after `mono_ms` (`len()` when there is none).
    pub fn position_at(&self, mono_ms: u64) -> usize {
        self.entries.partition_point(|e| e.mono_ms < mono_ms)
    }

    /// Parses entry `i`; a malformed line is an error naming the file and line.
    pub fn read(&self, file: &File, i: usize) -> Result<Snapshot> {
        let entry = self.entries.get(i).ok_or_else(|| anyhow!("no snapshot {i}"))?;
        let mut bytes = vec![0; entry.len as usize];
        file.read_exact_at(&mut bytes, entry.offset)
            .with_context(|| format!("cannot read {}", self.path.display()))?;
        self.parse(entry, &bytes)
    }

    /// Parses entries `range` from one read of their bytes, handing each to `f` in order.
    pub fn for_each_in(
        &self,
        file: &File,
        range: Range<usize>,
        mut f: impl FnMut(Result<Snapshot>),
    ) -> Result<()> {
        let entries = &self.entries[range];
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else { return Ok(()) };
        let span = (last.offset + u64::from(last.len) - first.offset) as usize;
        let mut bytes = vec![0; span];
        file.read_exact_at(&mut bytes, first.offset)
            .with_context(|| format!("cannot read {}", self.path.display()))?;
        for e in entries {
            let at = (e.offset - first.offset) as usize;
            f(self.parse(e, &bytes[at..at + e.len as usize]));
        }
        Ok(())
    }

    fn parse(&self, entry: &LineEntry, bytes: &[u8]) -> Result<Snapshot> {
        let snapshot: Snapshot = serde_json::from_slice(bytes).map_err(|e| {
            anyhow!("{}:{}: malformed snapshot: {e}", self.path.display(), entry.line_no)
        })?;
        if snapshot.schema != SCHEMA {
            bail!(
                "{}:{}: snapshot schema {} differs from the header's {SCHEMA}",
                self.path.display(),
                entry.line_no,
                snapshot.schema
            );
        }
        Ok(snapshot)
    }

    fn read_bytes(&self, file: &File, offset: u64, len: usize) -> Result<Vec<u8>> {
        let mut bytes = vec![0; len];
        file.read_exact_at(&mut bytes, offset)
            .with_context(|| format!("cannot read {}", self.path.display()))?;
        Ok(bytes)
    }
}

/// The integer after `"mono_ms":`, if the line has one.
fn find_mono_ms(key: &memmem::Finder, line: &[u8]) -> Option<u64> {
    let head = &line[..line.len().min(HEAD_BYTES)];
    let at = key.find(head).or_else(|| key.find(line))? + key.needle().len();
    let digits = line[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&line[at..at + digits]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::{corrupt_line_3, header, snapshot, write_session};
    use super::*;

    #[test]
    fn indexes_every_snapshot_with_its_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.ndjson");
        let written = write_session(&path, 5, true);
        let index = SessionIndex::open(&path).unwrap();
        assert_eq!(index.header, header());
        assert_eq!(index.len(), 5);
        assert_eq!(index.footer.as_ref().unwrap().snapshots, 5);
        assert!(index.warnings.is_empty());
        let file = File::open(&path).unwrap();
        for (i, s) in written.iter().enumerate() {
            assert_eq!(index.entries[i].mono_ms, s.mono_ms);
            assert_eq!(index.entries[i].line_no as usize, i + 2);
            assert_eq!(&index.read(&file, i).unwrap(), s);
        }
        let mut all = Vec::new();
        index.for_each_in(&file, 1..4, |s| all.push(s.unwrap())).unwrap();
        assert_eq!(all, written[1..4]);
        assert_eq!(index.position_at(2000), 2);
        assert_eq!(index.position_at(2001), 3);
        assert_eq!(index.position_at(u64::MAX), 5);
    }

    #[test]
    fn lines_longer_than_a_chunk_and_cut_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.ndjson");
        let mut snaps = Vec::new();
        {
            let mut w = super::super::SessionWriter::create(&path, &header()).unwrap();
            for seq in 0..3 {
                let mut s = snapshot(seq);
                // Big lines cross the reader's chunk boundaries.
                s.host.as_mut().unwrap().os_name = Some("x".repeat(CHUNK_BYTES / 2 + 17));
                w.write_snapshot(&s).unwrap();
                snaps.push(s);
            }
        }
        let index = SessionIndex::open(&path).unwrap();
        assert_eq!(index.len(), 3);
        let file = File::open(&path).unwrap();
        assert_eq!(index.read(&file, 2).unwrap(), snaps[2]);
        assert!(index.footer.is_none());

        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
        let index = SessionIndex::open(&path).unwrap();
        assert_eq!(index.len(), 2);
        assert!(index.warnings[0].contains(":4: truncated last line"), "{:?}", index.warnings);
    }

    #[test]
    fn a_corrupt_middle_line_is_indexed_and_fails_with_its_line_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.ndjson");
        write_session(&path, 4, true);
        corrupt_line_3(&path);
        let index = SessionIndex::open(&path).unwrap();
        assert_eq!(index.len(), 4);
        assert_eq!(index.entries[1].mono_ms, 0, "carries the previous time");
        let file = File::open(&path).unwrap();
        let err = index.read(&file, 1).unwrap_err().to_string();
        assert!(err.contains("s.ndjson:3: malformed snapshot"), "{err}");
        assert!(index.read(&file, 2).is_ok());
    }

    #[test]
    fn bad_headers_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.ndjson");
        std::fs::write(&path, "").unwrap();
        assert!(SessionIndex::open(&path).unwrap_err().to_string().contains("empty file"));
        std::fs::write(&path, "nonsense\n").unwrap();
        let err = SessionIndex::open(&path).unwrap_err().to_string();
        assert!(err.contains("s.ndjson:1: not a halo-top session header"), "{err}");
    }
}
