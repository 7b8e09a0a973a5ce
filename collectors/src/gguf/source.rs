//! The `model` source: the served model's profile in every snapshot.
//!
//! The profile is computed once and again only when the file changes (size or modification
//! time), so a sample costs one `stat`.

use std::path::PathBuf;
use std::time::SystemTime;

use crate::model::{ModelSection, Section};
use crate::source::{Source, SourceError};

use super::profile_file;

/// What the source reports beside the profile (decided by the app: flags, platform, config).
#[derive(Debug, Clone, Default)]
pub struct ModelSourceConfig {
    pub path: PathBuf,
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

    pub fn read(&mut self) -> Result<ModelSection, SourceError> {
        let path = &self.config.path;
        let meta = std::fs::metadata(path)
            .map_err(|e| SourceError::Failed(format!("{}: {e}", path.display())))?;
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
