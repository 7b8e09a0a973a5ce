//! The load a soak runs while it watches, behind one start and one stop, so that each workload
//! `src/workload/` provides is a few lines here.

use std::fmt;
use std::str::FromStr;

use anyhow::{Result, bail};
use halo_collectors::Source;

use crate::cli::Global;

/// The value of `soak --workload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoakWorkload {
    /// Watch only: whatever already runs on the machine is the load.
    None,
    /// halo-top's own reference decoder.
    Reference,
    /// The llama-server load generator with a preset (`llama:chat`, ...).
    Llama(String),
}

impl FromStr for SoakWorkload {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "none" => Ok(SoakWorkload::None),
            "reference" => Ok(SoakWorkload::Reference),
            _ => match text.split_once(':') {
                Some(("llama", preset)) if !preset.is_empty() => {
                    Ok(SoakWorkload::Llama(preset.to_string()))
                }
                _ => Err(format!(
                    "unknown workload {text:?} (expected none, reference or llama:PRESET)"
                )),
            },
        }
    }
}

impl fmt::Display for SoakWorkload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SoakWorkload::None => f.write_str("none"),
            SoakWorkload::Reference => f.write_str("reference"),
            SoakWorkload::Llama(preset) => write!(f, "llama:{preset}"),
        }
    }
}

/// A started workload.
pub struct Running {
    sources: Vec<Box<dyn Source>>,
    stop: Option<Box<dyn FnOnce() -> Option<String> + Send>>,
}

impl Running {
    /// Sources that put the workload's own figures into every snapshot.
    pub fn take_sources(&mut self) -> Vec<Box<dyn Source>> {
        std::mem::take(&mut self.sources)
    }

    /// Stops the workload; returns what it says it did.
    pub fn stop(&mut self) -> Option<String> {
        self.stop.take().and_then(|stop| stop())
    }
}

/// Starts `workload`.
pub fn start(_global: &Global, workload: &SoakWorkload) -> Result<Running> {
    match workload {
        SoakWorkload::None => Ok(Running { sources: Vec::new(), stop: None }),
        SoakWorkload::Reference | SoakWorkload::Llama(_) => {
            bail!("workload {workload} is not part of this build yet (use --workload none)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_workloads() {
        assert_eq!("none".parse(), Ok(SoakWorkload::None));
        assert_eq!("reference".parse(), Ok(SoakWorkload::Reference));
        assert_eq!("llama:chat".parse(), Ok(SoakWorkload::Llama("chat".into())));
        assert!("llama:".parse::<SoakWorkload>().is_err());
        assert!("fast".parse::<SoakWorkload>().unwrap_err().contains("none, reference"));
        assert_eq!(SoakWorkload::Llama("code".into()).to_string(), "llama:code");
    }
}
