//! Byte-string messages as wallets receive them: UTF-8 text or 0x-hex.

use serde::Deserialize;

use crate::{hexstr, PluginError, Result};

/// A message to sign as bytes: Ethereum's `personal_sign`, Conflux's CIP-23 byte strings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    /// The message. 0x-prefixed hex is taken as bytes (as wallets do) unless `encoding` is
    /// "utf8".
    pub message: String,
    /// "utf8" or "hex"; guessed from the message when absent.
    pub encoding: Option<String>,
}

impl MessageRequest {
    /// The message bytes.
    pub fn bytes(&self) -> Result<Vec<u8>> {
        match self.encoding.as_deref() {
            Some("utf8") => Ok(self.message.as_bytes().to_vec()),
            Some("hex") => hexstr::decode(&self.message, "message"),
            None => {
                let m = &self.message;
                if m.starts_with("0x") && m.len().is_multiple_of(2) && hex::decode(&m[2..]).is_ok()
                {
                    hexstr::decode(m, "message")
                } else {
                    Ok(m.as_bytes().to_vec())
                }
            }
            Some(other) => Err(PluginError::invalid_request(format!(
                "encoding: expected \"utf8\" or \"hex\", got {other:?}"
            ))),
        }
    }
}
