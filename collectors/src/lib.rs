//! halo-top's data model and its collectors.
//!
//! Every collector reads its hardware through a root directory (`/` on a real machine, a fixture
//! tree in tests), returns one [`model::Section`] per sample, and knows nothing of the UI or of
//! the async runtime: the app runs each [`Source`] on its own task with a period and a timeout.

pub mod amdgpu;
/// Entry points of the fuzz targets (`fuzz/`) and of the tests that replay their corpora.
#[cfg(feature = "test-support")]
pub mod fuzzing;
pub mod gguf;
pub mod host;
pub mod llama;
pub mod model;
pub mod nvidia;
pub mod platform;
pub mod source;
pub mod sysfs;

pub use model::{SCHEMA, Section, Snapshot, SourceState, SourceStatus};
pub use source::{Source, SourceError};
