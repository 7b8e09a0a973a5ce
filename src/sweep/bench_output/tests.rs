//! Real llama-bench output from the installed build (`fixtures/llama-bench/`, written by
//! `llama-bench -o json|jsonl|csv|md` on the tiny test models; see fixtures/README.md), and
//! hand-made variants of older builds.

use super::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/fixtures/llama-bench/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `type_k/type_v pP nN dD` of every record.
fn shapes(p: &Parsed) -> Vec<String> {
    p.records
        .iter()
        .map(|r| {
            format!("{:?}/{:?} p{} n{} d{}", r.type_k, r.type_v, r.n_prompt, r.n_gen, r.n_depth)
        })
        .collect()
}

#[test]
fn json_csv_and_markdown_of_one_sweep_read_alike() {
    let json = parse(&fixture("kv-types.json")).unwrap();
    let csv = parse(&fixture("kv-types.csv")).unwrap();
    let md = parse(&fixture("kv-types.md")).unwrap();
    assert_eq!(
        (json.format, csv.format, md.format),
        (Some(Format::Json), Some(Format::Csv), Some(Format::Markdown))
    );
    for p in [&json, &csv, &md] {
        assert_eq!(p.records.len(), 16, "{:?}", p.problems);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
    }
    // -ctk f16,q8_0 -ctv f16,q8_0 -d 0,64 -p 32 -n 8: the same tests in the same order.
    assert_eq!(shapes(&json), shapes(&csv));
    assert_eq!(shapes(&json), shapes(&md));
    let kinds: Vec<(u64, u64, u64)> =
        json.records.iter().take(4).map(|r| (r.n_prompt, r.n_gen, r.n_depth)).collect();
    assert_eq!(kinds, [(32, 0, 0), (0, 8, 0), (32, 0, 64), (0, 8, 64)]);
    assert_eq!(json.records[15].type_k.as_deref(), Some("q8_0"));

    let first = &json.records[0];
    assert!(first.avg_ts > 0.0 && first.stddev_ts.is_some());
    assert_eq!(first.samples_ts.len(), 2);
    let mean = first.samples_ts.iter().sum::<f64>() / 2.0;
    assert!((mean - first.avg_ts).abs() < 0.01 * first.avg_ts, "avg_ts is the mean of samples_ts");
    assert_eq!(first.model_filename.as_deref(), Some("tiny-target-f16.gguf"));
    assert_eq!(
        (first.model_size_bytes, first.model_n_params),
        (Some(52_533_248), Some(26_257_920))
    );
    assert_eq!(
        (first.n_threads, first.n_ubatch, first.flash_attn.as_deref()),
        (Some(1), Some(512), Some("-1"))
    );
    assert_eq!(
        first.other.get("cpu_mask").map(String::as_str),
        Some("0x0"),
        "unknown columns kept"
    );

    let m = &md.records[0];
    assert_eq!(m.model_type.as_deref(), Some("llama ?B F16"));
    // "50.10 MiB" and "26.26 M": rounded by llama-bench, within its two decimals.
    assert!(m.model_size_bytes.unwrap().abs_diff(52_533_248) < 6000);
    assert!(m.model_n_params.unwrap().abs_diff(26_257_920) < 6000);
    assert_eq!(m.n_threads, Some(1));
    assert!(m.stddev_ts.is_some() && m.samples_ts.is_empty());
}

