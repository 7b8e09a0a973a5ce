//! The derive step: figures computed from raw sections, once, in the hub. Every consumer reads
//! them from the snapshot, so the dashboard, the logs and the exporter agree.
//!
//! Each file here derives one family of figures from `previous` (the snapshot before, if any)
//! and the raw sections of `current`, and writes only its own part of `current.derived`.

mod amdgpu;
mod llama;
mod nvidia;
mod own;
pub mod roofline;

use halo_collectors::Snapshot;

/// Fills `current.derived` from the raw sections of `current` and the snapshot before it.
pub fn derive(previous: Option<&Snapshot>, current: &mut Snapshot) {
    own::derive(previous, current);
    llama::derive(previous, current);
    amdgpu::derive(previous, current);
    nvidia::derive(previous, current);
    roofline::derive(previous, current);
}
