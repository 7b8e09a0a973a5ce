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

mod index;
mod reader;
#[cfg(test)]
mod tests_support;
mod writer;

pub use index::{LineEntry, SessionIndex};
pub use reader::{Session, SessionReader};
pub use writer::SessionWriter;

use serde::{Deserialize, Serialize};

use crate::soak::verdict::Verdict;

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
    /// What a soak was asked to do (so that a file cut short by `kill -9` still reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soak: Option<SoakPlan>,
}

/// The settings of a `halo-top soak`, in its header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoakPlan {
    pub duration_ms: u64,
    pub warmup_ms: u64,
    /// `none`, `reference`, `llama:chat`, ...
    pub workload: String,
    #[serde(default)]
    pub max_drift_percent: Option<f64>,
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
    /// A soak's verdict, computed from the snapshots written (see `soak::verdict`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

#[derive(Serialize, Deserialize)]
struct HeaderLine {
    header: Header,
}

#[derive(Serialize, Deserialize)]
struct FooterLine {
    footer: Footer,
}
