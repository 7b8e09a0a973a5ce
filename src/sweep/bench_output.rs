//! llama-bench's output in every format it writes (`-o json`, `jsonl`, `csv`, `md`), from this
//! build or older ones, with any set of columns, read into one record per test.
//!
//! The formats, as llama.cpp's `tools/llama-bench/llama-bench.cpp` writes them:
//! - json: an array of objects, one per test, with every field (`n_prompt`, `n_gen`, `n_depth`,
//!   `type_k`, `type_v`, `avg_ts`, `stddev_ts`, `samples_ts`, ...); a run that crashed leaves
//!   the array unclosed, so complete objects are read and the cut one is dropped;
//! - jsonl: the same objects, one per line;
//! - csv: a header line of the same field names, every value in double quotes;
//! - md: a table of the columns that differ from the defaults, under display names (`threads`,
//!   `fa`, `ngl`...), the model as `model_type`, sizes as `50.10 MiB` and `26.26 M`, the test as
//!   `pp512`, `tg128`, `pp512+tg128`, with ` @ d8192` for a depth, and `t/s` as `mean ± stddev`.
//!   A column absent from the table held llama-bench's default (f16 for the KV types).
//!
//! Unknown columns are kept as text in [`BenchRecord::other`].

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde_json::Value;

/// One llama-bench test: a prompt-processing (`pp`), generation (`tg`) or combined run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BenchRecord {
    pub n_prompt: u64,
    pub n_gen: u64,
    pub n_depth: u64,
    pub avg_ts: f64,
    pub stddev_ts: Option<f64>,
    pub samples_ts: Vec<f64>,
    pub type_k: Option<String>,
    pub type_v: Option<String>,
    pub n_ubatch: Option<u64>,
    pub n_batch: Option<u64>,
    pub n_threads: Option<u64>,
    pub n_gpu_layers: Option<i64>,
    pub flash_attn: Option<String>,
    /// llama-bench's description, e.g. `llama 7B Q4_K - Medium`.
    pub model_type: Option<String>,
    pub model_filename: Option<String>,
    pub model_size_bytes: Option<u64>,
    pub model_n_params: Option<u64>,
    pub backends: Option<String>,
    pub build_commit: Option<String>,
    pub test_time: Option<String>,
    /// Columns halo-top does not interpret, as text.
    pub other: BTreeMap<String, String>,
    /// Line of the input the record starts on (1-based).
    pub line: usize,
}

impl BenchRecord {
    pub fn is_prefill(&self) -> bool {
        self.n_prompt > 0 && self.n_gen == 0
    }

    pub fn is_decode(&self) -> bool {
        self.n_gen > 0 && self.n_prompt == 0
    }

    /// `pp512`, `tg128 @ d8192`, as llama-bench names a test.
    pub fn test_name(&self) -> String {
        let mut name = match (self.n_prompt, self.n_gen) {
            (p, 0) => format!("pp{p}"),
            (0, n) => format!("tg{n}"),
            (p, n) => format!("pp{p}+tg{n}"),
        };
        if self.n_depth > 0 {
            name += &format!(" @ d{}", self.n_depth);
        }
        name
    }
}

/// The formats llama-bench writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Jsonl,
    Csv,
    Markdown,
}

/// What was read: the records, and rows that could not be read (with their line numbers).
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub format: Option<Format>,
    pub records: Vec<BenchRecord>,
    pub problems: Vec<String>,
}

/// Recognises the format from the text and reads every record.
pub fn parse(text: &str) -> Result<Parsed> {
    let start = text.trim_start();
    let format = if start.starts_with('[') {
        Format::Json
    } else if start.starts_with('{') {
        Format::Jsonl
    } else if text.lines().any(|l| l.trim_start().starts_with('|')) {
        Format::Markdown
    } else if start.to_ascii_uppercase().starts_with("CREATE TABLE") {
        bail!("this is llama-bench's SQL output: rerun with -o json, -o csv or -o md");
    } else if start.lines().next().is_some_and(|l| l.contains(',')) {
        Format::Csv
    } else {
        bail!("not llama-bench output (expected -o json, jsonl, csv or md)");
    };
    let mut parsed = match format {
        Format::Json => parse_json_array(text),
        Format::Jsonl => parse_jsonl(text),
        Format::Csv => parse_csv(text),
        Format::Markdown => parse_markdown(text),
    };
    parsed.format = Some(format);
    if parsed.records.is_empty() {
        let why = parsed.problems.first().cloned().unwrap_or_else(|| "no tests in it".into());
        bail!("no llama-bench results could be read ({why})");
    }
    Ok(parsed)
}

fn line_of(text: &str, byte_offset: usize) -> usize {
    text[..byte_offset.min(text.len())].matches('\n').count() + 1
}

