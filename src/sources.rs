//! Which sources the app runs, built from the command line.

use anyhow::Result;
use halo_collectors::Source;
use halo_collectors::amdgpu::{AmdgpuCollector, AmdgpuConfig};
use halo_collectors::gguf::{ModelSource, ModelSourceConfig};
use halo_collectors::host::{HostCollector, HostConfig};
use halo_collectors::llama::{DEFAULT_URL, LlamaCollector, LlamaConfig};
use halo_collectors::nvidia::{self, NvidiaCollector, NvidiaConfig};

use crate::cli::Global;
use crate::model_report;

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
    // One source per server, named `llama:URL`. Without --llama the usual local port is only a
    // guess: nothing there is "unavailable", not a failure.
    let quiet_probe = global.llama.is_empty();
    for url in llama_urls(global) {
        sources.push(Box::new(LlamaCollector::new(LlamaConfig {
            api_key: global.llama_api_key.clone(),
            quiet_probe,
            // Inside the runner's timeout (0.8 of the period), so our own message wins.
            sample_budget: global.interval.mul_f64(0.7),
            ..LlamaConfig::new(&url)
        })));
    }
    Ok(sources)
}

/// The llama-servers to watch: `--llama`, or the default local one.
pub fn llama_urls(global: &Global) -> Vec<String> {
    if global.llama.is_empty() { vec![DEFAULT_URL.to_string()] } else { global.llama.clone() }
}
