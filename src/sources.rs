//! Which sources the app runs, built from the command line.

use halo_collectors::Source;
use halo_collectors::host::{HostCollector, HostConfig};

use crate::cli::Global;
use crate::workload::WorkloadSpec;
use crate::workload::reference::threads::default_threads;
use crate::workload::reference::workload::{ReferenceSource, WorkloadOptions};

pub fn build(global: &Global) -> Vec<Box<dyn Source>> {
    let host = HostCollector::new(HostConfig {
        sysfs_root: global.sysfs_root.clone(),
        procfs_root: global.procfs_root.clone(),
        ..HostConfig::default()
    });
    let mut sources: Vec<Box<dyn Source>> = vec![Box::new(host)];
    if let WorkloadSpec::Reference { model } = &global.workload {
        let options = WorkloadOptions {
            model: model.clone(),
            threads: global.workload_threads.map_or_else(default_threads, usize::from),
            max_context: 1024,
            prompt_tokens: global.workload_prompt,
        };
        match ReferenceSource::start(options) {
            Ok(source) => sources.push(Box::new(source)),
            Err(e) => sources.push(Box::new(Broken(
                "reference",
                format!("cannot start the decoder thread: {e}"),
            ))),
        }
    }
    sources
}

/// A source that could not start: it reports why on every sample.
struct Broken(&'static str, String);

impl Source for Broken {
    fn name(&self) -> String {
        self.0.into()
    }

    fn sample(&mut self) -> Result<halo_collectors::Section, halo_collectors::SourceError> {
        Err(halo_collectors::SourceError::Failed(self.1.clone()))
    }
}