#[test]
fn tables_without_kv_columns_and_with_combined_tests() {
    let md = parse(&fixture("defaults.md")).unwrap();
    assert_eq!(md.records.len(), 12);
    assert!(
        md.records.iter().all(|r| r.type_k.is_none() && r.type_v.is_none()),
        "no KV columns: unknown"
    );
    let combined: Vec<String> = md
        .records
        .iter()
        .filter(|r| !r.is_prefill() && !r.is_decode())
        .map(BenchRecord::test_name)
        .collect();
    assert_eq!(combined, ["pp32+tg8", "pp32+tg8 @ d64", "pp32+tg8", "pp32+tg8 @ d64"]);
    assert_eq!(md.records[6].model_type.as_deref(), Some("llama ?B Q4_0"));

    let jsonl = parse(&fixture("defaults.jsonl")).unwrap();
    assert_eq!(jsonl.format, Some(Format::Jsonl));
    assert_eq!(jsonl.records.len(), 2);
    assert_eq!(jsonl.records[1].test_name(), "tg8");
    assert_eq!(jsonl.records[1].type_k.as_deref(), Some("f16"), "JSON always has the KV columns");
}

#[test]
fn a_json_array_cut_short_keeps_its_complete_tests() {
    let text = fixture("kv-types.json");
    let cut = &text[..text.len() * 2 / 3];
    let parsed = parse(cut).unwrap();
    assert!((9..16).contains(&parsed.records.len()), "{}", parsed.records.len());
    assert!(parsed.problems.iter().any(|p| p.contains("line")), "{:?}", parsed.problems);
}

#[test]
fn older_and_pasted_tables() {
    // An older build: `pp 512` with a space, n_batch and type_k under their own names, prose and
    // two tables in one README.
    let text = "\
Results on my box:

| model | size | params | backend | ngl | n_batch | type_k | test | t/s |
| --- | ---: | ---: | --- | --: | --: | --- | ---: | ---: |
| llama 7B Q4_0 | 3.56 GiB | 6.74 B | ROCm | 99 | 512 | q8_0 | pp 512 | 1024.50 ± 3.20 |
| llama 7B Q4_0 | 3.56 GiB | 6.74 B | ROCm | 99 | 512 | q8_0 | tg 128 | 47.30 ± 0.10 |

And with flash attention:

| model | backend | fa | test | t/s |
|-------|---------|----|------|-----|
| llama 7B Q4_0 | ROCm | 1 | tg128 @ d4096 | 41.20 |
| llama 7B Q4_0 | ROCm | 1 | tg128 @ d4096 | 40.90 | extra |
";
    let parsed = parse(text).unwrap();
    assert_eq!(parsed.records.len(), 3);
    let r = &parsed.records[0];
    assert_eq!(
        (r.n_prompt, r.n_gen, r.type_k.as_deref(), r.n_batch),
        (512, 0, Some("q8_0"), Some(512))
    );
    assert_eq!(r.n_gpu_layers, Some(99));
    assert_eq!(r.model_size_bytes, Some((3.56 * 1_073_741_824.0f64).round() as u64));
    assert_eq!(r.model_n_params, Some(6_740_000_000));
    let deep = &parsed.records[2];
    assert_eq!((deep.n_gen, deep.n_depth, deep.avg_ts, deep.stddev_ts), (128, 4096, 41.2, None));
    assert_eq!(deep.flash_attn.as_deref(), Some("1"));
    assert_eq!(deep.line, 12);
    assert!(
        parsed.problems[0].contains("line 13: 6 cells under 5 column names"),
        "{:?}",
        parsed.problems
    );
}

#[test]
fn bad_input_is_an_error_that_says_why() {
    let err = |t: &str| format!("{:#}", parse(t).unwrap_err());
    assert!(err("").contains("not llama-bench output"));
    assert!(err("CREATE TABLE IF NOT EXISTS llama_bench (").contains("SQL"));
    assert!(err("[\n  {\"n_prompt\": 1}\n]").contains("avg_ts"));
    assert!(err("| a | b |\n|---|---|\n| 1 | 2 |\n").contains("avg_ts"));
    assert!(err("| test | t/s |\n|---|---|\n| pp | 1 |\n").contains("test \"pp\""));
    assert!(err("n_prompt,n_gen,avg_ts\n\"32\",\"0\",\"fast\"\n").contains("not a number"));
    assert!(
        err("[ {\"n_prompt\": 1, \"n_gen\": 0, \"avg_ts\": ").contains("no llama-bench results")
    );
}
