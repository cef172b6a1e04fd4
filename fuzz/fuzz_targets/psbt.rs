//! The Bitcoin plugin's PSBT decoder and signer on any bytes, given as a PSBT request (base64)
//! on a SegWit (ECDSA) or Taproot (BIP-340) network: the first byte picks which.

#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use mpcw_fuzz::{networks, run_plugin};

fuzz_target!(|data: &[u8]| {
    let [pick, psbt @ ..] = data else {
        return;
    };
    let mut options = networks("bitcoin");
    let (network, scheme) = options.swap_remove(*pick as usize % options.len());
    let request = serde_json::json!({
        "kind": "psbt",
        "psbt": base64::engine::general_purpose::STANDARD.encode(psbt),
    });
    run_plugin("bitcoin", &request.to_string(), network, scheme, *pick);
});
