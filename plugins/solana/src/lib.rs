//! The Solana chain plugin: SOL and SPL token transfers in legacy and v0 messages, with
//! compute-budget instructions, signed by the wallet's threshold Ed25519 key.
//!
//! Requests (JSON, see `README.md`): `{"kind": "transfer", "to", "lamports", "recentBlockhash",
//! "computeUnitLimit"?, "computeUnitPrice"?, "version"?: "legacy" | 0, "from"?}`,
//! `{"kind": "token_transfer", "to", "mint", "amount", "decimals", ...}` for SPL tokens,
//! `{"kind": "transaction", "transaction"}` for a transaction the Dapp built (base64 wire
//! format; the wallet signs its slot), and `{"kind": "message", "message"}` for an off-chain
//! message. The payload
//! is the message bytes themselves (Ed25519 signs the message, no hash); `finalize` checks the
//! signature and returns the wire transaction in base64, as `sendTransaction` takes it, with the
//! signature in base58 as its id.

mod message;
mod offchain;
mod request;
mod token;
mod wire;

use base64::Engine as _;
use mpcw_plugin_sdk::{
    amount::format_amount, base58, only_signature, signature_bytes, Address, Detail, Finalized,
    MessageHash, Network, Payload, Plugin, PluginError, PluginInfo, Prepared, PublicKey, Result,
    Scheme, Signature, Summary,
};

use request::{Asset, Checked, Request};

/// Most compute units a transaction may ask for.
pub const MAX_COMPUTE_UNITS: u32 = 1_400_000;
/// Lamports per signature, the base fee.
const LAMPORTS_PER_SIGNATURE: u64 = 5_000;
/// Compute units a transaction is given per instruction when it sets no limit.
const DEFAULT_UNITS_PER_INSTRUCTION: u64 = 200_000;

/// The plugin type exported to the host.
pub struct Solana;

fn payer(key: &PublicKey) -> Result<[u8; 32]> {
    if key.scheme != Scheme::Ed25519 {
        return Err(PluginError::invalid_public_key("Solana keys are Ed25519"));
    }
    key.bytes
        .as_slice()
        .try_into()
        .map_err(|_| PluginError::invalid_public_key("an Ed25519 key is 32 bytes"))
}

/// What a request signs: a transaction message the plugin built or the Dapp built, or an
/// off-chain message.
enum Signable {
    Transfer(Box<Checked>),
    Wire(Box<wire::Wire>),
    Text(String),
    Raw(Vec<u8>),
}

/// The longest raw message signed, bytes.
const MAX_RAW_MESSAGE: usize = 4096;

impl Signable {
    /// The request, checked for the wallet `key`; with no key, as far as it can be checked
    /// before a wallet is chosen.
    fn parse(request: &str, key: Option<&PublicKey>) -> Result<Self> {
        let payer = key.map(payer).transpose()?;
        Ok(match Request::parse(request)? {
            Request::Transfer(t) => Signable::Transfer(Box::new(t.check(payer)?)),
            Request::TokenTransfer(t) => Signable::Transfer(Box::new(t.check(payer)?)),
            Request::Message(m) => {
                offchain::serialize(&m.message)?;
                Signable::Text(m.message)
            }
            Request::Transaction(t) => {
                let wire = wire::Wire::parse(&base64_field(&t.transaction, "transaction")?)?;
                if let Some(payer) = payer {
                    wire.slot_of(&payer)?;
                }
                Signable::Wire(Box::new(wire))
            }
            Request::RawMessage(m) => {
                let bytes = base64_field(&m.message, "message")?;
                if bytes.is_empty() || bytes.len() > MAX_RAW_MESSAGE {
                    return Err(PluginError::invalid_request(format!(
                        "message: 1 to {MAX_RAW_MESSAGE} bytes"
                    )));
                }
                if wire::is_transaction_message(&bytes) {
                    return Err(PluginError::invalid_request(
                        "message: these bytes are a transaction message; sign it as a transaction",
                    ));
                }
                Signable::Raw(bytes)
            }
        })
    }

