#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| golb_fuzz::gateway_errors(data));
