//! The request JSON (see `README.md`).

use mpcw_plugin_sdk::{base58, parse_request, PluginError, Result};
use serde::Deserialize;

use crate::message::{self, Instruction, Pubkey, Version};

/// A Solana request.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// A SOL transfer from the wallet.
    Transfer(Transfer),
    /// An off-chain message (text) to sign.
    Message(OffchainText),
}

/// An off-chain message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffchainText {
    /// The text.
    pub message: String,
}

/// A SOL transfer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Transfer {
    /// The wallet's address, if the caller wants it checked.
    #[serde(default)]
    pub from: Option<String>,
    /// Recipient, base58.
    pub to: String,
    /// Amount in lamports (number or decimal string).
    pub lamports: serde_json::Value,
    /// Recent blockhash, base58 (the transaction is valid for about 150 blocks after it).
    pub recent_blockhash: String,
    /// Compute unit limit (`SetComputeUnitLimit`).
    #[serde(default)]
    pub compute_unit_limit: Option<u32>,
    /// Priority fee in micro-lamports per compute unit (`SetComputeUnitPrice`).
    #[serde(default)]
    pub compute_unit_price: Option<u64>,
    /// `"legacy"` (default) or `0`.
    #[serde(default)]
    pub version: Option<serde_json::Value>,
}

/// A transfer with every field checked.
#[derive(Debug)]
pub struct Checked {
    /// Fee payer and sender.
    pub from: Pubkey,
    /// Recipient.
    pub to: Pubkey,
    /// Amount.
    pub lamports: u64,
    /// Blockhash.
    pub blockhash: [u8; 32],
    /// Compute unit limit.
    pub limit: Option<u32>,
    /// Priority fee price.
    pub price: Option<u64>,
    /// Message format.
    pub version: Version,
}

impl Request {
    /// Parse request JSON.
    pub fn parse(json: &str) -> Result<Self> {
        parse_request(json)
    }
}

fn lamports(v: &serde_json::Value) -> Result<u64> {
    let bad = || PluginError::invalid_request("lamports: expected an integer from 0 to 2^64-1");
    match v {
        serde_json::Value::Number(n) => n.as_u64().ok_or_else(bad),
        serde_json::Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

impl Transfer {
    /// Check every field; `payer` is the wallet's key.
    pub fn check(&self, payer: Pubkey) -> Result<Checked> {
        if let Some(from) = &self.from {
            if base58::decode_fixed::<32>(from, "from")? != payer {
                return Err(PluginError::invalid_request(
                    "from: is not this wallet's address",
                ));
            }
        }
        let version = match &self.version {
            None => Version::Legacy,
            Some(serde_json::Value::String(s)) if s == "legacy" => Version::Legacy,
            Some(serde_json::Value::Number(n)) if n.as_u64() == Some(0) => Version::V0,
            Some(other) => {
                return Err(PluginError::invalid_request(format!(
                    "version: expected \"legacy\" or 0, got {other}"
                )))
            }
        };
        if let Some(limit) = self.compute_unit_limit {
            if limit == 0 || limit > crate::MAX_COMPUTE_UNITS {
                return Err(PluginError::invalid_request(format!(
                    "computeUnitLimit: {limit} is outside 1..={}",
                    crate::MAX_COMPUTE_UNITS
                )));
            }
        }
        Ok(Checked {
            from: payer,
            to: base58::decode_fixed(&self.to, "to")?,
            lamports: lamports(&self.lamports)?,
            blockhash: base58::decode_fixed(&self.recent_blockhash, "recentBlockhash")?,
            limit: self.compute_unit_limit,
            price: self.compute_unit_price,
            version,
        })
    }
}

impl Checked {
    /// The instructions: compute budget first, then the transfer.
    pub fn instructions(&self) -> Vec<Instruction> {
        let mut out = Vec::new();
        if let Some(limit) = self.limit {
            out.push(message::set_compute_unit_limit(limit));
        }
        if let Some(price) = self.price {
            out.push(message::set_compute_unit_price(price));
        }
        out.push(message::transfer(self.from, self.to, self.lamports));
        out
    }

    /// The message bytes the wallet signs.
    pub fn message(&self) -> Vec<u8> {
        message::compile(
            self.from,
            &self.instructions(),
            self.blockhash,
            self.version,
        )
    }
}
