//! The grid of a sweep: `ctk=f16,q8_0,q4_0 ctv=f16 ub=512,2048 depth=0,8k np=1,4 t=8`.
//!
//! Every axis is a comma-separated list; the points are every combination. Axes:
//! - `ctk`, `ctv`: KV cache types of keys and values (crossed); `kv=`: both at once (paired:
//!   `kv=f16,q8_0` is f16/f16 and q8_0/q8_0);
//! - `ub`, `b`, `t`, `fa` (on/off/auto), `ngl`: llama.cpp's `-ub`, `-b`, `-t`, `-fa`, `-ngl`;
//! - `depth` (or `d`): tokens already in the context; `k` multiplies by 1024 (`32k`);
//! - `np`: parallel slots of llama-server. With `np` (or `--draft`) in the sweep, every
//!   configuration is also served with that many slots;
//! - `spec`: `0,1` serves each configuration without and with the draft model (default: with
//!   it when `--draft` is given).
//!
//! An axis left out takes llama.cpp's default (not passed on the command line).

use std::collections::BTreeMap;

use anyhow::{Result, bail};

use super::point::{Config, PointKind};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grid {
    /// (type_k, type_v) pairs.
    pub kv: Vec<(Option<String>, Option<String>)>,
    pub n_ubatch: Vec<Option<u64>>,
    pub n_batch: Vec<Option<u64>>,
    pub n_threads: Vec<Option<u64>>,
    pub flash_attn: Vec<Option<String>>,
    pub n_gpu_layers: Vec<Option<i64>>,
    pub depth_tokens: Vec<u64>,
    /// Empty: no serving points.
    pub parallel: Vec<u64>,
    pub speculative: Vec<bool>,
}

/// A point to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub key: String,
    pub kind: PointKind,
    pub config: Config,
}

const AXES: &str = "ctk, ctv, kv, ub, b, t, fa, ngl, depth, np, spec";

