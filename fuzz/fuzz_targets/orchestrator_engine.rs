//! A whole conversation through the conversation engine, state threaded through its JSON
//! columns; see `src/engine.rs` for the input format and the invariants.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    abcai_fuzz::engine::check(data);
});
