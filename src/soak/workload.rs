//! The load a soak runs while it watches (`--workload`), behind one start and one stop: the
//! workloads themselves live in `crate::workload`.

use halo_collectors::Source;

use crate::cli::Global;
use crate::workload;

/// A started workload, or none.
pub struct Running {
    load: Option<workload::Running>,
}

impl Running {
    /// `--workload` as given (`none` when absent), for the session header.
    pub fn name(global: &Global) -> String {
        global.workload.as_ref().map_or_else(|| "none".into(), workload::Workload::name)
    }

    /// Sources that put the workload's own figures into every snapshot.
    pub fn sources(&self) -> Vec<Box<dyn Source>> {
        self.load.iter().map(workload::Running::source).collect()
    }

    /// Stops the workload; returns what it says it did.
    pub fn stop(&mut self) -> Option<String> {
        self.load.take().map(workload::Running::finish)
    }
}

/// Starts `--workload`, if any.
pub fn start(global: &Global) -> Running {
    Running { load: workload::start(global) }
}