/// A JSON array, read one element at a time so that an array cut short (llama-bench killed
/// mid-run) still gives its complete elements.
fn parse_json_array(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let Some(open) = text.find('[') else { return parsed };
    let mut offset = open + 1;
    loop {
        let rest = &text[offset..];
        let skipped =
            rest.len() - rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',').len();
        offset += skipped;
        let rest = &text[offset..];
        if rest.is_empty() {
            parsed.problems.push(format!(
                "line {}: the JSON array is not closed (a run cut short?)",
                line_of(text, offset)
            ));
            return parsed;
        }
        if rest.starts_with(']') {
            return parsed;
        }
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        match stream.next() {
            Some(Ok(value)) => {
                let line = line_of(text, offset);
                match record_from_json(&value, line) {
                    Ok(r) => parsed.records.push(r),
                    Err(e) => parsed.problems.push(format!("line {line}: {e}")),
                }
                offset += stream.byte_offset();
            }
            Some(Err(e)) => {
                parsed.problems.push(format!("line {}: {e}", line_of(text, offset)));
                return parsed;
            }
            None => return parsed,
        }
    }
}

fn parse_jsonl(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let result = serde_json::from_str::<Value>(line)
            .map_err(|e| e.to_string())
            .and_then(|v| record_from_json(&v, i + 1));
        match result {
            Ok(r) => parsed.records.push(r),
            Err(e) => parsed.problems.push(format!("line {}: {e}", i + 1)),
        }
    }
    parsed
}

fn record_from_json(value: &Value, line: usize) -> Result<BenchRecord, String> {
    let Value::Object(object) = value else {
        return Err("not a JSON object".into());
    };
    let mut fields = Vec::new();
    let mut samples = Vec::new();
    for (name, value) in object {
        match (name.as_str(), value) {
            ("samples_ts", Value::Array(items)) => {
                samples = items.iter().filter_map(Value::as_f64).collect();
            }
            (_, Value::Array(_) | Value::Object(_)) => {}
            (_, Value::String(s)) => fields.push((name.clone(), s.clone())),
            (_, Value::Null) => {}
            (_, other) => fields.push((name.clone(), other.to_string())),
        }
    }
    let mut record = record_from_fields(fields, line)?;
    record.samples_ts = samples;
    Ok(record)
}

fn parse_csv(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else { return parsed };
    let names = split_csv(header);
    for (i, line) in lines {
        let values = split_csv(line);
        if values.len() != names.len() {
            parsed.problems.push(format!(
                "line {}: {} values under {} column names",
                i + 1,
                values.len(),
                names.len()
            ));
            continue;
        }
        match record_from_fields(names.iter().cloned().zip(values).collect(), i + 1) {
            Ok(r) => parsed.records.push(r),
            Err(e) => parsed.problems.push(format!("line {}: {e}", i + 1)),
        }
    }
    parsed
}

/// One CSV line: fields separated by commas, optionally in double quotes (`""` is a quote).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields.into_iter().map(|f| f.trim().to_string()).collect()
}

/// Every table in the text (a pasted README may hold several, with prose between).
fn parse_markdown(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut names: Option<Vec<String>> = None;
    let mut previous: Option<Vec<String>> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if !trimmed.starts_with('|') {
            names = None;
            previous = None;
            continue;
        }
        let cells: Vec<String> =
            trimmed.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect();
        let is_separator =
            cells.iter().all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')));
        if is_separator {
            names = previous.take();
            continue;
        }
        match &names {
            Some(names) if names.len() == cells.len() => {
                let fields = names.iter().cloned().zip(cells).collect();
                match record_from_markdown(fields, i + 1) {
                    Ok(r) => parsed.records.push(r),
                    Err(e) => parsed.problems.push(format!("line {}: {e}", i + 1)),
                }
            }
            Some(names) => parsed.problems.push(format!(
                "line {}: {} cells under {} column names",
                i + 1,
                cells.len(),
                names.len()
            )),
            None => previous = Some(cells),
        }
    }
    parsed
}

/// Markdown display names back to llama-bench's field names.
const DISPLAY_NAMES: &[(&str, &str)] = &[
    ("model", "model_type"),
    ("backend", "backends"),
    ("ngl", "n_gpu_layers"),
    ("sm", "split_mode"),
    ("threads", "n_threads"),
    ("nkvo", "no_kv_offload"),
    ("fa", "flash_attn"),
    ("lm", "load_mode"),
    ("embd", "embeddings"),
    ("nopo", "no_op_offload"),
    ("noh", "no_host"),
    ("rpk", "repack"),
    ("dev", "devices"),
    ("ts", "tensor_split"),
    ("ot", "tensor_buft_overrides"),
    ("fitt", "fit_target"),
    ("fitc", "fit_min_ctx"),
];

