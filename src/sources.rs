//! Which sources the app runs, built from the command line.

use halo_collectors::Source;
use halo_collectors::host::{HostCollector, HostConfig};
use halo_collectors::nvidia::{self, NvidiaCollector, NvidiaConfig};

use crate::cli::Global;

pub fn build(global: &Global) -> Vec<Box<dyn Source>> {
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
    vec![Box::new(host), Box::new(nvidia)]
}
