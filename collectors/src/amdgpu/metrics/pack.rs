//! Test support: builds `gpu_metrics` blobs from the layout tables, the way the kernel does
//! (0xFF everywhere, then the header, then each field the firmware supports).
//!
//! Fixture blobs are made only by this packer (see `fixture_blobs`), never edited by hand.

use super::layout::{Field, Kind, Layout};

pub struct Packer {
    layout: &'static Layout,
    bytes: Vec<u8>,
}

impl Packer {
    /// A table of the given version with every field "not supported".
    pub fn new(layout: &'static Layout) -> Self {
        let mut packer = Self { layout, bytes: vec![0xFF; layout.size] };
        let size = u64::try_from(layout.size).unwrap_or(u64::MAX);
        packer = packer.set("structure_size", size);
        packer = packer.set("format_revision", layout.format_revision.into());
        packer.set("content_revision", layout.content_revision.into())
    }

    /// Sets a scalar field (or element 0 of an array). Panics on a name the layout lacks or a
    /// value too wide for the field: a mistake in a test, not an input.
    pub fn set(self, name: &str, value: u64) -> Self {
        self.set_at(name, 0, value)
    }

    /// Sets an array field from its first element on.
    pub fn set_array(mut self, name: &str, values: &[u64]) -> Self {
        let field = self.field(name);
        assert!(values.len() <= field.count, "{name} has {} elements", field.count);
        for (index, value) in values.iter().enumerate() {
            self = self.set_at(name, index, *value);
        }
        self
    }

    /// Sets `name[index]`.
    pub fn set_at(mut self, name: &str, index: usize, value: u64) -> Self {
        let field = self.field(name);
        assert!(index < field.count, "{name}[{index}] is out of range");
        let width = field.kind.bytes();
        let max = match field.kind {
            Kind::U8 => u64::from(u8::MAX),
            Kind::U16 => u64::from(u16::MAX),
            Kind::U32 => u64::from(u32::MAX),
            Kind::U64 => u64::MAX,
        };
        assert!(value <= max, "{name} = {value} does not fit in {width} bytes");
        let start = field.offset + index * width;
        self.bytes[start..start + width].copy_from_slice(&value.to_le_bytes()[..width]);
        self
    }

    /// Sets fields from `name=value` pairs, the form used in the spec (`--set x=1`).
    pub fn set_all(mut self, pairs: &[(&str, u64)]) -> Self {
        for (name, value) in pairs {
            self = self.set(name, *value);
        }
        self
    }

    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }

    fn field(&self, name: &str) -> &'static Field {
        match self.layout.field(name) {
            Some(field) => field,
            None => panic!("{} has no field {name}", self.layout.version()),
        }
    }
}
