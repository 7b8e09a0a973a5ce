//! The `model` source: the served model's profile in every snapshot.
//!
//! The profile is computed once and again only when the file changes (size or modification
//! time), so a sample costs one `stat`.
//!
//! Which file: the one given with `--model`, or the one llama-server says it serves
//! (`/props` `model_path`), which the llama collector writes into a [`ServedModelPath`]. The
//! server prints the path as it was given on its command line; a relative one resolves
//! against halo-top's working directory, and when that does not find it the source says so and
//! asks for `--model`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// The model path a llama-server reports, shared by the llama collector (writer) and the model
/// source (reader).
pub type ServedModelPath = Arc<Mutex<Option<String>>>;

/// Where the model source finds its file.
#[derive(Debug, Clone)]
pub enum ModelPath {
    /// `--model FILE`.
    Given(PathBuf),
    /// Whatever llama-server reports serving.
    Served(ServedModelPath),
}

impl Default for ModelPath {
    fn default() -> Self {
        ModelPath::Served(ServedModelPath::default())
    }
}

use crate::model::{ModelSection, Section};
use crate::source::{Source, SourceError};

use super::profile_file;

/// What the source reports beside the profile (decided by the app: flags, platform, config).
#[derive(Debug, Clone, Default)]
pub struct ModelSourceConfig {
    pub path: ModelPath,
    pub kv_cache_type_k: String,
    pub kv_cache_type_v: String,
    pub peak_bandwidth_gbps: Option<f64>,
    pub peak_bandwidth_source: Option<String>,
    pub calibrated_read_gbps: Option<f64>,
}

pub struct ModelSource {
    config: ModelSourceConfig,
    /// The file's (size, mtime) when `cached` was profiled.
    seen: Option<(u64, Option<SystemTime>)>,
    cached: Option<ModelSection>,
}

impl ModelSource {
    pub fn new(config: ModelSourceConfig) -> Self {
        Self { config, seen: None, cached: None }
    }

    fn path(&self) -> Result<PathBuf, SourceError> {
        match &self.config.path {
            ModelPath::Given(path) => Ok(path.clone()),
            ModelPath::Served(served) => {
                let reported = served.lock().ok().and_then(|p| p.clone());
                reported.map(PathBuf::from).ok_or_else(|| {
                    SourceError::Unavailable(
                        "no model known: no llama-server reports a model_path (or pass --model FILE)".into(),
                    )
                })
            }
        }
    }

    pub fn read(&mut self) -> Result<ModelSection, SourceError> {
        let path = &self.path()?;
        let meta = std::fs::metadata(path).map_err(|e| match &self.config.path {
            ModelPath::Given(_) => SourceError::Failed(format!("{}: {e}", path.display())),
            ModelPath::Served(_) => SourceError::Unavailable(format!(
                "llama-server serves {}, which is not readable from here ({e}); pass --model FILE",
                path.display()
            )),
        })?;
        let stamp = (meta.len(), meta.modified().ok());
        if let (Some(seen), Some(section)) = (self.seen, &self.cached)
            && seen == stamp
        {
            return Ok(section.clone());
        }
        let profiled = profile_file(path).map_err(|e| SourceError::Failed(e.to_string()))?;
        let c = &self.config;
        let section = ModelSection {
            path: path.display().to_string(),
            profile: profiled.profile,
            kv_cache_type_k: c.kv_cache_type_k.clone(),
            kv_cache_type_v: c.kv_cache_type_v.clone(),
            peak_bandwidth_gbps: c.peak_bandwidth_gbps,
            peak_bandwidth_source: c.peak_bandwidth_source.clone(),
            calibrated_read_gbps: c.calibrated_read_gbps,
        };
        self.seen = Some(stamp);
        self.cached = Some(section.clone());
        Ok(section)
    }
}

impl Source for ModelSource {
    fn name(&self) -> String {
        "model".into()
    }

    fn sample(&mut self) -> Result<Section, SourceError> {
        self.read().map(|s| Section::Model(Box::new(s)))
    }
}
