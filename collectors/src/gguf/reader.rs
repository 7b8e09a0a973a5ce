//! Reads a GGUF file's header (metadata and tensor infos) without touching the tensor data.
//!
//! Layout (ggml `docs/gguf.md`): magic `GGUF`, version u32 (1, 2 or 3), tensor count, metadata
//! count, the metadata key/values, the tensor infos (name, dims, ggml type, offset into the data
//! section), then padding to `general.alignment` (32 by default) and the data. Version 1 used
//! u32 for counts and lengths, later versions u64; everything is little-endian.
//!
//! Why not candle's `gguf_file::Content::read`: it rejects any tensor type it has no kernels
//! for (gpt-oss's MXFP4, the IQ quants common in large models), so it cannot profile those
//! files at all; and it allocates every tokenizer string (300 000 of them for Qwen3) and asks
//! the OS for the file position before each one. Here string arrays are skipped, numeric
//! arrays kept only when short (per-layer hyper-parameters), and reads go through one buffer.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::GgufError;

const MAGIC: &[u8; 4] = b"GGUF";
const DEFAULT_ALIGNMENT: u64 = 32;
/// Bytes read from the file at a time; a typical header (vocabulary included) is 1-10 MB.
const CHUNK_BYTES: usize = 1 << 20;
/// Limits that only a corrupt file exceeds; they keep a bad length from allocating gigabytes.
const MAX_STRING_BYTES: u64 = 64 << 20;
const MAX_COUNT: u64 = 1 << 30;
const MAX_DIMS: u32 = 4;
const MAX_NESTING: usize = 8;
/// Numeric arrays up to this length are kept (per-layer head counts); longer ones (token scores,
/// token types) are skipped.
const MAX_KEPT_ARRAY: u64 = 4096;

/// A metadata value. Integers of every width become `Uint`/`Int`, floats `Float`.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    Uint(u64),
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    /// `numbers` holds the elements of a short numeric array; it is empty for string arrays and
    /// long arrays, of which only the length is kept.
    Array {
        len: u64,
        numbers: Vec<f64>,
    },
}

impl MetaValue {
    /// The value as an unsigned integer, when it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            MetaValue::Uint(v) => Some(v),
            MetaValue::Int(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// Numbers and bools as `f64` (scalar array elements are kept this way).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            MetaValue::Uint(v) => Some(v as f64),
            MetaValue::Int(v) => Some(v as f64),
            MetaValue::Float(v) => Some(v),
            MetaValue::Bool(b) => Some(f64::from(u8::from(b))),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetaValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// One tensor's entry in the header.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    /// ggml order: `dims[0]` is the row length (the fastest-varying dimension).
    pub dims: Vec<u64>,
    pub type_id: u32,
    /// Offset of the tensor's data from the start of the data section.
    pub offset: u64,
}

impl TensorInfo {
    pub fn elements(&self) -> Option<u64> {
        self.dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d))
    }
}

/// Everything before the tensor data.
#[derive(Debug, Clone)]
pub struct GgufHeader {
    pub version: u32,
    pub metadata: HashMap<String, MetaValue>,
    /// In file order.
    pub tensors: Vec<TensorInfo>,
    /// Where the data section starts in the file.
    pub data_offset: u64,
    pub file_size_bytes: u64,
}

