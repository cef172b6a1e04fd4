//! Messages: EIP-191 `personal_sign`, and the 65-byte signature format shared with EIP-712.

use mpcw_plugin_sdk::{hexstr, Finalized};

use crate::request::CheckedSignature;

/// The EIP-191 version 0x45 preimage: "\x19Ethereum Signed Message:\n" || len || message.
pub fn preimage(message: &[u8]) -> Vec<u8> {
    let mut out = format!("\x19Ethereum Signed Message:\n{}", message.len()).into_bytes();
    out.extend_from_slice(message);
    out
}

/// r || s || v with v = 27 + recovery id, as `personal_sign` and `eth_signTypedData_v4` return.
pub fn finalize(sig: &CheckedSignature) -> Finalized {
    let mut raw = sig.rs.to_vec();
    raw.push(27 + sig.recovery_id);
    Finalized {
        encoded: hexstr::encode_0x(&raw),
        raw,
        encoding: "hex".into(),
        id: String::new(),
    }
}
