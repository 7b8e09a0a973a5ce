//! A point placed on the roofline: bytes one decode step reads at the point's context (from
//! the model's GGUF profile and the point's KV types), the bandwidth its decode rate achieves,
//! its share of the peak, the KV cache it occupies, and joules per token. The arithmetic is
//! `derive::roofline`'s, the same as the live dashboard's.

use halo_collectors::model::ModelProfile;

use super::point::{Point, PointKind, RooflinePlace};
use crate::derive::roofline;
use crate::model_report::Bandwidth;

/// llama-bench's and llama-server's default KV type, assumed where a file does not say.
const DEFAULT_KV_TYPE: &str = "f16";

/// Fills the point's roofline, KV cache and J/token figures. `tokens_per_step`: tokens a slot
/// gets from one target step (1, more with speculation). Without a profile only J/token is set.
pub fn place(
    point: &mut Point,
    profile: Option<&ModelProfile>,
    bandwidth: &Bandwidth,
    tokens_per_step: f64,
) {
    let t = point.telemetry.as_ref();
    let decode_w = t.and_then(|t| t.decode_power_w);
    match (&point.serving, decode_w, &point.decode) {
        // Serving: the rounds' energy over the tokens they generated (prompts included).
        (Some(s), Some(w), _) if s.tokens_generated > 0 => {
            point.decode_joules_per_token = Some(w * s.measured_s / s.tokens_generated as f64);
        }
        (None, Some(w), Some(rate)) => {
            point.decode_joules_per_token = roofline::joules_per_token(w, rate.mean_tok_s);
        }
        _ => {}
    }
    if let (Some(w), Some(rate)) = (t.and_then(|t| t.prefill_power_w), &point.prefill) {
        point.prefill_joules_per_token = roofline::joules_per_token(w, rate.mean_tok_s);
    }
    let Some(profile) = profile else { return };
    let c = &point.config;
    if c.type_k.is_none() || c.type_v.is_none() {
        point.notes.push(format!(
            "KV cache type not given: llama.cpp's default {DEFAULT_KV_TYPE} assumed"
        ));
    }
    let kv = profile.kv.as_ref().and_then(|kv| {
        roofline::kv_bytes_per_token(
            kv,
            c.type_k.as_deref().unwrap_or(DEFAULT_KV_TYPE),
            c.type_v.as_deref().unwrap_or(DEFAULT_KV_TYPE),
        )
    });
    if kv.is_none() {
        point.notes.push("KV cache shape or type unknown: the KV cache is not counted".into());
    }
    let slots = c.parallel.unwrap_or(1);
    let n_gen = c.n_gen.unwrap_or(0);
    // A slot's context where decoding starts: the depth (bench), or the whole prompt (serve).
    let start = match point.kind {
        PointKind::Serve => c.depth_tokens + c.n_prompt.unwrap_or(0),
        PointKind::Bench | PointKind::Imported => c.depth_tokens,
    };
    let end = start + n_gen;
    if let Some(kv) = &kv {
        point.kv_cache_bytes = Some(kv.read_at(end) * slots as f64);
    }
    let Some(decode) = &point.decode else { return };
    let mean_context = start + n_gen / 2;
    let contexts = vec![mean_context; slots as usize];
    let bytes = roofline::bytes_per_step(profile, kv.as_ref(), &contexts);
    // Every busy slot gets `tokens_per_step` tokens from each step.
    let steps_per_s = decode.mean_tok_s / (slots as f64 * tokens_per_step);
    let achieved = roofline::achieved_gbps(steps_per_s, bytes);
    point.roofline = Some(RooflinePlace {
        decode_context_tokens: mean_context,
        weight_bytes_per_step: profile.weight_bytes_per_step as f64,
        kv_bytes_per_step: kv.map(|_| bytes - profile.weight_bytes_per_step as f64),
        bytes_per_step: bytes,
        steps_per_s,
        tokens_per_step,
        achieved_gbps: achieved,
        peak_gbps: bandwidth.peak_gbps,
        utilisation_of_peak_percent: bandwidth
            .peak_gbps
            .and_then(|p| roofline::percent_of(achieved, p)),
        calibrated_gbps: bandwidth.calibrated_read_gbps,
        utilisation_of_calibrated_percent: bandwidth
            .calibrated_read_gbps
            .and_then(|c| roofline::percent_of(achieved, c)),
        ceiling_tok_s: bandwidth
            .peak_gbps
            .and_then(|p| roofline::ceiling_tok_s(p, bytes, slots as f64 * tokens_per_step)),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::point::{Config, Rate, Telemetry};
    use halo_collectors::model::KvShape;

    /// 1 GB of weights per step; 1000 K and 1000 V elements per token.
    fn profile() -> ModelProfile {
        ModelProfile {
            weight_bytes_per_step: 1_000_000_000,
            kv: Some(KvShape {
                full_layers: 1,
                full_k_elements_per_token: 1000,
                full_v_elements_per_token: 1000,
                ..KvShape::default()
            }),
            ..ModelProfile::default()
        }
    }

    fn bandwidth() -> Bandwidth {
        Bandwidth { peak_gbps: Some(256.0), peak_source: None, calibrated_read_gbps: Some(200.0) }
    }

    fn point(kind: PointKind, config: Config, decode_tok_s: f64) -> Point {
        let mut p = Point::new("k".into(), kind, config);
        p.decode = Some(Rate { mean_tok_s: decode_tok_s, ..Rate::default() });
        p
    }

    #[test]
    fn bench_decode_at_depth() {
        let config = Config {
            type_k: Some("f16".into()),
            type_v: Some("q8_0".into()),
            depth_tokens: 8000,
            n_gen: Some(128),
            ..Config::default()
        };
        let mut p = point(PointKind::Bench, config, 100.0);
        p.telemetry = Some(Telemetry { decode_power_w: Some(50.0), ..Telemetry::default() });
        place(&mut p, Some(&profile()), &bandwidth(), 1.0);
        let r = p.roofline.clone().unwrap();
        // f16 K: 2 bytes × 1000; q8_0 V: 34/32 bytes × 1000 → 3062.5 bytes per token.
        assert_eq!(r.decode_context_tokens, 8064);
        assert_eq!(r.kv_bytes_per_step, Some(3062.5 * 8064.0));
        assert_eq!(r.bytes_per_step, 1e9 + 3062.5 * 8064.0);
        assert!((r.achieved_gbps - 100.0 * r.bytes_per_step / 1e9).abs() < 1e-9);
        assert!(
            (r.utilisation_of_peak_percent.unwrap() - r.achieved_gbps / 256.0 * 100.0).abs() < 1e-9
        );
        assert!(
            (r.utilisation_of_calibrated_percent.unwrap() - r.achieved_gbps / 2.0).abs() < 1e-9
        );
        assert_eq!(p.kv_cache_bytes, Some(3062.5 * 8128.0));
        assert_eq!(p.decode_joules_per_token, Some(0.5));
        assert!(p.notes.is_empty(), "{:?}", p.notes);
    }

    #[test]
    fn serving_slots_and_speculation() {
        let config = Config {
            depth_tokens: 100,
            n_prompt: Some(28),
            n_gen: Some(64),
            parallel: Some(2),
            speculative: true,
            ..Config::default()
        };
        let mut p = point(PointKind::Serve, config, 300.0);
        place(&mut p, Some(&profile()), &bandwidth(), 1.5);
        let r = p.roofline.unwrap();
        // Two slots at 128 + 32 tokens; 300 tok/s over 2 slots × 1.5 tokens per step.
        assert_eq!(r.decode_context_tokens, 160);
        assert_eq!(r.steps_per_s, 100.0);
        assert_eq!(r.bytes_per_step, 1e9 + 2.0 * 4000.0 * 160.0);
        assert_eq!(r.ceiling_tok_s, Some(256e9 / r.bytes_per_step * 3.0));
        assert_eq!(p.kv_cache_bytes, Some(2.0 * 4000.0 * 192.0));
        assert!(p.notes.iter().any(|n| n.contains("f16 assumed")), "{:?}", p.notes);
        assert_eq!(p.decode_joules_per_token, None, "no power reading: n/a");
    }

    #[test]
    fn without_a_profile_nothing_is_invented() {
        let mut p = point(PointKind::Imported, Config::default(), 50.0);
        place(&mut p, None, &bandwidth(), 1.0);
        assert_eq!((p.roofline, p.kv_cache_bytes), (None, None));
    }
}
