//! The request JSON (see `README.md`).

use mpcw_plugin_sdk::{base58, request_kind, PluginError, Result};
use serde::Deserialize;

use crate::message::{self, Instruction, Pubkey, Version};
use crate::token;

/// A Solana request, by its `kind`.
#[derive(Debug)]
pub enum Request {
    /// A SOL transfer from the wallet.
    Transfer(Transfer),
    /// An SPL token transfer between associated token accounts.
    TokenTransfer(TokenTransfer),
    /// An off-chain message (text) to sign.
    Message(OffchainText),
    /// A transaction the Dapp built, in wire format.
    Transaction(DappTransaction),
    /// Bytes to sign as they are (the Wallet Standard's `solana:signMessage`).
    RawMessage(RawMessage),
}

/// Bytes to sign as they are.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMessage {
    /// The bytes, base64.
    pub message: String,
}

/// A transaction the Dapp built (as `@solana/web3.js` serializes it, signatures not required).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DappTransaction {
    /// The wire transaction in base64.
    pub transaction: String,
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

/// An SPL token transfer: from the wallet's associated token account for `mint` to the
/// recipient's, with `TransferChecked`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenTransfer {
    /// The wallet's address, if the caller wants it checked.
    #[serde(default)]
    pub from: Option<String>,
    /// The recipient's wallet address (the owner of the destination token account), base58.
    pub to: String,
    /// The token's mint, base58.
    pub mint: String,
    /// Amount in the token's base units (number or decimal string).
    pub amount: serde_json::Value,
    /// The mint's decimals; the token program refuses the transfer if they differ.
    pub decimals: u8,
    /// The token's symbol, shown in the summary.
    #[serde(default)]
    pub symbol: Option<String>,
    /// `"token"` (default) or `"token-2022"`.
    #[serde(default)]
    pub token_program: Option<String>,
    /// Create the recipient's token account first if it does not exist (the wallet pays its
    /// rent). Default false.
    #[serde(default)]
    pub create_recipient_account: bool,
    /// Recent blockhash, base58.
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

/// What a transaction moves.
#[derive(Debug)]
pub enum Asset {
    /// Lamports, with the system program.
    Sol {
        /// Amount.
        lamports: u64,
    },
    /// SPL tokens, between associated token accounts.
    Token {
        /// The mint.
        mint: Pubkey,
        /// Token or Token-2022.
        program: Pubkey,
        /// Amount in base units.
        amount: u64,
        /// The mint's decimals.
        decimals: u8,
        /// The symbol to show, if given.
        symbol: Option<String>,
        /// Whether the recipient's account is created first.
        create_recipient_account: bool,
    },
}

/// A transfer with every field checked.
#[derive(Debug)]
pub struct Checked {
    /// Fee payer and sender.
    pub from: Pubkey,
    /// Recipient (for tokens: the owner of the destination token account).
    pub to: Pubkey,
    /// What is sent.
    pub asset: Asset,
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
        let (kind, fields) = request_kind(json)?;
        Ok(match kind.as_str() {
            "transfer" => Request::Transfer(fields.parse()?),
            "token_transfer" => Request::TokenTransfer(fields.parse()?),
            "message" => Request::Message(fields.parse()?),
            "transaction" => Request::Transaction(fields.parse()?),
            "raw_message" => Request::RawMessage(fields.parse()?),
            other => {
                return Err(PluginError::unsupported_choice(
                    "kind",
                    other,
                    &[
                        "transfer",
                        "token_transfer",
                        "message",
                        "transaction",
                        "raw_message",
                    ],
                ))
            }
        })
    }
}