    fn bytes(&self) -> Result<Vec<u8>> {
        match self {
            Signable::Transfer(c) => Ok(c.message()),
            Signable::Wire(w) => Ok(w.message.clone()),
            Signable::Text(t) => offchain::serialize(t),
            Signable::Raw(b) => Ok(b.clone()),
        }
    }
}

/// The summary of a message: what is shown of it, its format, and warnings.
fn message_summary(
    key: &PublicKey,
    shown: String,
    format: String,
    warnings: Vec<String>,
) -> Result<Summary> {
    Ok(Summary {
        title: "Sign a message".into(),
        sender: Some(base58::encode(&payer(key)?)),
        recipient: None,
        amount: None,
        fee: None,
        contract_call: None,
        details: vec![Detail::new("Message", shown), Detail::new("Format", format)],
        warnings,
    })
}

fn raw_summary(bytes: &[u8], key: &PublicKey) -> Result<Summary> {
    let shown = match std::str::from_utf8(bytes) {
        Ok(text) if !text.chars().any(|c| c.is_control() && c != '\n') => {
            text.chars().take(500).collect()
        }
        _ => format!("0x{}", hex::encode(&bytes[..bytes.len().min(250)])),
    };
    let format = format!("{} bytes, signed as they are", bytes.len());
    message_summary(key, shown, format, vec![])
}

fn text_summary(text: &str, key: &PublicKey) -> Result<Summary> {
    let shown: String = text.chars().take(500).collect();
    let mut warnings = Vec::new();
    if shown.len() < text.len() {
        warnings.push(format!(
            "Only the first 500 of {} characters are shown.",
            text.chars().count()
        ));
    }
    message_summary(key, shown, offchain::format_name(text).into(), warnings)
}

fn summary(c: &Checked, network: &Network) -> Summary {
    let units = c
        .limit
        .map(u64::from)
        .unwrap_or(DEFAULT_UNITS_PER_INSTRUCTION);
    // Priority fee: price (micro-lamports per unit) times units, rounded up.
    let priority = c
        .price
        .map(|p| (u128::from(p) * u128::from(units)).div_ceil(1_000_000))
        .unwrap_or(0);
    let fee = u128::from(LAMPORTS_PER_SIGNATURE) + priority;
    let sol =
        |lamports: u128| format_amount(&lamports.to_string(), network.decimals, &network.symbol);
    let mut details = vec![
        Detail::new("Recent blockhash", base58::encode(&c.blockhash)),
        Detail {
            label: "Message".into(),
            value: match c.version {
                message::Version::Legacy => "legacy".into(),
                message::Version::V0 => "v0".into(),
            },
        },
    ];
    if let Some(limit) = c.limit {
        details.push(Detail::new("Compute unit limit", limit.to_string()));
    }
    if let Some(price) = c.price {
        details.push(Detail::new(
            "Priority fee",
            format!("{price} micro-lamports per compute unit"),
        ));
    }
    let mut warnings = Vec::new();
    if c.to == c.from {
        warnings.push("The recipient is this wallet itself.".into());
    }
    if network.decimals != 9 {
        warnings.push(format!(
            "{} is not shown with SOL's 9 decimals.",
            network.symbol
        ));
    }
    let fee = if c.price.is_some() && c.limit.is_none() {
        format!("about {}", sol(fee))
    } else {
        sol(fee)
    };
    let (amount, contract_call) = match &c.asset {
        Asset::Sol { lamports } => {
            if *lamports == 0 {
                warnings.push("The amount is zero.".into());
            }
            (sol((*lamports).into()), None)
        }
        Asset::Token {
            mint,
            program,
            amount,
            decimals,
            symbol,
            create_recipient_account,
        } => {
            let mint58 = base58::encode(mint);
            let unit = symbol
                .clone()
                .unwrap_or_else(|| format!("tokens of mint {mint58}"));
            let shown = format_amount(&amount.to_string(), *decimals, &unit);
            details.push(Detail::new("Mint", mint58.clone()));
            details.push(Detail {
                label: "Token program".into(),
                value: if *program == token::TOKEN_2022_PROGRAM {
                    "Token-2022".into()
                } else {
                    "Token".into()
                },
            });
            details.push(Detail::new(
                "Recipient token account",
                base58::encode(&token::associated_account(&c.to, mint, program)),
            ));
            if *create_recipient_account {
                details.push(Detail {
                    label: "Account creation".into(),
                    value: format!(
                        "up to {} of rent for the recipient's token account, if it does not exist",
                        sol(token::TOKEN_ACCOUNT_RENT.into())
                    ),
                });
            }
            if symbol.is_some() {
                warnings.push(format!(
                    "The symbol comes from the request; the token is the one of mint {mint58}."
                ));
            }
            if *amount == 0 {
                warnings.push("The amount is zero.".into());
            }
            (
                shown.clone(),
                Some(format!(
                    "TransferChecked of {shown} ({decimals} decimals, checked by the token program)"
                )),
            )
        }
    };
    Summary {
        title: format!("Send {amount} on {}", network.name),
        sender: Some(base58::encode(&c.from)),
        recipient: Some(base58::encode(&c.to)),
        amount: Some(amount),
        fee: Some(fee),
        contract_call,
        details,
        warnings,
    }
}