impl Grid {
    /// Parses the grid text; `has_draft`: whether `--draft` was given.
    pub fn parse(text: &str, has_draft: bool) -> Result<Grid> {
        let mut axes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for item in text.split_whitespace() {
            let Some((name, values)) = item.split_once('=') else {
                bail!("grid: {item:?} is not NAME=VALUES (axes: {AXES})");
            };
            let name = match name {
                "d" => "depth",
                "ctk" | "ctv" | "kv" | "ub" | "b" | "t" | "fa" | "ngl" | "depth" | "np"
                | "spec" => name,
                _ => bail!("grid: unknown axis {name:?} (axes: {AXES})"),
            };
            let values: Vec<String> = values
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect();
            if values.is_empty() {
                bail!("grid: axis {name} has no values");
            }
            if axes.insert(name.to_string(), values).is_some() {
                bail!("grid: axis {name} is given twice");
            }
        }
        let list = |name: &str| axes.get(name).cloned();
        let numbers = |name: &str| -> Result<Vec<Option<u64>>> {
            match list(name) {
                None => Ok(vec![None]),
                Some(vs) => vs.iter().map(|v| parse_tokens(name, v).map(Some)).collect(),
            }
        };

        let kv = match (list("kv"), list("ctk"), list("ctv")) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                bail!("grid: kv= sets both KV types; give it or ctk=/ctv=, not both")
            }
            (Some(kv), None, None) => {
                let types = kv.iter().map(|t| kv_type(t)).collect::<Result<Vec<_>>>()?;
                types.into_iter().map(|t| (Some(t.clone()), Some(t))).collect()
            }
            (None, k, v) => {
                let types = |l: Option<Vec<String>>| -> Result<Vec<Option<String>>> {
                    match l {
                        None => Ok(vec![None]),
                        Some(l) => l.iter().map(|t| kv_type(t).map(Some)).collect(),
                    }
                };
                let (ks, vs) = (types(k)?, types(v)?);
                ks.iter().flat_map(|k| vs.iter().map(move |v| (k.clone(), v.clone()))).collect()
            }
        };
        let flash_attn = match list("fa") {
            None => vec![None],
            Some(vs) => vs
                .iter()
                .map(|v| match v.as_str() {
                    "on" | "1" => Ok(Some("on".to_string())),
                    "off" | "0" => Ok(Some("off".to_string())),
                    "auto" | "-1" => Ok(Some("auto".to_string())),
                    _ => bail!("grid: fa={v} (on, off or auto)"),
                })
                .collect::<Result<_>>()?,
        };
        let n_gpu_layers = match list("ngl") {
            None => vec![None],
            Some(vs) => vs
                .iter()
                .map(|v| {
                    v.parse::<i64>()
                        .map(Some)
                        .map_err(|_| anyhow::anyhow!("grid: ngl={v} is not a number"))
                })
                .collect::<Result<_>>()?,
        };
        let depth_tokens = numbers("depth")?.into_iter().map(|d| d.unwrap_or(0)).collect();
        let parallel: Vec<u64> = numbers("np")?.into_iter().flatten().collect();
        if parallel.contains(&0) {
            bail!("grid: np must be at least 1");
        }
        let speculative = match list("spec") {
            None => vec![has_draft],
            Some(vs) => vs
                .iter()
                .map(|v| match v.as_str() {
                    "1" | "on" => Ok(true),
                    "0" | "off" => Ok(false),
                    _ => bail!("grid: spec={v} (0 or 1)"),
                })
                .collect::<Result<_>>()?,
        };
        if speculative.contains(&true) && !has_draft {
            bail!("grid: spec=1 needs a draft model (--draft FILE)");
        }
        let mut grid = Grid {
            kv,
            n_ubatch: numbers("ub")?,
            n_batch: numbers("b")?,
            n_threads: numbers("t")?,
            flash_attn,
            n_gpu_layers,
            depth_tokens,
            parallel,
            speculative,
        };
        if grid.parallel.is_empty() && has_draft {
            grid.parallel = vec![1];
        }
        Ok(grid)
    }

    /// Every point, bench points first (one per configuration and depth), then serving points,
    /// in a stable order.
    pub fn plan(&self, n_prompt: u64, n_gen: u64) -> Vec<Planned> {
        let mut bench = Vec::new();
        let mut serve = Vec::new();
        for (type_k, type_v) in &self.kv {
            for ub in &self.n_ubatch {
                for b in &self.n_batch {
                    for t in &self.n_threads {
                        for fa in &self.flash_attn {
                            for ngl in &self.n_gpu_layers {
                                for &depth in &self.depth_tokens {
                                    let base = Config {
                                        type_k: type_k.clone(),
                                        type_v: type_v.clone(),
                                        n_ubatch: *ub,
                                        n_batch: *b,
                                        n_threads: *t,
                                        flash_attn: fa.clone(),
                                        n_gpu_layers: *ngl,
                                        depth_tokens: depth,
                                        n_prompt: Some(n_prompt),
                                        n_gen: Some(n_gen),
                                        ..Config::default()
                                    };
                                    bench.push(planned(PointKind::Bench, base.clone()));
                                    for &np in &self.parallel {
                                        for &spec in &self.speculative {
                                            let config = Config {
                                                parallel: Some(np),
                                                speculative: spec,
                                                ..base.clone()
                                            };
                                            serve.push(planned(PointKind::Serve, config));
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        bench.extend(serve);
        bench
    }
}

fn planned(kind: PointKind, config: Config) -> Planned {
    Planned { key: key(kind, &config), kind, config }
}

/// The key a resumed sweep recognises a point by: its kind and every setting.
pub fn key(kind: PointKind, c: &Config) -> String {
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    format!(
        "{} ctk={} ctv={} ub={} b={} t={} fa={} ngl={} depth={} p={} n={} np={} spec={}",
        kind.label(),
        opt(c.type_k.clone()),
        opt(c.type_v.clone()),
        opt(c.n_ubatch.map(|v| v.to_string())),
        opt(c.n_batch.map(|v| v.to_string())),
        opt(c.n_threads.map(|v| v.to_string())),
        opt(c.flash_attn.clone()),
        opt(c.n_gpu_layers.map(|v| v.to_string())),
        c.depth_tokens,
        opt(c.n_prompt.map(|v| v.to_string())),
        opt(c.n_gen.map(|v| v.to_string())),
        opt(c.parallel.map(|v| v.to_string())),
        u8::from(c.speculative),
    )
}

/// `8192`, `8k` (= 8192), `32K`.
pub fn parse_tokens(axis: &str, text: &str) -> Result<u64> {
    let lower = text.to_ascii_lowercase();
    let parsed = match lower.strip_suffix('k') {
        Some(n) => n.parse::<u64>().ok().and_then(|n| n.checked_mul(1024)),
        None => lower.parse::<u64>().ok(),
    };
    parsed
        .ok_or_else(|| anyhow::anyhow!("grid: {axis}={text} is not a whole number (e.g. 512, 8k)"))
}

fn kv_type(text: &str) -> Result<String> {
    let known = halo_collectors::gguf::types::KV_CACHE_TYPES;
    known.iter().find(|t| t.eq_ignore_ascii_case(text)).map(|t| t.to_string()).ok_or_else(|| {
        anyhow::anyhow!("grid: {text:?} is not a KV cache type ({})", known.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crosses_every_axis_and_serves_with_np() {
        let grid = Grid::parse("ctk=f16,q8_0,q4_0 ctv=f16 depth=0,8k np=1,2 t=2", false).unwrap();
        assert_eq!(grid.kv.len(), 3);
        assert_eq!(grid.depth_tokens, [0, 8192]);
        let plan = grid.plan(64, 16);
        let bench = plan.iter().filter(|p| p.kind == PointKind::Bench).count();
        let serve = plan.iter().filter(|p| p.kind == PointKind::Serve).count();
        assert_eq!((bench, serve), (6, 12));
        assert_eq!(plan[0].kind, PointKind::Bench, "bench points first");
        let mut keys: Vec<_> = plan.iter().map(|p| p.key.clone()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), plan.len(), "every point has its own key");
        assert_eq!(
            plan[0].key,
            "bench ctk=f16 ctv=f16 ub=- b=- t=2 fa=- ngl=- depth=0 p=64 n=16 np=- spec=0"
        );
    }

    #[test]
    fn kv_pairs_types_and_draft_adds_speculative_serving() {
        let grid = Grid::parse("kv=f16,q4_0", true).unwrap();
        assert_eq!(
            grid.kv,
            [(Some("f16".into()), Some("f16".into())), (Some("q4_0".into()), Some("q4_0".into()))]
        );
        assert_eq!((grid.parallel.clone(), grid.speculative.clone()), (vec![1], vec![true]));
        let grid = Grid::parse("np=2 spec=0,1", true).unwrap();
        assert_eq!(grid.plan(8, 8).len(), 3);
    }

    #[test]
    fn rejects_nonsense_with_the_reason() {
        let err = |t: &str| format!("{:#}", Grid::parse(t, false).unwrap_err());
        assert!(err("ctk=q7_0").contains("KV cache type"));
        assert!(err("foo=1").contains("unknown axis"));
        assert!(err("depth=lots").contains("whole number"));
        assert!(err("np=0").contains("at least 1"));
        assert!(err("spec=1").contains("--draft"));
        assert!(err("kv=f16 ctk=q8_0").contains("not both"));
        assert!(err("t=1 t=2").contains("twice"));
        assert!(err("ub").contains("NAME=VALUES"));
    }
}