impl GgufHeader {
    pub fn read(path: &Path) -> Result<GgufHeader, GgufError> {
        let file = File::open(path).map_err(|e| GgufError::io(path, e))?;
        let file_size_bytes = file.metadata().map_err(|e| GgufError::io(path, e))?.len();
        let mut r = Buffered {
            file,
            path: path.to_path_buf(),
            file_size_bytes,
            buf: Vec::new(),
            buf_start: 0,
            pos: 0,
        };

        let magic = r.bytes(4)?;
        if magic != MAGIC {
            return Err(GgufError::NotGguf {
                path: path.to_path_buf(),
                found: String::from_utf8_lossy(magic).escape_debug().to_string(),
            });
        }
        let version = r.u32()?;
        if !(1..=3).contains(&version) {
            return Err(r.corrupt(format!("unsupported GGUF version {version}")));
        }
        let wide = version >= 2;
        let tensor_count = r.count(wide, "tensor count")?;
        let kv_count = r.count(wide, "metadata count")?;

        let mut metadata = HashMap::new();
        for _ in 0..kv_count {
            let key = r.string(wide)?;
            let value_type = r.u32()?;
            let value = r.value(value_type, wide, 0)?;
            metadata.insert(key, value);
        }

        let mut tensors =
            Vec::with_capacity(usize::try_from(tensor_count).unwrap_or(0).min(1 << 16));
        for _ in 0..tensor_count {
            let name = r.string(wide)?;
            let n_dims = r.u32()?;
            if n_dims > MAX_DIMS {
                return Err(r.corrupt(format!("tensor {name:?} has {n_dims} dimensions")));
            }
            let dims = (0..n_dims).map(|_| r.length(wide)).collect::<Result<Vec<_>, _>>()?;
            let type_id = r.u32()?;
            let offset = r.u64()?;
            tensors.push(TensorInfo { name, dims, type_id, offset });
        }

        let alignment = match metadata.get("general.alignment").and_then(MetaValue::as_u64) {
            Some(a) if a > 0 && a.is_power_of_two() => a,
            Some(a) => {
                return Err(r.corrupt(format!("general.alignment {a} is not a power of two")));
            }
            None => DEFAULT_ALIGNMENT,
        };
        let data_offset = r.pos.div_ceil(alignment) * alignment;
        Ok(GgufHeader { version, metadata, tensors, data_offset, file_size_bytes })
    }
}

/// A forward reader over one buffer, so that skipping a 150 000-string vocabulary costs no
/// system call per string.
struct Buffered {
    file: File,
    path: PathBuf,
    file_size_bytes: u64,
    buf: Vec<u8>,
    /// File position of `buf[0]`.
    buf_start: u64,
    /// File position of the next byte to read.
    pos: u64,
}

impl Buffered {
    fn corrupt(&self, what: String) -> GgufError {
        GgufError::Corrupt { path: self.path.clone(), offset: self.pos, what }
    }

    /// The next `n` bytes.
    fn bytes(&mut self, n: usize) -> Result<&[u8], GgufError> {
        let end = self.pos + n as u64;
        if end > self.file_size_bytes {
            return Err(self.corrupt(format!(
                "the header runs past the end of the file ({} bytes): truncated or not a GGUF file",
                self.file_size_bytes
            )));
        }
        let buf_end = self.buf_start + self.buf.len() as u64;
        if self.pos < self.buf_start || end > buf_end {
            self.refill(n)?;
        }
        let start = (self.pos - self.buf_start) as usize;
        self.pos = end;
        Ok(&self.buf[start..start + n])
    }

    fn refill(&mut self, at_least: usize) -> Result<(), GgufError> {
        let want = at_least.max(CHUNK_BYTES) as u64;
        let len = want.min(self.file_size_bytes - self.pos) as usize;
        self.buf.resize(len, 0);
        self.file.seek(SeekFrom::Start(self.pos)).map_err(|e| GgufError::io(&self.path, e))?;
        self.file.read_exact(&mut self.buf).map_err(|e| GgufError::io(&self.path, e))?;
        self.buf_start = self.pos;
        Ok(())
    }

