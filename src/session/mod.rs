//! Session files: NDJSON, one JSON object per line.
//!
//! ```text
//! {"header":{"schema":1,"halo_top_version":"0.1.0","host":"strix",...}}   line 1
//! {"schema":1,"seq":0,"ts_unix_ms":...}                                     one snapshot per line
//! ...
//! {"footer":{"ended_unix_ms":...,"snapshots":3600,...}}                     optional last line
//! ```
//!
//! Each snapshot is written as one line and flushed, so a file cut short by `kill -9` or a full
//! disk loses at most its last, partial line; the reader skips such a line with a warning.

mod reader;
mod writer;

pub use reader::{Session, SessionReader};
pub use writer::SessionWriter;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// The snapshot schema of every line that follows.
    pub schema: u32,
    pub halo_top_version: String,
    /// Host name of the machine recorded.
    #[serde(default)]
    pub host: Option<String>,
    pub interval_ms: u64,
    /// Names of the sources that were running.
    #[serde(default)]
    pub sources: Vec<String>,
    pub started_unix_ms: i64,
    /// The command that wrote the file (`record`, `soak`, ...).
    #[serde(default)]
    pub command: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Footer {
    pub ended_unix_ms: i64,
    /// Snapshots written to the file.
    pub snapshots: u64,
    /// Snapshots the writer could not keep up with (gaps in `seq`).
    #[serde(default)]
    pub missed: u64,
    /// Why recording stopped: `duration`, `signal`, ...
    #[serde(default)]
    pub stop_reason: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct HeaderLine {
    header: Header,
}

#[derive(Serialize, Deserialize)]
struct FooterLine {
    footer: Footer,
}
