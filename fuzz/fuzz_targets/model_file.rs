#![no_main]
//! Fuzz target: see `tests/fuzz_support/mod.rs` for what it checks.

#[path = "../../tests/fuzz_support/mod.rs"]
mod fuzz_support;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_support::model_file(data));