    fn skip(&mut self, n: u64) -> Result<(), GgufError> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.file_size_bytes => {
                self.pos = end;
                Ok(())
            }
            _ => Err(self.corrupt(format!("a length of {n} bytes runs past the end of the file"))),
        }
    }

    /// Skips `count` strings: a vocabulary of 150 000 tokens and as many merges is most of a
    /// real header, so strings that lie wholly in the buffer are stepped over in a tight loop.
    fn skip_strings(&mut self, mut count: u64, wide: bool) -> Result<(), GgufError> {
        let prefix = if wide { 8 } else { 4 };
        while count > 0 {
            let start = (self.pos.saturating_sub(self.buf_start)) as usize;
            let buffered =
                self.buf.get(start..).filter(|_| self.pos >= self.buf_start).unwrap_or(&[]);
            let mut at = 0usize;
            while count > 0 && at + prefix <= buffered.len() {
                let field = &buffered[at..at + prefix];
                let len = if wide {
                    u64::from_le_bytes(field.try_into().unwrap_or([0xff; 8]))
                } else {
                    u64::from(u32::from_le_bytes(field.try_into().unwrap_or([0xff; 4])))
                };
                if len > MAX_STRING_BYTES || at + prefix + len as usize > buffered.len() {
                    break;
                }
                at += prefix + len as usize;
                count -= 1;
            }
            self.pos += at as u64;
            if count > 0 {
                // The next string straddles the buffer's end (or is implausible): the checked way.
                let len = self.string_len(wide)?;
                self.skip(len)?;
                count -= 1;
            }
        }
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], GgufError> {
        let mut out = [0; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A length or count: u32 in GGUF v1, u64 since v2.
    fn length(&mut self, wide: bool) -> Result<u64, GgufError> {
        if wide { self.u64() } else { self.u32().map(u64::from) }
    }

    fn count(&mut self, wide: bool, what: &str) -> Result<u64, GgufError> {
        let n = self.length(wide)?;
        if n > MAX_COUNT {
            return Err(self.corrupt(format!("{what} {n} is implausible")));
        }
        Ok(n)
    }

    fn string_len(&mut self, wide: bool) -> Result<u64, GgufError> {
        let len = self.length(wide)?;
        if len > MAX_STRING_BYTES {
            return Err(self.corrupt(format!("a string of {len} bytes is implausible")));
        }
        Ok(len)
    }

    fn string(&mut self, wide: bool) -> Result<String, GgufError> {
        let len = self.string_len(wide)? as usize;
        let bytes = self.bytes(len)?;
        // Some writers add a trailing NUL; GGUF strings are not terminated.
        let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }

    /// Size in bytes of a fixed-size value type, `None` for strings and arrays.
    fn scalar_size(value_type: u32) -> Option<u64> {
        match value_type {
            0 | 1 | 7 => Some(1),
            2 | 3 => Some(2),
            4..=6 => Some(4),
            10..=12 => Some(8),
            _ => None,
        }
    }

    fn value(&mut self, value_type: u32, wide: bool, depth: usize) -> Result<MetaValue, GgufError> {
        Ok(match value_type {
            0 => MetaValue::Uint(u64::from(self.bytes(1)?[0])),
            1 => MetaValue::Int(i64::from(i8::from_le_bytes(self.array()?))),
            2 => MetaValue::Uint(u64::from(u16::from_le_bytes(self.array()?))),
            3 => MetaValue::Int(i64::from(i16::from_le_bytes(self.array()?))),
            4 => MetaValue::Uint(u64::from(self.u32()?)),
            5 => MetaValue::Int(i64::from(i32::from_le_bytes(self.array()?))),
            6 => MetaValue::Float(f64::from(f32::from_le_bytes(self.array()?))),
            7 => MetaValue::Bool(self.bytes(1)?[0] != 0),
            8 => MetaValue::Str(self.string(wide)?),
            9 => self.array_value(wide, depth)?,
            10 => MetaValue::Uint(self.u64()?),
            11 => MetaValue::Int(i64::from_le_bytes(self.array()?)),
            12 => MetaValue::Float(f64::from_le_bytes(self.array()?)),
            other => return Err(self.corrupt(format!("unknown metadata value type {other}"))),
        })
    }

    fn array_value(&mut self, wide: bool, depth: usize) -> Result<MetaValue, GgufError> {
        if depth >= MAX_NESTING {
            return Err(self.corrupt("arrays nested too deeply".into()));
        }
        let element_type = self.u32()?;
        let len = self.count(wide, "array length")?;
        match Self::scalar_size(element_type) {
            Some(_) if len <= MAX_KEPT_ARRAY => {
                let mut numbers = Vec::with_capacity(len as usize);
                for _ in 0..len {
                    let value = self.value(element_type, wide, depth + 1)?;
                    numbers.push(value.as_f64().unwrap_or(f64::NAN));
                }
                Ok(MetaValue::Array { len, numbers })
            }
            Some(size) => {
                self.skip(len.saturating_mul(size))?;
                Ok(MetaValue::Array { len, numbers: Vec::new() })
            }
            None if element_type == 8 => {
                self.skip_strings(len, wide)?;
                Ok(MetaValue::Array { len, numbers: Vec::new() })
            }
            None => {
                for _ in 0..len {
                    self.value(element_type, wide, depth + 1)?;
                }
                Ok(MetaValue::Array { len, numbers: Vec::new() })
            }
        }
    }
}
