//! Which sources the app runs, built from the command line.

use anyhow::{Context, Result};
use halo_collectors::Source;
use halo_collectors::amdgpu::{AmdgpuCollector, AmdgpuConfig};
use halo_collectors::gguf::{ModelSource, ModelSourceConfig};
use halo_collectors::host::{HostCollector, HostConfig};
use halo_collectors::nvidia::{self, NvidiaCollector, NvidiaConfig};

use crate::cli::Global;
use crate::model_report;
use crate::workload::WorkloadSpec;
use crate::workload::reference::threads::default_threads;
use crate::workload::reference::workload::{ReferenceSource, WorkloadOptions};

pub fn build(global: &Global) -> Result<Vec<Box<dyn Source>>> {
    let host = HostCollector::new(HostConfig {
        sysfs_root: global.sysfs_root.clone(),
        procfs_root: global.procfs_root.clone(),
        ..HostConfig::default()
    });
    let nvidia = NvidiaCollector::new(NvidiaConfig {
        sysfs_root: global.sysfs_root.clone(),
        procfs_root: global.procfs_root.clone(),
        libraries: nvidia::LIBRARIES.iter().map(|l| l.to_string()).collect(),
    });
    let amdgpu = AmdgpuCollector::new(AmdgpuConfig {
        sysfs_root: global.sysfs_root.clone(),
        procfs_root: global.procfs_root.clone(),
    });
    let mut sources: Vec<Box<dyn Source>> =
        vec![Box::new(host), Box::new(amdgpu), Box::new(nvidia)];
    // The served model's profile, for the roofline. Runs when the model is known: --model now;
    // llama-server's /props model_path once the llama collector provides it.
    if let Some(path) = &global.roofline.model {
        let bandwidth = model_report::bandwidth(global)?;
        sources.push(Box::new(ModelSource::new(ModelSourceConfig {
            path: path.clone(),
            kv_cache_type_k: global.roofline.cache_type_k.clone(),
            kv_cache_type_v: global.roofline.cache_type_v.clone(),
            peak_bandwidth_gbps: bandwidth.peak_gbps,
            peak_bandwidth_source: bandwidth.peak_source,
            calibrated_read_gbps: bandwidth.calibrated_read_gbps,
        })));
    }
    if let WorkloadSpec::Reference { model } = &global.workload {
        let options = WorkloadOptions {
            model: model.clone(),
            threads: global.workload_threads.map_or_else(default_threads, usize::from),
            max_context: 1024,
            prompt_tokens: global.workload_prompt,
        };
        let source =
            ReferenceSource::start(options).context("starting the reference decoder thread")?;
        sources.push(Box::new(source));
    }
    Ok(sources)
}