fn amount(v: &serde_json::Value, what: &str) -> Result<u64> {
    let bad =
        || PluginError::invalid_request(format!("{what}: expected an integer from 0 to 2^64-1"));
    match v {
        serde_json::Value::Number(n) => n.as_u64().ok_or_else(bad),
        serde_json::Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

/// The fields every transaction request shares.
struct Common<'a> {
    from: &'a Option<String>,
    recent_blockhash: &'a str,
    compute_unit_limit: Option<u32>,
    compute_unit_price: Option<u64>,
    version: &'a Option<serde_json::Value>,
}

impl Common<'_> {
    fn check(&self, payer: Option<Pubkey>, to: Pubkey, asset: Asset) -> Result<Checked> {
        let from = match self.from {
            Some(from) => Some(base58::decode_fixed::<32>(from, "from")?),
            None => None,
        };
        if let (Some(from), Some(payer)) = (from, payer) {
            if from != payer {
                return Err(PluginError::invalid_request(
                    "from: is not this wallet's address",
                ));
            }
        }
        // Without a key the request is only being checked: the result is never signed, and
        // any payer will do for its shape.
        let payer = payer.or(from).unwrap_or_default();
        let version = match self.version {
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
            to,
            asset,
            blockhash: base58::decode_fixed(self.recent_blockhash, "recentBlockhash")?,
            limit: self.compute_unit_limit,
            price: self.compute_unit_price,
            version,
        })
    }
}

impl Transfer {
    /// Check every field; `payer` is the wallet's key (`None`: checked before a wallet is
    /// chosen, `from` for form only).
    pub fn check(&self, payer: Option<Pubkey>) -> Result<Checked> {
        Common {
            from: &self.from,
            recent_blockhash: &self.recent_blockhash,
            compute_unit_limit: self.compute_unit_limit,
            compute_unit_price: self.compute_unit_price,
            version: &self.version,
        }
        .check(
            payer,
            base58::decode_fixed(&self.to, "to")?,
            Asset::Sol {
                lamports: amount(&self.lamports, "lamports")?,
            },
        )
    }
}

impl TokenTransfer {
    /// Check every field; `payer` is the wallet's key (`None`: checked before a wallet is
    /// chosen, `from` for form only).
    pub fn check(&self, payer: Option<Pubkey>) -> Result<Checked> {
        let program = match self.token_program.as_deref() {
            None | Some("token") => token::TOKEN_PROGRAM,
            Some("token-2022") => token::TOKEN_2022_PROGRAM,
            Some(other) => {
                return Err(PluginError::invalid_request(format!(
                    "tokenProgram: expected \"token\" or \"token-2022\", got {other:?}"
                )))
            }
        };
        if let Some(symbol) = &self.symbol {
            if symbol.is_empty()
                || symbol.chars().count() > 16
                || symbol.chars().any(char::is_control)
            {
                return Err(PluginError::invalid_request(
                    "symbol: 1 to 16 printable characters",
                ));
            }
        }
        Common {
            from: &self.from,
            recent_blockhash: &self.recent_blockhash,
            compute_unit_limit: self.compute_unit_limit,
            compute_unit_price: self.compute_unit_price,
            version: &self.version,
        }
        .check(
            payer,
            base58::decode_fixed(&self.to, "to")?,
            Asset::Token {
                mint: base58::decode_fixed(&self.mint, "mint")?,
                program,
                amount: amount(&self.amount, "amount")?,
                decimals: self.decimals,
                symbol: self.symbol.clone(),
                create_recipient_account: self.create_recipient_account,
            },
        )
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
        match &self.asset {
            Asset::Sol { lamports } => out.push(message::transfer(self.from, self.to, *lamports)),
            Asset::Token {
                mint,
                program,
                amount,
                decimals,
                create_recipient_account,
                ..
            } => {
                if *create_recipient_account {
                    out.push(token::create_associated_account_idempotent(
                        self.from, self.to, *mint, *program,
                    ));
                }
                out.push(token::transfer_checked(
                    *program,
                    token::associated_account(&self.from, mint, program),
                    *mint,
                    token::associated_account(&self.to, mint, program),
                    self.from,
                    *amount,
                    *decimals,
                ));
            }
        }
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
