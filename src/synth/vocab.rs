//! The SentencePiece-style vocabulary of the synthetic models, as llama.cpp's SPM tokenizer
//! wants it (see shared/specs/llama-server.md 1.2 and candle-decoder.md 2):
//! - token strings must be unique (llama.cpp asserts on duplicates);
//! - the 256 byte tokens `<0x00>`..`<0xFF>` must exist: SPM finds the newline through them and
//!   falls back to them for unknown characters; without them tokenizing an unknown character
//!   aborts llama-server;
//! - token types are an INT32 array, scores F32.

use candle_core::quantized::gguf_file::Value;

pub const UNK_ID: u32 = 0;
pub const BOS_ID: u32 = 1;
pub const EOS_ID: u32 = 2;
pub const IM_START_ID: u32 = 3;
/// `<|im_end|>`: the end of a ChatML turn, llama.cpp's "end of turn" token.
pub const IM_END_ID: u32 = 4;

// llama.cpp's token types.
const NORMAL: i32 = 1;
const UNKNOWN: i32 = 2;
const CONTROL: i32 = 3;
const BYTE: i32 = 6;

/// ChatML, so llama-server's /v1/chat/completions can format messages.
pub const CHATML_TEMPLATE: &str = "{% for message in messages %}\
{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}\
{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

pub struct Vocabulary {
    pub tokens: Vec<String>,
    pub scores: Vec<f32>,
    pub types: Vec<i32>,
}

impl Vocabulary {
    /// 1058 tokens: 5 special, 256 bytes, `▁`, the 94 printable ASCII characters, `▁a`..`▁z`
    /// and the 676 lowercase bigrams. Longer pieces score higher, so SPM merges them first.
    pub fn spm_tiny() -> Self {
        let mut v = Self { tokens: Vec::new(), scores: Vec::new(), types: Vec::new() };
        for (text, kind) in [
            ("<unk>", UNKNOWN),
            ("<s>", CONTROL),
            ("</s>", CONTROL),
            ("<|im_start|>", CONTROL),
            ("<|im_end|>", CONTROL),
        ] {
            v.push(text.to_string(), 0.0, kind);
        }
        for byte in 0..=255u8 {
            v.push(format!("<0x{byte:02X}>"), 0.0, BYTE);
        }
        v.push("\u{2581}".to_string(), -1000.0, NORMAL);
        for c in '!'..='~' {
            v.push(c.to_string(), -1000.0, NORMAL);
        }
        for c in 'a'..='z' {
            v.push(format!("\u{2581}{c}"), -10.0, NORMAL);
        }
        for a in 'a'..='z' {
            for b in 'a'..='z' {
                v.push(format!("{a}{b}"), -20.0, NORMAL);
            }
        }
        v
    }

    /// [`Vocabulary::spm_tiny`] grown to `n` tokens with pieces `▁t{id}`, for synthetic models
    /// with a real family's vocabulary size.
    pub fn spm_sized(n: usize) -> Self {
        let mut v = Self::spm_tiny();
        while v.len() < n {
            let text = format!("\u{2581}t{}", v.len());
            v.push(text, -30.0, NORMAL);
        }
        v
    }

    fn push(&mut self, text: String, score: f32, kind: i32) {
        // A small per-id offset makes every score distinct, so merges are deterministic.
        self.scores.push(score - self.tokens.len() as f32 * 1e-3);
        self.tokens.push(text);
        self.types.push(kind);
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The `tokenizer.*` metadata, with the value types llama.cpp demands.
    pub fn metadata(&self) -> Vec<(String, Value)> {
        let strings = self.tokens.iter().map(|t| Value::String(t.clone())).collect();
        vec![
            ("tokenizer.ggml.model".into(), Value::String("llama".into())),
            ("tokenizer.ggml.tokens".into(), Value::Array(strings)),
            (
                "tokenizer.ggml.scores".into(),
                Value::Array(self.scores.iter().map(|&s| Value::F32(s)).collect()),
            ),
            (
                "tokenizer.ggml.token_type".into(),
                Value::Array(self.types.iter().map(|&t| Value::I32(t)).collect()),
            ),
            ("tokenizer.ggml.unknown_token_id".into(), Value::U32(UNK_ID)),
            ("tokenizer.ggml.bos_token_id".into(), Value::U32(BOS_ID)),
            ("tokenizer.ggml.eos_token_id".into(), Value::U32(EOS_ID)),
            ("tokenizer.ggml.eot_token_id".into(), Value::U32(IM_END_ID)),
            ("tokenizer.ggml.add_bos_token".into(), Value::Bool(true)),
            ("tokenizer.ggml.add_eos_token".into(), Value::Bool(false)),
            ("tokenizer.chat_template".into(), Value::String(CHATML_TEMPLATE.into())),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn has_unique_tokens_and_all_bytes() {
        let v = Vocabulary::spm_tiny();
        assert_eq!(v.len(), 1058);
        assert_eq!(v.tokens.iter().collect::<HashSet<_>>().len(), v.len());
        assert_eq!(v.types.iter().filter(|&&t| t == BYTE).count(), 256);
        assert_eq!(v.tokens[IM_END_ID as usize], "<|im_end|>");
        assert_eq!(v.tokens[5 + 0x0A], "<0x0A>");
    }
}
