//! ggml tensor types: how many elements a block holds and how many bytes it takes.
//!
//! Ids and layouts are ggml's (`ggml.h` `enum ggml_type` and the `type_traits` table); ids 4, 5,
//! 31-33 and 36-38 were removed from ggml and never appear in GGUF files. A type missing here
//! (a newer ggml) is not fatal: the profiler then measures the tensor from the data offsets.

/// One ggml tensor type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GgmlType {
    pub id: u32,
    pub name: &'static str,
    /// Elements per block (1 for plain floats and integers).
    pub block_elements: u64,
    /// Bytes per block.
    pub block_bytes: u64,
}

impl GgmlType {
    pub fn from_id(id: u32) -> Option<GgmlType> {
        TYPES.iter().find(|t| t.id == id).copied()
    }

    pub fn from_name(name: &str) -> Option<GgmlType> {
        TYPES.iter().find(|t| t.name.eq_ignore_ascii_case(name)).copied()
    }

    /// Bytes of a tensor of `elements` elements, or `None` when the count is not a whole number
    /// of blocks (a malformed file: ggml requires rows to be whole blocks).
    pub fn bytes_for(&self, elements: u64) -> Option<u64> {
        if !elements.is_multiple_of(self.block_elements) {
            return None;
        }
        (elements / self.block_elements).checked_mul(self.block_bytes)
    }

    /// Average bytes per element (bits per weight / 8).
    pub fn bytes_per_element(&self) -> f64 {
        self.block_bytes as f64 / self.block_elements as f64
    }
}

const fn t(id: u32, name: &'static str, block_elements: u64, block_bytes: u64) -> GgmlType {
    GgmlType { id, name, block_elements, block_bytes }
}

/// Names as llama.cpp prints them (`q4_K`, `iq2_xxs`...), sizes from ggml's block structs.
const TYPES: &[GgmlType] = &[
    t(0, "f32", 1, 4),
    t(1, "f16", 1, 2),
    t(2, "q4_0", 32, 18),
    t(3, "q4_1", 32, 20),
    t(6, "q5_0", 32, 22),
    t(7, "q5_1", 32, 24),
    t(8, "q8_0", 32, 34),
    t(9, "q8_1", 32, 36),
    t(10, "q2_K", 256, 84),
    t(11, "q3_K", 256, 110),
    t(12, "q4_K", 256, 144),
    t(13, "q5_K", 256, 176),
    t(14, "q6_K", 256, 210),
    t(15, "q8_K", 256, 292),
    t(16, "iq2_xxs", 256, 66),
    t(17, "iq2_xs", 256, 74),
    t(18, "iq3_xxs", 256, 98),
    t(19, "iq1_s", 256, 50),
    t(20, "iq4_nl", 32, 18),
    t(21, "iq3_s", 256, 110),
    t(22, "iq2_s", 256, 82),
    t(23, "iq4_xs", 256, 136),
    t(24, "i8", 1, 1),
    t(25, "i16", 1, 2),
    t(26, "i32", 1, 4),
    t(27, "i64", 1, 8),
    t(28, "f64", 1, 8),
    t(29, "iq1_m", 256, 56),
    t(30, "bf16", 1, 2),
    t(34, "tq1_0", 256, 54),
    t(35, "tq2_0", 256, 66),
    // gpt-oss ships its experts in MXFP4: 32 four-bit values and one shared E8M0 exponent.
    t(39, "mxfp4", 32, 17),
    t(40, "nvfp4", 64, 36),
    t(41, "q1_0", 128, 18),
    t(42, "q2_0", 64, 18),
];

/// The types llama.cpp accepts for its KV cache (`--cache-type-k/-v`).
pub const KV_CACHE_TYPES: &[&str] =
    &["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_quant_sizes_match_their_bits_per_weight() {
        // Q4_K is 4.5 bits per weight, Q6_K 6.5625, Q8_0 8.5.
        assert_eq!(GgmlType::from_name("q4_k").unwrap().bytes_per_element() * 8.0, 4.5);
        assert_eq!(GgmlType::from_name("Q6_K").unwrap().bytes_per_element() * 8.0, 6.5625);
        assert_eq!(GgmlType::from_id(8).unwrap().bytes_per_element() * 8.0, 8.5);
        assert_eq!(GgmlType::from_id(39).unwrap().bytes_per_element() * 8.0, 4.25);
    }

    #[test]
    fn whole_blocks_only() {
        let q4k = GgmlType::from_id(12).unwrap();
        assert_eq!(q4k.bytes_for(4096 * 4096), Some(4096 * 4096 / 256 * 144));
        assert_eq!(q4k.bytes_for(100), None);
        assert_eq!(GgmlType::from_id(4), None, "removed type id");
    }

    #[test]
    fn every_kv_cache_type_is_known() {
        for name in KV_CACHE_TYPES {
            assert!(GgmlType::from_name(name).is_some(), "{name}");
        }
    }
}