impl Plugin for Solana {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "solana".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            family: "solana".into(),
            schemes: vec![Scheme::Ed25519],
            networks: vec!["solana".into(), "solana-devnet".into()],
        }
    }

    fn addresses(key: PublicKey, _network: Network) -> Result<Vec<Address>> {
        Ok(vec![Address {
            kind: "base58".into(),
            value: base58::encode(&payer(&key)?),
        }])
    }

    fn validate(request: String, _network: Network) -> Result<()> {
        Signable::parse(&request, None)?.bytes()?;
        Ok(())
    }

    fn prepare(request: String, key: PublicKey, network: Network) -> Result<Prepared> {
        let signable = Signable::parse(&request, Some(&key))?;
        let (label, summary) = match &signable {
            Signable::Transfer(c) => ("transaction message", summary(c, &network)),
            Signable::Wire(w) => ("transaction message", w.summary(&payer(&key)?, &network)),
            Signable::Raw(b) => ("message bytes", raw_summary(b, &key)?),
            Signable::Text(t) => ("off-chain message", text_summary(t, &key)?),
        };
        Ok(Prepared {
            payloads: vec![Payload {
                scheme: Scheme::Ed25519,
                hash: MessageHash::None,
                bytes: signable.bytes()?,
                label: label.into(),
            }],
            summary,
        })
    }

    fn finalize(
        request: String,
        key: PublicKey,
        _network: Network,
        signatures: Vec<Signature>,
    ) -> Result<Finalized> {
        let signable = Signable::parse(&request, Some(&key))?;
        let bytes = signature_bytes(only_signature(&signatures)?, Scheme::Ed25519)?;
        let message = signable.bytes()?;
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&payer(&key)?)
            .map_err(|_| PluginError::invalid_public_key("not an Ed25519 point"))?;
        vk.verify_strict(&message, &ed25519_dalek::Signature::from_bytes(&bytes))
            .map_err(|_| PluginError::invalid_signature("the signature does not verify"))?;
        Ok(match signable {
            Signable::Transfer(_) => signed_transaction(message::transaction(&[bytes], &message)),
            // The Dapp's transaction with this wallet's signature in its slot.
            Signable::Wire(w) => signed_transaction(w.signed(w.slot_of(&payer(&key)?)?, bytes)),
            // The signature itself, base58 as Solana's tools print it.
            Signable::Text(_) | Signable::Raw(_) => Finalized {
                raw: bytes.to_vec(),
                encoded: base58::encode(&bytes),
                encoding: "base58".into(),
                id: base58::encode(&bytes),
            },
        })
    }
}

/// A signed wire transaction as `sendTransaction` takes it (base64); its id is its first
/// signature (the fee payer's), as Solana names transactions.
fn signed_transaction(raw: Vec<u8>) -> Finalized {
    Finalized {
        encoded: base64::engine::general_purpose::STANDARD.encode(&raw),
        id: base58::encode(&raw[1..65]),
        raw,
        encoding: "base64".into(),
    }
}

/// The bytes of a base64 request field, or the request's refusal naming `what`.
fn base64_field(text: &str, what: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| PluginError::invalid_request(format!("{what}: not base64")))
}

mpcw_plugin_sdk::export_plugin!(Solana);
