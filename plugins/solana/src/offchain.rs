//! Off-chain messages as Solana's SDK signs them (`solana-offchain-message`, version 0): the
//! signing domain `"\xffsolana offchain"`, the header version `0`, the format (0: printable
//! ASCII, 1: UTF-8, both up to 1212 bytes so a Ledger can show them; 2: UTF-8 up to 65 515
//! bytes), the length as little-endian u16, and the message. The prefix keeps a signed message
//! from ever being a valid transaction.

use mpcw_plugin_sdk::{PluginError, Result};

const SIGNING_DOMAIN: &[u8] = b"\xffsolana offchain";
/// Longest message a Ledger can show: the packet size (1232) minus both headers.
const MAX_LEN_LEDGER: usize = 1232 - (SIGNING_DOMAIN.len() + 1) - 3;
/// Longest message at all: a u16 length minus both headers.
const MAX_LEN: usize = u16::MAX as usize - (SIGNING_DOMAIN.len() + 1) - 3;

/// The format byte of `text`.
fn format(text: &str) -> Result<u8> {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return Err(PluginError::invalid_request("message: empty"));
    }
    if bytes.len() > MAX_LEN {
        return Err(PluginError::invalid_request(format!(
            "message: {} bytes; the limit is {MAX_LEN}",
            bytes.len()
        )));
    }
    Ok(if bytes.len() > MAX_LEN_LEDGER {
        2
    } else if bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        0
    } else {
        1
    })
}

/// The bytes signed for `text`.
pub fn serialize(text: &str) -> Result<Vec<u8>> {
    let format = format(text)?;
    let mut out = SIGNING_DOMAIN.to_vec();
    out.push(0);
    out.push(format);
    out.extend((text.len() as u16).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    Ok(out)
}

/// A name for the format of `text`, for the summary.
pub fn format_name(text: &str) -> &'static str {
    match format(text) {
        Ok(0) => "printable ASCII",
        Ok(1) => "UTF-8 (fits a Ledger screen)",
        _ => "UTF-8 (too long for a Ledger)",
    }
}
