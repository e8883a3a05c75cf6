//! `cargo fuzz run parse_and_map`: any bytes through parse → book → postings (the property is in src/lib.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ctvisma_fuzz::parse_and_map(data, ctvisma_fuzz::rules());
});
