//! A header-only GGUF writer, for tests and benchmarks: it writes the metadata and tensor infos
//! of a model of any size, then extends the file to its full length with a hole (`set_len`), so
//! a "4 GB model" takes a few hundred kB of disk and milliseconds to make. candle's writer needs
//! every tensor's data in memory, which is impossible at these sizes.
//!
//! The file is GGUF v3 with 32-byte alignment, laid out as llama.cpp writes it: each tensor's
//! data padded to the alignment. Reading the tensor data of such a file gives zeros.
//!
//! A model can also be described in a small text format (see [`SparseGguf::parse_spec`]), which
//! is how the test fixtures under `fixtures/gguf/` describe real published models.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::types::GgmlType;

const ALIGNMENT: u64 = 32;

/// A metadata value to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    U32(u32),
    I32(i32),
    U64(u64),
    F32(f32),
    Bool(bool),
    Str(String),
    U32s(Vec<u32>),
    I32s(Vec<i32>),
    F32s(Vec<f32>),
    Strs(Vec<String>),
}

/// One tensor: its name, ggml dims (row length first), type id and data size.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorSpec {
    pub name: String,
    pub dims: Vec<u64>,
    pub type_id: u32,
    pub bytes: u64,
}

impl TensorSpec {
    /// A tensor of a known type; `None` when the dims are not whole blocks of that type.
    pub fn new(name: &str, dims: &[u64], ggml_type: GgmlType) -> Option<TensorSpec> {
        let elements = dims.iter().product();
        Some(TensorSpec {
            name: name.into(),
            dims: dims.to_vec(),
            type_id: ggml_type.id,
            bytes: ggml_type.bytes_for(elements)?,
        })
    }
}

/// A model header to write.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseGguf {
    pub metadata: Vec<(String, Value)>,
    pub tensors: Vec<TensorSpec>,
}

impl SparseGguf {
    pub fn kv(&mut self, key: &str, value: Value) -> &mut Self {
        self.metadata.push((key.into(), value));
        self
    }

    /// Adds a tensor of a named ggml type (`q4_K`, `f32`...). Panics on a typo or on dims that
    /// are not whole blocks: this is test tooling, and a wrong fixture must fail loudly.
    pub fn tensor(&mut self, name: &str, dims: &[u64], type_name: &str) -> &mut Self {
        let ggml_type = GgmlType::from_name(type_name)
            .unwrap_or_else(|| panic!("unknown ggml type {type_name:?}"));
        let spec = TensorSpec::new(name, dims, ggml_type)
            .unwrap_or_else(|| panic!("{name}: {dims:?} is not whole {type_name} blocks"));
        self.tensors.push(spec);
        self
    }

    /// Bytes of the data section: each tensor padded to the alignment.
    pub fn data_bytes(&self) -> u64 {
        self.tensors.iter().map(|t| t.bytes.next_multiple_of(ALIGNMENT)).sum()
    }

    /// Writes the header and extends the file to its full size with a hole. Returns the size.
    pub fn write(&self, path: &Path) -> std::io::Result<u64> {
        let file = File::create(path)?;
        let mut w = BufWriter::new(file);
        w.write_all(b"GGUF")?;
        w.write_all(&3u32.to_le_bytes())?;
        w.write_all(&(self.tensors.len() as u64).to_le_bytes())?;
        w.write_all(&(self.metadata.len() as u64).to_le_bytes())?;
        let mut header_bytes = 24u64;
        for (key, value) in &self.metadata {
            header_bytes += write_str(&mut w, key)?;
            header_bytes += write_value(&mut w, value)?;
        }
        let mut offset = 0u64;
        for t in &self.tensors {
            header_bytes += write_str(&mut w, &t.name)?;
            w.write_all(&(t.dims.len() as u32).to_le_bytes())?;
            for d in &t.dims {
                w.write_all(&d.to_le_bytes())?;
            }
            w.write_all(&t.type_id.to_le_bytes())?;
            w.write_all(&offset.to_le_bytes())?;
            header_bytes += 4 + 8 * t.dims.len() as u64 + 4 + 8;
            offset += t.bytes.next_multiple_of(ALIGNMENT);
        }
        let file = w.into_inner().map_err(|e| e.into_error())?;
        let size = header_bytes.next_multiple_of(ALIGNMENT) + offset;
        file.set_len(size)?;
        Ok(size)
    }

    /// Parses the text description of a model. One item per line, `#` starts a comment:
    ///
    /// ```text
    /// kv general.architecture str llama
    /// kv llama.block_count u32 32
    /// kv llama.rope.freq_base f32 10000
    /// kv llama.attention.head_count_kv u32[] 8 8 0 8
    /// kv tokenizer.ggml.tokens str[] 32000     # 32000 made-up token strings
    /// kv tokenizer.ggml.scores f32[] 32000     # 32000 zeros
    /// tensor token_embd.weight q4_K 4096 32000 # ggml dims: row length first
    /// ```
    pub fn parse_spec(text: &str) -> Result<SparseGguf, String> {
        let mut out = SparseGguf::default();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let fail = |what: &str| format!("line {}: {what}: {raw:?}", index + 1);
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["kv", key, kind, rest @ ..] => {
                    let value = parse_value(kind, rest).map_err(|e| fail(&e))?;
                    out.kv(key, value);
                }
                ["tensor", name, type_name, dims @ ..] if !dims.is_empty() => {
                    let dims: Vec<u64> = dims
                        .iter()
                        .map(|d| d.parse().map_err(|_| fail("bad dimension")))
                        .collect::<Result<_, _>>()?;
                    let ggml_type =
                        GgmlType::from_name(type_name).ok_or_else(|| fail("unknown ggml type"))?;
                    let spec = TensorSpec::new(name, &dims, ggml_type)
                        .ok_or_else(|| fail("dims are not whole blocks of the type"))?;
                    out.tensors.push(spec);
                }
                _ => return Err(fail("expected `kv KEY TYPE VALUE` or `tensor NAME TYPE DIMS`")),
            }
        }
        Ok(out)
    }
}

