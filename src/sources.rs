//! Which sources the app runs, built from the command line.

use anyhow::Result;
use halo_collectors::Source;
use halo_collectors::amdgpu::{AmdgpuCollector, AmdgpuConfig};
use halo_collectors::gguf::{ModelPath, ModelSource, ModelSourceConfig, ServedModelPath};
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
    // The served model's profile, for the roofline: the --model file, else the file the first
    // llama-server reports serving (its collector writes the path into `served`).
    let served = ServedModelPath::default();
    let path = match &global.roofline.model {
        Some(file) => ModelPath::Given(file.clone()),
        None => ModelPath::Served(served.clone()),
    };
    let bandwidth = model_report::bandwidth(global)?;
    sources.push(Box::new(ModelSource::new(ModelSourceConfig {
        path,
        kv_cache_type_k: global.roofline.cache_type_k.clone(),
        kv_cache_type_v: global.roofline.cache_type_v.clone(),
        peak_bandwidth_gbps: bandwidth.peak_gbps,
        peak_bandwidth_source: bandwidth.peak_source,
        calibrated_read_gbps: bandwidth.calibrated_read_gbps,
    })));
    // One source per server, named `llama:URL`. Without --llama the usual local port is only a
    // guess: nothing there is "unavailable", not a failure.
    let quiet_probe = global.llama.is_empty();
    for (i, url) in llama_urls(global).iter().enumerate() {
        sources.push(Box::new(LlamaCollector::new(LlamaConfig {
            api_key: global.llama_api_key.clone(),
            quiet_probe,
            // Inside the runner's timeout (0.8 of the period), so our own message wins.
            sample_budget: global.interval.mul_f64(0.7),
            served_model_path: (i == 0).then(|| served.clone()),
            ..LlamaConfig::new(url)
        })));
    }
    Ok(sources)
}

/// The llama-servers to watch: `--llama`, or the default local one.
pub fn llama_urls(global: &Global) -> Vec<String> {
    if global.llama.is_empty() { vec![DEFAULT_URL.to_string()] } else { global.llama.clone() }
}
