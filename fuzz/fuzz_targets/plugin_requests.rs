//! Each plugin's request parser, summary and finalizer on any request text: the first byte picks
//! the family, the second its network and the signatures' filler, the rest is the request (JSON
//! as the plugin documents it; the corpus holds the documented examples). No panic, no trap:
//! every bad request is an error value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mpcw_fuzz::{networks, run_plugin, FAMILIES};

fuzz_target!(|data: &[u8]| {
    let [family, pick, rest @ ..] = data else {
        return;
    };
    let Ok(request) = std::str::from_utf8(rest) else {
        return;
    };
    let family = FAMILIES[*family as usize % FAMILIES.len()];
    let mut options = networks(family);
    let (network, scheme) = options.swap_remove(*pick as usize % options.len());
    run_plugin(family, request, network, scheme, *pick);
});
