//! halo-top: a terminal dashboard and live profiler for local LLM inference on AMD Strix Halo.
//!
//! Data flows one way: sources (`halo_collectors`) → [`hub`] (merge, derive) → [`feed`] →
//! consumers (the [`tui`], [`record`]ing to a [`session`] file). [`replay`] publishes a
//! recorded session into the same feed.

pub mod amdgpu_summary;
pub mod calibrate;
pub mod cli;
pub mod commands;
pub mod config;
pub mod derive;
pub mod export;
pub mod feed;
#[doc(hidden)]
pub mod fuzzing;
pub mod hub;
pub mod model_report;
pub mod record;
pub mod remote;
pub mod replay;
pub mod report;
pub mod serve;
pub mod session;
pub mod shutdown;
pub mod soak;
pub mod sources;
pub mod sweep;
pub mod synth;
pub mod tui;
pub mod workload;
