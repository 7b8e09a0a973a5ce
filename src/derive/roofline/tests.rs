use super::*;

/// A model that reads 4 GB of weights per step and whose KV cache grows by 32 layers × 8 KV
/// heads × 128 for K and the same for V per token.
fn section(kv_type: &str) -> ModelSection {
    ModelSection {
        path: "m.gguf".into(),
        profile: ModelProfile {
            weight_bytes_per_step: 4_000_000_000,
            kv: Some(KvShape {
                full_layers: 32,
                full_k_elements_per_token: 32 * 8 * 128,
                full_v_elements_per_token: 32 * 8 * 128,
                ..KvShape::default()
            }),
            ..ModelProfile::default()
        },
        kv_cache_type_k: kv_type.into(),
        kv_cache_type_v: kv_type.into(),
        peak_bandwidth_gbps: Some(256.0),
        peak_bandwidth_source: Some("test".into()),
        calibrated_read_gbps: Some(200.0),
    }
}

const KV_F16_PER_TOKEN: f64 = 2.0 * 32.0 * 8.0 * 128.0 * 2.0; // 131 072 bytes

#[test]
fn weights_once_per_step_and_kv_per_busy_slot() {
    let m = section("f16");
    let kv = kv_bytes_per_token(m.profile.kv.as_ref().unwrap(), "f16", "f16").unwrap();
    assert_eq!(kv.full, KV_F16_PER_TOKEN);
    let bytes = bytes_per_step(&m.profile, Some(&kv), &[1000, 3000]);
    assert_eq!(bytes, 4e9 + KV_F16_PER_TOKEN * 4000.0);
    // No slots known: the weights alone.
    assert_eq!(bytes_per_step(&m.profile, Some(&kv), &[]), 4e9);
    // Quantized caches: q8_0 is 34 bytes per 32 elements, q4_0 18 per 32.
    let q8 = kv_bytes_per_token(m.profile.kv.as_ref().unwrap(), "q8_0", "q4_0").unwrap();
    assert_eq!(q8.full, 32.0 * 8.0 * 128.0 * (34.0 + 18.0) / 32.0);
    assert_eq!(kv_bytes_per_token(m.profile.kv.as_ref().unwrap(), "f16", "q9_9"), None);
}

#[test]
fn sliding_window_layers_read_at_most_their_window() {
    let kv = KvBytesPerToken { full: 100.0, window: 10.0, window_tokens: Some(128) };
    assert_eq!(kv.read_at(64), 100.0 * 64.0 + 10.0 * 64.0);
    assert_eq!(kv.read_at(10_000), 100.0 * 10_000.0 + 10.0 * 128.0);
}

#[test]
fn one_stream_utilisation_and_ceiling() {
    let m = section("f16");
    let inputs = RooflineInputs {
        model: Some(&m),
        decode_steps_per_s: Some(40.0),
        generated_tok_s: Some(40.0),
        busy_slot_contexts_tokens: vec![2048],
        ..RooflineInputs::default()
    };
    let f = compute(&inputs);
    let bytes = 4e9 + KV_F16_PER_TOKEN * 2048.0;
    assert_eq!(f.bytes_per_step, Some(bytes));
    assert_eq!(f.kv_bytes_per_step, Some(KV_F16_PER_TOKEN * 2048.0));
    assert_eq!(f.achieved_gbps, Some(40.0 * bytes / 1e9));
    assert_eq!(f.tokens_per_step, Some(1.0));
    let util = f.utilisation_of_peak_percent.unwrap();
    assert!((util - 40.0 * bytes / 256e9 * 100.0).abs() < 1e-9);
    assert!((f.utilisation_of_calibrated_percent.unwrap() - util * 256.0 / 200.0).abs() < 1e-9);
    assert!((f.ceiling_tok_s.unwrap() - 256e9 / bytes).abs() < 1e-9);
}

