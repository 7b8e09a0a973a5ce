//! Workloads halo-top runs itself while it watches: the value of `--workload`.

pub mod reference;

use std::str::FromStr;

use reference::bench::ModelChoice;

use crate::synth::memory::SyntheticSpec;

/// `--workload`: `none` (the default: a monitor that loads the machine unasked would surprise),
/// or `reference[=MODEL]`, the embedded decoder on MODEL: a GGUF file or a synthetic
/// `SIZE:TYPE` (default `1.5GB:q8_0`).
#[derive(Debug, Clone, Default)]
pub enum WorkloadSpec {
    #[default]
    None,
    Reference {
        model: ModelChoice,
    },
}

impl FromStr for WorkloadSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (kind, arg) = match text.split_once('=') {
            Some((k, a)) => (k, Some(a)),
            None => (text, None),
        };
        match (kind, arg) {
            ("none", None) => Ok(WorkloadSpec::None),
            ("reference", None) => Ok(WorkloadSpec::Reference {
                model: ModelChoice::Synthetic(SyntheticSpec::default()),
            }),
            ("reference", Some(a)) => Ok(WorkloadSpec::Reference { model: ModelChoice::parse(a)? }),
            _ => Err(format!(
                "{text:?}: expected none, reference, reference=FILE.gguf or reference=SIZE:TYPE"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_workloads() {
        assert!(matches!("none".parse(), Ok(WorkloadSpec::None)));
        assert!(matches!(
            "reference".parse(),
            Ok(WorkloadSpec::Reference { model: ModelChoice::Synthetic(s) }) if s == SyntheticSpec::default()
        ));
        assert!(matches!(
            "reference=2GB:q4_0".parse(),
            Ok(WorkloadSpec::Reference { model: ModelChoice::Synthetic(_) })
        ));
        assert!(matches!(
            "reference=m.gguf".parse(),
            Ok(WorkloadSpec::Reference { model: ModelChoice::File(_) })
        ));
        assert!("bogus".parse::<WorkloadSpec>().is_err());
    }
}
