//! `--workload`: the load halo-top drives while it watches.

pub mod llama;
pub mod reference;

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
    /// halo-top's own decoder on the CPU (`reference`, `reference=SIZE:TYPE`,
    /// `reference=FILE.gguf`; threads from `--workload-threads`).
    Reference { model: reference::bench::ModelChoice },
}

impl FromStr for Workload {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if text == "none" {
            return Ok(Workload::None);
        }
        if text == "reference" {
            let model = reference::bench::ModelChoice::Synthetic(Default::default());
            return Ok(Workload::Reference { model });
        }
        if let Some(model) = text.strip_prefix("reference=") {
            return Ok(Workload::Reference { model: reference::bench::ModelChoice::parse(model)? });
        }
        match text.split_once(':') {
            Some(("llama", preset)) => {
                Ok(Workload::Llama { preset: preset.parse()?, concurrency: 1 })
            }
            _ => Err(format!(
                "unknown workload {text:?} (expected llama:chat, llama:code, llama:summarize, \
                 reference, reference=SIZE:TYPE or reference=FILE.gguf)"
            )),
        }
    }
}

impl Workload {
    /// Applies `--concurrency` to the workloads that have one.
    pub fn with_concurrency(self, n: u32) -> Self {
        match self {
            Workload::Llama { preset, .. } => Workload::Llama { preset, concurrency: n },
            other => other,
        }
    }

    /// As given on the command line, e.g. `llama:chat`.
    pub fn name(&self) -> String {
        match self {
            Workload::None => "none".into(),
            Workload::Llama { preset, .. } => format!("llama:{}", preset.name()),
            Workload::Reference { model } => format!("reference ({})", model.describe()),
        }
    }
}

/// A workload that runs beside the sources.
pub enum Running {
    Llama(llama::LoadGenerator),
    Reference(reference::workload::ReferenceWorkload),
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
        Workload::Reference { model } => {
            let threads = global
                .workload_threads
                .map_or_else(reference::threads::default_threads, usize::from);
            let options = reference::workload::WorkloadOptions {
                model,
                threads,
                max_context: global.workload_context as usize,
                prompt_tokens: global.workload_prompt,
                // A config file that fails to load is reported by the model source, which
                // reads the same file; here it only leaves the peak unknown.
                bandwidth: crate::model_report::bandwidth(global).unwrap_or_default(),
            };
            Some(Running::Reference(reference::workload::ReferenceWorkload::start(options)))
        }
    }
}

impl Running {
    /// The source that puts the workload's own figures into every snapshot.
    pub fn source(&self) -> Box<dyn Source> {
        match self {
            Running::Llama(generator) => generator.source(),
            Running::Reference(decoder) => Box::new(decoder.source()),
        }
    }

    /// Stops the workload (requests in flight are abandoned) and says what it did.
    pub fn finish(self) -> String {
        match self {
            Running::Llama(generator) => {
                generator.stop();
                llama::report(&generator.reading())
            }
            Running::Reference(decoder) => decoder.finish(),
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
        let reference = "reference".parse::<Workload>().unwrap();
        assert_eq!(reference.name(), "reference (--synthetic 1.5GB:q8_0)");
        assert!(matches!(
            "reference=2GB:q4_0".parse(),
            Ok(Workload::Reference { model: reference::bench::ModelChoice::Synthetic(_) })
        ));
        assert!(matches!(
            "reference=m.gguf".parse(),
            Ok(Workload::Reference { model: reference::bench::ModelChoice::File(_) })
        ));
    }
}
