//! Which sources the app runs, built from the command line.

use halo_collectors::Source;
use halo_collectors::amdgpu::{AmdgpuCollector, AmdgpuConfig};
use halo_collectors::host::{HostCollector, HostConfig};

use crate::cli::Global;

pub fn build(global: &Global) -> Vec<Box<dyn Source>> {
    let host = HostCollector::new(HostConfig {
        sysfs_root: global.sysfs_root.clone(),
        procfs_root: global.procfs_root.clone(),
        ..HostConfig::default()
    });
    let amdgpu = AmdgpuCollector::new(AmdgpuConfig {
        sysfs_root: global.sysfs_root.clone(),
        procfs_root: global.procfs_root.clone(),
    });
    vec![Box::new(host), Box::new(amdgpu)]
}
