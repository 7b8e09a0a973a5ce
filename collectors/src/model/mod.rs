//! The one data model: every consumer (dashboard, session files, JSON output, replay) uses
//! [`Snapshot`].
//!
//! Rules: a value that could not be read is `None` (shown as `n/a`), `0` is a real reading;
//! units live in field names; new fields carry `#[serde(default)]` so older session files still
//! load, and [`SCHEMA`] changes only on a breaking change.

mod amdgpu;
mod amdgpu_metrics;
mod derived;
mod feed;
mod host;
mod llama;
mod nvidia;
mod reference;
mod roofline;
mod served_model;

pub use amdgpu::*;
pub use amdgpu_metrics::*;
pub use derived::Derived;
pub use feed::{FeedMode, ReplayState};
pub use host::*;
pub use llama::*;
pub use nvidia::*;
pub use reference::*;
pub use roofline::RooflineFigures;
pub use served_model::{KvShape, ModelProfile, ModelSection};

use serde::{Deserialize, Serialize};

/// The snapshot schema version written to session files and JSON output.
pub const SCHEMA: u32 = 1;

/// Everything halo-top knows at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub schema: u32,
    /// Counts snapshots from 0 in one session; a jump means snapshots were missed.
    pub seq: u64,
    /// Wall-clock time of the snapshot.
    pub ts_unix_ms: i64,
    /// Milliseconds since the session started (monotonic): use this for rates and time axes.
    pub mono_ms: u64,
    /// The hub's interval when this snapshot was taken.
    pub interval_ms: u64,
    /// CPU, memory, temperatures and processes of the machine. `None` when the host source has
    /// no current reading (see `sources` for why).
    #[serde(default)]
    pub host: Option<HostSection>,
    /// halo-top's own reference decoder, when `--workload reference` runs it.
    #[serde(default)]
    pub reference: Option<ReferenceSection>,
    /// One entry per llama-server (`--llama URL`, repeatable; in router mode one per loaded
    /// model). A server that could not be read has no entry (see `sources`).
    #[serde(default)]
    pub llama: Vec<LlamaServer>,
    /// The llama load generator (`--workload llama:PRESET`), when one runs.
    #[serde(default)]
    pub llama_load: Option<LlamaLoadReading>,
    /// AMD GPUs (amdgpu sysfs, gpu_metrics, hwmon) and the processes using them.
    #[serde(default)]
    pub amdgpu: Option<AmdgpuSection>,
    /// NVIDIA GPUs through NVML.
    #[serde(default)]
    pub nvidia: Option<NvidiaSection>,
    /// The served model's GGUF profile and the memory bandwidth it runs against (the roofline's
    /// fixed inputs). `None` when no model is known.
    #[serde(default)]
    pub model: Option<ModelSection>,
    /// Figures computed from the raw sections (rates, utilisation), once, in the hub.
    #[serde(default)]
    pub derived: Derived,
    /// The state of every source, in a stable order.
    #[serde(default)]
    pub sources: Vec<SourceState>,
}

impl Snapshot {
    /// An empty snapshot; the hub fills in the sections.
    pub fn new(seq: u64, ts_unix_ms: i64, mono_ms: u64, interval_ms: u64) -> Self {
        Self {
            schema: SCHEMA,
            seq,
            ts_unix_ms,
            mono_ms,
            interval_ms,
            host: None,
            reference: None,
            llama: Vec::new(),
            llama_load: None,
            amdgpu: None,
            nvidia: None,
            model: None,
            derived: Derived::default(),
            sources: Vec::new(),
        }
    }

    pub fn source(&self, name: &str) -> Option<&SourceState> {
        self.sources.iter().find(|s| s.name == name)
    }
}

/// One source's reading, as a source hands it to the hub.
#[derive(Debug, Clone, PartialEq)]
pub enum Section {
    Host(Box<HostSection>),
    Reference(Box<ReferenceSection>),
    /// One llama source's servers (one, or one per loaded model of a router).
    Llama(Vec<LlamaServer>),
    LlamaLoad(Box<LlamaLoadReading>),
    Amdgpu(Box<AmdgpuSection>),
    Nvidia(Box<NvidiaSection>),
    Model(Box<ModelSection>),
}

impl Section {
    /// Puts this reading into its place in the snapshot.
    pub fn apply_to(self, snapshot: &mut Snapshot) {
        match self {
            Section::Host(host) => snapshot.host = Some(*host),
            Section::Reference(r) => snapshot.reference = Some(*r),
            Section::Llama(servers) => snapshot.llama.extend(servers),
            Section::LlamaLoad(load) => snapshot.llama_load = Some(*load),
            Section::Amdgpu(amdgpu) => snapshot.amdgpu = Some(*amdgpu),
            Section::Nvidia(nvidia) => snapshot.nvidia = Some(*nvidia),
            Section::Model(model) => snapshot.model = Some(*model),
        }
    }
}

/// How a source is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SourceStatus {
    /// Started, no reading yet.
    Pending,
    Ok,
    /// Not present on this machine (no driver, no device, no server): not a fault.
    Unavailable {
        reason: String,
    },
    /// Present but the last reading failed.
    Failed {
        error: String,
    },
}

impl SourceStatus {
    pub fn is_ok(&self) -> bool {
        matches!(self, SourceStatus::Ok)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceState {
    pub name: String,
    pub status: SourceStatus,
    /// Samples completed since the session started, successful or not.
    pub samples: u64,
    /// How long the last completed sample took (wall time).
    #[serde(default)]
    pub last_sample_ms: Option<f64>,
    /// Age of the reading in this snapshot, at the time of the snapshot.
    #[serde(default)]
    pub age_ms: Option<u64>,
}