fn record_from_markdown(cells: Vec<(String, String)>, line: usize) -> Result<BenchRecord, String> {
    let mut fields = Vec::new();
    for (name, value) in cells {
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "test" => {
                let (p, n, d) = parse_test_name(&value).ok_or_else(|| {
                    format!("test {value:?} is not like pp512, tg128 or pp512 @ d4096")
                })?;
                fields.push(("n_prompt".into(), p.to_string()));
                fields.push(("n_gen".into(), n.to_string()));
                fields.push(("n_depth".into(), d.to_string()));
            }
            "t/s" => {
                let (mean, stddev) = value.split_once('±').unwrap_or((&value, ""));
                fields.push(("avg_ts".into(), mean.trim().to_string()));
                if !stddev.trim().is_empty() {
                    fields.push(("stddev_ts".into(), stddev.trim().to_string()));
                }
            }
            "size" => match parse_scaled(
                &value,
                &[("kib", 1024.0), ("mib", 1048576.0), ("gib", 1073741824.0)],
            ) {
                Some(bytes) => fields.push(("model_size".into(), format!("{bytes:.0}"))),
                None => fields.push(("size".into(), value)),
            },
            "params" => {
                match parse_scaled(&value, &[("k", 1e3), ("m", 1e6), ("b", 1e9), ("t", 1e12)]) {
                    Some(n) => fields.push(("model_n_params".into(), format!("{n:.0}"))),
                    None => fields.push(("params".into(), value)),
                }
            }
            _ => {
                let raw = DISPLAY_NAMES
                    .iter()
                    .find(|(d, _)| *d == name)
                    .map_or(name.as_str(), |(_, r)| r);
                fields.push((raw.to_string(), value));
            }
        }
    }
    record_from_fields(fields, line)
}

/// `pp512`, `tg128`, `pp512+tg128`, `pp512 @ d8192`, and the older `pp 512`.
fn parse_test_name(text: &str) -> Option<(u64, u64, u64)> {
    let (test, depth) = match text.split_once('@') {
        Some((t, d)) => (t.trim(), d.trim().strip_prefix('d')?.trim().parse().ok()?),
        None => (text.trim(), 0),
    };
    let (mut p, mut n) = (0, 0);
    for part in test.split('+') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("pp") {
            p = v.trim().parse().ok()?;
        } else if let Some(v) = part.strip_prefix("tg") {
            n = v.trim().parse().ok()?;
        } else {
            return None;
        }
    }
    (p + n > 0).then_some((p, n, depth))
}

/// `50.10 MiB` → bytes, `26.26 M` → count.
fn parse_scaled(text: &str, units: &[(&str, f64)]) -> Option<f64> {
    let (number, unit) = text.trim().split_once(' ')?;
    let scale = units.iter().find(|(u, _)| unit.trim().eq_ignore_ascii_case(u))?.1;
    Some(number.parse::<f64>().ok()? * scale)
}

/// The record from `(field name, text)` pairs named as in llama-bench's JSON and CSV.
fn record_from_fields(fields: Vec<(String, String)>, line: usize) -> Result<BenchRecord, String> {
    let mut r = BenchRecord { line, ..BenchRecord::default() };
    let mut have = (false, false, false);
    for (name, value) in fields {
        let v = value.trim();
        let number = || v.parse::<f64>().map_err(|_| format!("{name} = {v:?} is not a number"));
        let count = || {
            number().and_then(|x| {
                (x >= 0.0 && x.fract() == 0.0)
                    .then_some(x as u64)
                    .ok_or(format!("{name} = {v:?} is not a count"))
            })
        };
        let text = || (!v.is_empty()).then(|| v.to_string());
        match name.as_str() {
            "n_prompt" => (r.n_prompt, have.0) = (count()?, true),
            "n_gen" => (r.n_gen, have.1) = (count()?, true),
            "n_depth" => r.n_depth = count()?,
            "avg_ts" => (r.avg_ts, have.2) = (number()?, true),
            "stddev_ts" => r.stddev_ts = Some(number()?),
            "type_k" => r.type_k = text(),
            "type_v" => r.type_v = text(),
            "n_ubatch" => r.n_ubatch = Some(count()?),
            "n_batch" => r.n_batch = Some(count()?),
            "n_threads" => r.n_threads = Some(count()?),
            "n_gpu_layers" => r.n_gpu_layers = Some(number()? as i64),
            "flash_attn" => r.flash_attn = text(),
            "model_type" => r.model_type = text(),
            "model_filename" => r.model_filename = text(),
            "model_size" => r.model_size_bytes = Some(count()?),
            "model_n_params" => r.model_n_params = Some(count()?),
            "backends" => r.backends = text(),
            "build_commit" => r.build_commit = text(),
            "test_time" => r.test_time = text(),
            // Per-run times: the rates carry the same information.
            "avg_ns" | "stddev_ns" | "samples_ns" => {}
            _ => {
                r.other.insert(name, v.to_string());
            }
        }
    }
    match have {
        (true, true, true) if r.n_prompt + r.n_gen > 0 => Ok(r),
        (_, _, false) => Err("no avg_ts (t/s) column".into()),
        _ => Err("no test size (n_prompt and n_gen, or a test column)".into()),
    }
}

#[cfg(test)]
mod tests;
