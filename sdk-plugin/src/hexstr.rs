//! Hex strings as chains write them.

use crate::PluginError;

/// Decode hex with or without a `0x` prefix. `what` names the field in the error.
pub fn decode(s: &str, what: &str) -> Result<Vec<u8>, PluginError> {
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    hex::decode(digits).map_err(|e| PluginError::invalid_request(format!("{what}: {e}")))
}

/// Decode hex into exactly `N` bytes.
pub fn decode_fixed<const N: usize>(s: &str, what: &str) -> Result<[u8; N], PluginError> {
    let bytes = decode(s, what)?;
    let len = bytes.len();
    bytes
        .try_into()
        .map_err(|_| PluginError::invalid_request(format!("{what}: expected {N} bytes, got {len}")))
}

/// Encode as lowercase hex with a `0x` prefix.
pub fn encode_0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}
