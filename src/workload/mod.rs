//! `--workload`: the load halo-top drives while it watches.

pub mod llama;

use std::str::FromStr;

use halo_collectors::Source;

use crate::cli::Global;

/// The value of `--workload`.
#[derive(Debug, Clone, PartialEq)]
pub enum Workload {
    /// No load of our own (`none`): watch what already runs.
    None,
    /// Streams requests to the first `--llama` server (`llama:chat`, `llama:code`,
    /// `llama:summarize`), `concurrency` at a time (`--concurrency`).
    Llama { preset: llama::Preset, concurrency: u32 },
}

impl FromStr for Workload {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if text == "none" {
            return Ok(Workload::None);
        }
        match text.split_once(':') {
            Some(("llama", preset)) => {
                Ok(Workload::Llama { preset: preset.parse()?, concurrency: 1 })
            }
            _ => Err(format!(
                "unknown workload {text:?} (expected llama:chat, llama:code or llama:summarize)"
            )),
        }
    }
}

impl Workload {
    /// Applies `--concurrency` to the workloads that have one.
    pub fn with_concurrency(self, n: u32) -> Self {
        match self {
            Workload::Llama { preset, .. } => Workload::Llama { preset, concurrency: n },
            Workload::None => Workload::None,
        }
    }

    /// As given on the command line, e.g. `llama:chat`.
    pub fn name(&self) -> String {
        match self {
            Workload::None => "none".into(),
            Workload::Llama { preset, .. } => format!("llama:{}", preset.name()),
        }
    }
}

/// A workload that runs beside the sources.
pub enum Running {
    Llama(llama::LoadGenerator),
}

/// Starts `--workload`, if any: the llama load goes to the first `--llama` server.
pub fn start(global: &Global) -> Option<Running> {
    match global.workload.clone()?.with_concurrency(global.concurrency) {
        Workload::None => None,
        Workload::Llama { preset, concurrency } => {
            let url = crate::sources::llama_urls(global).into_iter().next()?;
            let config =
                llama::LoadConfig::preset(&url, global.llama_api_key.clone(), preset, concurrency);
            Some(Running::Llama(llama::LoadGenerator::start(config)))
        }
    }
}

impl Running {
    /// The source that puts the workload's own figures into every snapshot.
    pub fn source(&self) -> Box<dyn Source> {
        match self {
            Running::Llama(generator) => generator.source(),
        }
    }

    /// Stops the workload (requests in flight are abandoned) and says what it did.
    pub fn finish(self) -> String {
        match self {
            Running::Llama(generator) => {
                generator.stop();
                llama::report(&generator.reading())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_llama_presets() {
        assert_eq!(
            "llama:chat".parse::<Workload>().unwrap().with_concurrency(4),
            Workload::Llama { preset: llama::Preset::Chat, concurrency: 4 }
        );
        assert!("llama:poetry".parse::<Workload>().unwrap_err().contains("chat"));
        assert!("nonsense".parse::<Workload>().is_err());
        assert_eq!("none".parse::<Workload>().unwrap().name(), "none");
    }
}
