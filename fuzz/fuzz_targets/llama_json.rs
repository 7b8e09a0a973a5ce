#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| halo_collectors::fuzzing::llama_json(data));
