use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use halo_collectors::Snapshot;

use super::{Footer, FooterLine, Header, HeaderLine};

/// How often written lines are forced to disk. Each line is flushed to the kernel at once (so
/// a killed process loses nothing written); fsync bounds what a power cut can take.
const SYNC_EVERY: Duration = Duration::from_secs(10);

pub struct SessionWriter {
    file: File,
    path: PathBuf,
    last_sync: Instant,
    written: u64,
    line: Vec<u8>,
}

impl SessionWriter {
    /// Creates (or truncates) `path` and writes the header line.
    pub fn create(path: &Path, header: &Header) -> Result<Self> {
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut writer = Self {
            file,
            path: path.to_path_buf(),
            last_sync: Instant::now(),
            written: 0,
            line: Vec::new(),
        };
        writer.write_line(&HeaderLine { header: header.clone() })?;
        Ok(writer)
    }

    pub fn write_snapshot(&mut self, snapshot: &Snapshot) -> Result<()> {
        self.write_line(snapshot)?;
        self.written += 1;
        if self.last_sync.elapsed() >= SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    /// Snapshots written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Writes the footer and forces everything to disk.
    pub fn finish(mut self, footer: &Footer) -> Result<()> {
        self.write_line(&FooterLine { footer: footer.clone() })?;
        self.sync()
    }

    /// Serializes to a buffer first so that each line reaches the file in one `write`.
    fn write_line(&mut self, value: &impl serde::Serialize) -> Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, value).context("cannot serialize a session line")?;
        self.line.push(b'\n');
        self.file
            .write_all(&self.line)
            .with_context(|| format!("cannot write to {}", self.path.display()))
    }

    fn sync(&mut self) -> Result<()> {
        self.last_sync = Instant::now();
        self.file.sync_data().with_context(|| format!("cannot sync {}", self.path.display()))
    }
}
