//! Which sources the app runs, built from the command line.

use halo_collectors::Source;
use halo_collectors::host::{HostCollector, HostConfig};
use halo_collectors::llama::{DEFAULT_URL, LlamaCollector, LlamaConfig};

use crate::cli::Global;

pub fn build(global: &Global) -> Vec<Box<dyn Source>> {
    let host = HostCollector::new(HostConfig {
        sysfs_root: global.sysfs_root.clone(),
        procfs_root: global.procfs_root.clone(),
        ..HostConfig::default()
    });
    let mut sources: Vec<Box<dyn Source>> = vec![Box::new(host)];
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
    sources
}

/// The llama-servers to watch: `--llama`, or the default local one.
pub fn llama_urls(global: &Global) -> Vec<String> {
    if global.llama.is_empty() { vec![DEFAULT_URL.to_string()] } else { global.llama.clone() }
}
