//! A raw webhook body through signature verification, parsing and extraction, as
//! webhook-ingest handles it. Never panics; see `src/webhook.rs` for what is asserted.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    abcai_fuzz::webhook::check(body);
});
