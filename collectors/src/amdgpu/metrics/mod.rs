//! `gpu_metrics`: the SMU's binary telemetry table (temperatures, activity, power, clocks,
//! DRAM bandwidth, throttle counters), read once per sample.

mod decode;
pub mod layout;

#[cfg(any(test, feature = "test-support"))]
pub mod fixture_blobs;
#[cfg(any(test, feature = "test-support"))]
pub mod pack;
#[cfg(test)]
mod tests;

pub use decode::{DRAM_SATURATION_MB_PER_S, DecodeError, decode};