#[test]
fn speculation_verifies_several_tokens_per_step() {
    let m = section("f16");
    let inputs = RooflineInputs {
        model: Some(&m),
        decode_steps_per_s: Some(30.0),
        generated_tok_s: Some(75.0),
        busy_slot_contexts_tokens: vec![0],
        ..RooflineInputs::default()
    };
    let f = compute(&inputs);
    // Bandwidth follows the steps, not the tokens.
    assert_eq!(f.achieved_gbps, Some(30.0 * 4.0));
    assert_eq!(f.tokens_per_step, Some(2.5));
    assert_eq!(f.ceiling_tok_s, Some(256.0 / 4.0 * 2.5));
}

#[test]
fn without_a_step_counter_each_busy_slot_makes_one_token_per_step() {
    let m = section("f16");
    let inputs = RooflineInputs {
        model: Some(&m),
        generated_tok_s: Some(60.0),
        busy_slot_contexts_tokens: vec![0, 0, 0],
        ..RooflineInputs::default()
    };
    let f = compute(&inputs);
    assert_eq!(f.decode_steps_per_s, Some(20.0));
    assert_eq!(f.achieved_gbps, Some(80.0));
    assert_eq!(f.tokens_per_step, Some(3.0));
}

#[test]
fn gpu_counters_in_gbps() {
    // A real Strix Halo reading under load: 47 791 MB/s read, 1 463 MB/s written.
    assert!((counter_dram_gbps(Some(47_791), Some(1_463)).unwrap() - 49.254).abs() < 1e-9);
    assert_eq!(counter_dram_gbps(None, Some(900)), None, "half a reading is no reading");
    assert_eq!(counter_dram_gbps(Some(0), Some(0)), Some(0.0), "0 is a reading");
    let f = compute(&RooflineInputs {
        dram_reads_mb_s: Some(65_534),
        dram_writes_mb_s: Some(900),
        dram_saturated: Some(true),
        ..RooflineInputs::default()
    });
    assert_eq!(f.counter_dram_saturated, Some(true));
}

#[test]
fn energy_per_token_from_power() {
    assert_eq!(joules_per_token(120.0, 40.0), Some(3.0));
    assert_eq!(joules_per_token(120.0, 0.0), None, "idle: no tokens, no energy per token");
    let f = compute(&RooflineInputs {
        power_w: Some(90.0),
        power_source: Some("socket".into()),
        generated_tok_s: Some(45.0),
        ..RooflineInputs::default()
    });
    assert_eq!((f.joules_per_token, f.power_source.as_deref()), (Some(2.0), Some("socket")));
}

#[test]
fn unknown_inputs_stay_unknown() {
    let f = compute(&RooflineInputs::default());
    assert_eq!(f, RooflineFigures::default());

    // A model but no rates: bytes per step and the ceiling, no achieved bandwidth.
    let mut m = section("f16");
    m.peak_bandwidth_gbps = None;
    let f = compute(&RooflineInputs { model: Some(&m), ..RooflineInputs::default() });
    assert_eq!(f.bytes_per_step, Some(4e9));
    assert_eq!(
        (f.achieved_gbps, f.utilisation_of_peak_percent, f.ceiling_tok_s),
        (None, None, None)
    );

    // An unknown KV shape counts the weights only and says the KV part is unknown.
    let mut m = section("f16");
    m.profile.kv = None;
    let f = compute(&RooflineInputs {
        model: Some(&m),
        busy_slot_contexts_tokens: vec![5000],
        ..RooflineInputs::default()
    });
    assert_eq!((f.bytes_per_step, f.kv_bytes_per_step), (Some(4e9), None));
}

#[test]
fn derive_reads_the_model_section() {
    let mut s = Snapshot::new(1, 0, 1000, 1000);
    derive(None, &mut s);
    assert_eq!(s.derived.roofline, RooflineFigures::default());
    s.model = Some(section("q8_0"));
    derive(None, &mut s);
    assert_eq!(s.derived.roofline.peak_gbps, Some(256.0));
    assert_eq!(s.derived.roofline.bytes_per_step, Some(4e9));
}

