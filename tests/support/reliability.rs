//! Result lines of the fault tests, rendered into the table of docs/reliability.md by
//! scripts/reliability-table (which scripts/test runs after the tests, and which fails in CI
//! when the committed table differs). A test writes its lines only once every assertion has
//! held, so a row in the table is a fault that was injected and survived, `tries` times.
//!
//! Rows are deterministic (no timings): measured figures go to the test's stderr instead.

use std::fmt::Write as _;
use std::path::PathBuf;

pub struct Row<'a> {
    /// What the fault hits: `llama-server`, `HTTP`, `sysfs`, `terminal`, `disk`, `fuzz corpus`.
    pub area: &'a str,
    /// The fault or bad input.
    pub fault: &'a str,
    /// How many times it was injected in one run of the test.
    pub tries: usize,
    /// What held, every time.
    pub result: &'a str,
}

/// `reliability/` under `CARGO_TARGET_TMPDIR`, where each test writes `<test>.tsv`.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("reliability")
}

/// Writes (replaces) the lines of `test`.
pub fn write(test: &str, rows: &[Row]) {
    let mut text = String::new();
    for r in rows {
        for field in [r.area, r.fault, r.result] {
            assert!(!field.contains(['\t', '\n', '|']), "a table cell cannot hold {field:?}");
        }
        let _ = writeln!(text, "{}\t{}\t{}\t{}\t{}", test, r.area, r.fault, r.tries, r.result);
    }
    std::fs::create_dir_all(dir()).expect("create the reliability results directory");
    std::fs::write(dir().join(format!("{test}.tsv")), text).expect("write the result lines");
}
