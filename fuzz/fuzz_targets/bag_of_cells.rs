//! The TON plugin's bag-of-cells decoder on any bytes; what decodes must encode again to a bag
//! that decodes to the same root hash.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mpcw_plugin_ton::cell::{parse_boc, serialize_boc};

fuzz_target!(|data: &[u8]| {
    if let Ok(root) = parse_boc(data) {
        let again = parse_boc(&serialize_boc(&root)).expect("a re-encoded bag decodes");
        assert_eq!(again.hash(), root.hash());
    }
});