fn parse_value(kind: &str, rest: &[&str]) -> Result<Value, String> {
    let one = || match rest {
        [v] => Ok(*v),
        _ => Err(format!("{kind} takes one value")),
    };
    let num = |v: &str| v.parse::<f64>().map_err(|_| format!("{v:?} is not a number"));
    // Array lengths given alone (`str[] 32000`) make synthetic contents of that length.
    let count = || -> Result<Option<usize>, String> {
        match rest {
            [n] => n.parse().map(Some).map_err(|_| format!("{n:?} is not a count")),
            _ => Ok(None),
        }
    };
    Ok(match kind {
        "u32" => Value::U32(one()?.parse().map_err(|_| "not a u32".to_string())?),
        "i32" => Value::I32(one()?.parse().map_err(|_| "not an i32".to_string())?),
        "u64" => Value::U64(one()?.parse().map_err(|_| "not a u64".to_string())?),
        "f32" => Value::F32(num(one()?)? as f32),
        "bool" => Value::Bool(one()?.parse().map_err(|_| "not a bool".to_string())?),
        "str" => Value::Str(rest.join(" ")),
        "str[]" => match count()? {
            Some(n) => Value::Strs((0..n).map(|i| format!("t{i}")).collect()),
            None => Value::Strs(rest.iter().map(|s| s.to_string()).collect()),
        },
        "f32[]" => match count()? {
            Some(n) => Value::F32s(vec![0.0; n]),
            None => Value::F32s(
                rest.iter().map(|v| num(v).map(|x| x as f32)).collect::<Result<_, _>>()?,
            ),
        },
        "i32[]" => match count()? {
            Some(n) => Value::I32s(vec![1; n]),
            None => Value::I32s(
                rest.iter()
                    .map(|v| v.parse().map_err(|_| format!("{v:?} is not an i32")))
                    .collect::<Result<_, _>>()?,
            ),
        },
        "u32[]" => Value::U32s(
            rest.iter()
                .map(|v| v.parse().map_err(|_| format!("{v:?} is not a u32")))
                .collect::<Result<_, _>>()?,
        ),
        other => return Err(format!("unknown value type {other:?}")),
    })
}

fn write_str(w: &mut impl Write, s: &str) -> std::io::Result<u64> {
    w.write_all(&(s.len() as u64).to_le_bytes())?;
    w.write_all(s.as_bytes())?;
    Ok(8 + s.len() as u64)
}

/// Writes the value type and the value; returns the bytes written.
fn write_value(w: &mut impl Write, value: &Value) -> std::io::Result<u64> {
    fn array_head(w: &mut impl Write, element_type: u32, len: usize) -> std::io::Result<u64> {
        w.write_all(&9u32.to_le_bytes())?;
        w.write_all(&element_type.to_le_bytes())?;
        w.write_all(&(len as u64).to_le_bytes())?;
        Ok(16)
    }
    let tag = |w: &mut dyn Write, t: u32| w.write_all(&t.to_le_bytes());
    Ok(match value {
        Value::U32(v) => {
            tag(w, 4)?;
            w.write_all(&v.to_le_bytes())?;
            8
        }
        Value::I32(v) => {
            tag(w, 5)?;
            w.write_all(&v.to_le_bytes())?;
            8
        }
        Value::U64(v) => {
            tag(w, 10)?;
            w.write_all(&v.to_le_bytes())?;
            12
        }
        Value::F32(v) => {
            tag(w, 6)?;
            w.write_all(&v.to_le_bytes())?;
            8
        }
        Value::Bool(v) => {
            tag(w, 7)?;
            w.write_all(&[u8::from(*v)])?;
            5
        }
        Value::Str(s) => {
            tag(w, 8)?;
            4 + write_str(w, s)?
        }
        Value::U32s(v) => {
            let n = array_head(w, 4, v.len())?;
            v.iter().try_for_each(|x| w.write_all(&x.to_le_bytes()))?;
            n + 4 * v.len() as u64
        }
        Value::I32s(v) => {
            let n = array_head(w, 5, v.len())?;
            v.iter().try_for_each(|x| w.write_all(&x.to_le_bytes()))?;
            n + 4 * v.len() as u64
        }
        Value::F32s(v) => {
            let n = array_head(w, 6, v.len())?;
            v.iter().try_for_each(|x| w.write_all(&x.to_le_bytes()))?;
            n + 4 * v.len() as u64
        }
        Value::Strs(v) => {
            let mut n = array_head(w, 8, v.len())?;
            for s in v {
                n += write_str(w, s)?;
            }
            n
        }
    })
}