/// The whole derive step on a snapshot as the hub builds it: the served model, the llama
/// server reporting that path with two busy slots, the APU's counters and socket power.
#[test]
fn derive_reads_the_server_the_apu_and_the_power() {
    use halo_collectors::model::{
        AmdgpuCard, AmdgpuSection, GpuMetrics, LlamaProps, LlamaRates, LlamaServer, LlamaSlot,
    };
    let mut s = Snapshot::new(1, 0, 1000, 1000);
    s.model = Some(section("f16"));
    let slot = |id, busy, tokens| LlamaSlot {
        id,
        is_processing: busy,
        sequence_tokens: Some(tokens),
        ..LlamaSlot::default()
    };
    let server = |url: &str, path: &str| LlamaServer {
        url: url.into(),
        props: Some(LlamaProps { model_path: Some(path.into()), ..LlamaProps::default() }),
        slots: Some(vec![slot(0, true, 1000), slot(1, true, 3000), slot(2, false, 9000)]),
        ..LlamaServer::default()
    };
    let rates = |url: &str, steps| LlamaRates {
        url: url.into(),
        decode_steps_s: Some(steps),
        decode_tok_s: Some(2.0 * steps),
        ..LlamaRates::default()
    };
    // A peer serving another model comes first; the one serving m.gguf is the one that counts.
    s.llama = vec![server("http://peer:8080", "other.gguf"), server("http://local:8080", "m.gguf")];
    s.derived.llama = vec![rates("http://peer:8080", 99.0), rates("http://local:8080", 20.0)];
    s.amdgpu = Some(AmdgpuSection {
        cards: vec![AmdgpuCard {
            metrics: Some(GpuMetrics {
                dram_read_mb_per_s: Some(47_791),
                dram_write_mb_per_s: Some(1_463),
                socket_power_mw: Some(88_165),
                ..GpuMetrics::default()
            }),
            ..AmdgpuCard::default()
        }],
        ..AmdgpuSection::default()
    });
    derive(None, &mut s);
    let r = &s.derived.roofline;
    // Weights once per step, KV of the two busy slots (1000 + 3000 tokens).
    let bytes = 4e9 + 4000.0 * KV_F16_PER_TOKEN;
    assert_eq!(r.bytes_per_step, Some(bytes));
    assert_eq!(r.decode_steps_per_s, Some(20.0));
    assert_eq!(r.tokens_per_step, Some(2.0));
    assert_eq!(r.achieved_gbps, Some(20.0 * bytes / 1e9));
    assert!((r.counter_dram_gbps.unwrap() - 49.254).abs() < 1e-9);
    assert_eq!(r.counter_dram_saturated, Some(false));
    assert!((r.joules_per_token.unwrap() - 88.165 / 40.0).abs() < 1e-12);
    assert_eq!(r.power_source.as_deref(), Some("amdgpu socket"));
}

#[test]
fn without_a_server_the_reference_decoder_is_on_the_roofline() {
    let mut s = Snapshot::new(0, 0, 0, 1000);
    s.reference = Some(ReferenceSection {
        weight_bytes: Some(1_500_000_000),
        bytes_per_token: Some(1.6e9),
        decode_tok_s: Some(20.0),
        peak_bandwidth_gbps: Some(256.0),
        ..ReferenceSection::default()
    });
    derive(None, &mut s);
    let f = &s.derived.roofline;
    assert_eq!(f.bytes_per_step, Some(1.6e9));
    assert_eq!(f.tokens_per_step, Some(1.0));
    assert_eq!(f.achieved_gbps, Some(32.0));
    assert_eq!(f.utilisation_of_peak_percent, Some(12.5));
    assert_eq!(f.ceiling_tok_s, Some(160.0));
    assert_eq!(f.utilisation_of_calibrated_percent, None, "no calibration: unknown");

    // Before its first token: bytes known, rates unknown (not 0).
    s.reference.as_mut().unwrap().decode_tok_s = None;
    derive(None, &mut s);
    let f = &s.derived.roofline;
    assert_eq!((f.achieved_gbps, f.utilisation_of_peak_percent), (None, None));
}
