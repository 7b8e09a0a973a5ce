//! Model profiles from GGUF headers: what one decode step of a model reads from memory.
//!
//! [`profile_file`] reads only the header (metadata and tensor infos, never the tensor data), so
//! a 100 GB model profiles in milliseconds. [`ModelSource`] puts the served model's profile in
//! every snapshot; [`writer`] makes header-only GGUF files of any size for tests.

mod profile;
mod reader;
mod source;
pub mod types;
pub mod writer;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use profile::{TensorRole, TensorSummary, profile};
pub use reader::{GgufHeader, MetaValue, TensorInfo};
pub use source::{ModelPath, ModelSource, ModelSourceConfig, ServedModelPath};

use crate::model::ModelProfile;

/// Why a GGUF header could not be read. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: not a GGUF file (it starts with {found:?}, not \"GGUF\")", path.display())]
    NotGguf { path: PathBuf, found: String },
    #[error("{}: corrupt GGUF header at byte {offset}: {what}", path.display())]
    Corrupt { path: PathBuf, offset: u64, what: String },
}

impl GgufError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        GgufError::Io { path: path.to_path_buf(), source }
    }
}

/// A model's profile and the tensors it was computed from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GgufProfile {
    pub profile: ModelProfile,
    pub tensors: Vec<TensorSummary>,
}

/// Profiles a GGUF file from its header.
pub fn profile_file(path: &Path) -> Result<GgufProfile, GgufError> {
    let header = GgufHeader::read(path)?;
    let (profile, tensors) = profile(&header);
    Ok(GgufProfile { profile, tensors })
}

#[cfg(test)]
mod tests;
