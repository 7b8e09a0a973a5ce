#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    halo_collectors::fuzzing::with_file(data, halo_top::fuzzing::session_file)
});
