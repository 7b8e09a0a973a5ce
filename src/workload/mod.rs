//! Workloads halo-top can run itself while it watches: the value of `--workload`.

pub mod reference;
