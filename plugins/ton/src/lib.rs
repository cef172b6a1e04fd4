//! The TON plugin: transfers from the standard wallet contracts v5r1 (W5, the default) and v4r2,
//! as external messages in a bag of cells, signed by the wallet's threshold Ed25519 key over the
//! hash of the signed body cell, as the contracts check it.
//!
//! Request (JSON, see `README.md`): `{"kind": "transfer", "wallet"?: "v5r1" | "v4r2", "seqno",
//! "validUntil", "messages": [{"to", "amount", "comment"?, "bounce"?, "mode"?}],
//! "stateInit"?}`, and `{"kind": "jetton_transfer", ...}` for jettons (TEP-74). The payload is the 32-byte cell hash; `finalize` returns the external message
//! as a base64 BOC (what `sendBoc` takes) and the hash of the message cell.

mod address;
pub mod cell;
mod jetton;
mod summary;
mod wallet;

use base64::Engine as _;
use mpcw_plugin_sdk::{
    only_signature, request_kind, signature_bytes, Address as PluginAddress, Finalized,
    MessageHash, Network, Payload, Plugin, PluginError, PluginInfo, Prepared, PublicKey, Result,
    Scheme, Signature,
};
use serde::Deserialize;

use address::Address;
use jetton::JettonTransfer;
use wallet::{Body, OutMessage, Version, Wallet};

/// The plugin type exported to the host.
pub struct Ton;

/// The longest comment accepted, in bytes.
const MAX_COMMENT_BYTES: usize = 1024;
/// TON's total supply bounds any amount (5 * 10^9 TON in nanotons, with room).
const MAX_NANOTONS: u128 = 10u128.pow(19);
/// The largest `VarUInteger 16`, the bound of a jetton amount.
const MAX_COINS: u128 = (1 << 120) - 1;
/// TON attached to a jetton transfer for the jetton wallets' fees by default (0.05 TON); what
/// is not spent comes back to the wallet.
const DEFAULT_JETTON_TON: u128 = 50_000_000;

/// `{"kind": "transfer"}`: send TON with one or more internal messages.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Transfer {
    /// "v5r1" (default) or "v4r2".
    wallet: Option<String>,
    /// The wallet's current seqno (get method `seqno`; 0 before the first transfer).
    seqno: u32,
    /// Unix time after which the wallet refuses the message.
    valid_until: u32,
    /// The messages: 1 to 4 for v4r2, 1 to 255 for v5r1.
    messages: Vec<MessageRequest>,
    /// Include the wallet's state init (deploys it). Default: when seqno is 0.
    state_init: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MessageRequest {
    /// Raw or user-friendly address.
    to: String,
    /// Nanotons, a number or a decimal string.
    amount: serde_json::Value,
    /// A text comment.
    comment: Option<String>,
    /// The bounce flag; by default the one of the address's form.
    bounce: Option<bool>,
    /// The send mode; default 3 (fees paid separately, errors ignored).
    mode: Option<u8>,
}

/// `{"kind": "jetton_transfer"}`: send jettons through the wallet's jetton wallet (TEP-74).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JettonRequest {
    wallet: Option<String>,
    seqno: u32,
    valid_until: u32,
    state_init: Option<bool>,
    /// This wallet's jetton wallet for the token (the jetton master's `get_wallet_address`).
    jetton_wallet: String,
    /// The recipient's address (its owner address; its jetton wallet is found by the token).
    to: String,
    /// Jetton base units.
    amount: serde_json::Value,
    /// The token's decimals, for the summary.
    decimals: u8,
    /// The token's symbol, for the summary.
    symbol: Option<String>,
    /// Nanotons attached for fees (default 0.05 TON; the rest comes back).
    ton_amount: Option<serde_json::Value>,
    /// Nanotons forwarded to the recipient with the notification (default 1).
    forward_ton_amount: Option<serde_json::Value>,
    /// A text comment for the recipient.
    comment: Option<String>,
    /// The query id (default 0).
    query_id: Option<u64>,
}

/// What the summary says about a jetton transfer.
pub struct JettonInfo {
    pub decimals: u8,
    pub symbol: Option<String>,
}

/// A transfer with every field checked.
struct Checked {
    wallet: Wallet,
    seqno: u32,
    valid_until: u32,
    messages: Vec<OutMessage>,
    state_init: bool,
    jetton: Option<JettonInfo>,
}

fn public_key(key: &PublicKey) -> Result<[u8; 32]> {
    if key.scheme != Scheme::Ed25519 {
        return Err(PluginError::invalid_public_key("TON keys are Ed25519"));
    }
    key.bytes
        .as_slice()
        .try_into()
        .map_err(|_| PluginError::invalid_public_key("an Ed25519 key is 32 bytes"))
}

fn wallet(version: Version, key: &PublicKey, network: &Network) -> Result<Wallet> {
    Ok(Wallet {
        version,
        public_key: public_key(key)?,
        wallet_id: match (version, network.testnet) {
            (Version::V4r2, _) => wallet::V4R2_SUBWALLET,
            (Version::V5r1, false) => wallet::V5R1_WALLET_ID_MAINNET,
            (Version::V5r1, true) => wallet::V5R1_WALLET_ID_TESTNET,
        },
    })
}

fn nanotons(v: &serde_json::Value, what: &str) -> Result<u128> {
    units(
        v,
        what,
        MAX_NANOTONS,
        "nanotons, an integer from 0 to 10^19",
    )
}

fn units(v: &serde_json::Value, what: &str, max: u128, expected: &str) -> Result<u128> {
    let n = match v {
        serde_json::Value::Number(n) => n.as_u64().map(u128::from),
        serde_json::Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    };
    match n {
        Some(n) if n <= max => Ok(n),
        _ => Err(PluginError::invalid_request(format!(
            "{what}: expected {expected}"
        ))),
    }
}

fn version(name: Option<&str>) -> Result<Version> {
    match name {
        None | Some("v5r1") => Ok(Version::V5r1),
        Some("v4r2") => Ok(Version::V4r2),
        Some(other) => Err(PluginError::unsupported_choice(
            "wallet",
            other,
            &["v5r1", "v4r2"],
        )),
    }
}

/// A destination address: checksum, network and workchain checked.
fn destination(s: &str, what: &str, network: &Network) -> Result<address::Parsed> {
    let parsed = Address::parse(s, what)?;
    if parsed.test_only && !network.testnet {
        return Err(PluginError::invalid_request(format!(
            "{what}: a test-only address on {}",
            network.name
        )));
    }
    if parsed.address.workchain != 0 && parsed.address.workchain != -1 {
        return Err(PluginError::invalid_request(format!(
            "{what}: workchain {} does not exist",
            parsed.address.workchain
        )));
    }
    Ok(parsed)
}

fn comment(c: &Option<String>, what: &str) -> Result<Option<String>> {
    if let Some(c) = c {
        if c.len() > MAX_COMMENT_BYTES {
            return Err(PluginError::invalid_request(format!(
                "{what}: {} bytes; at most {MAX_COMMENT_BYTES}",
                c.len()
            )));
        }
    }
    Ok(c.clone())
}

fn check_transfer(t: Transfer, key: &PublicKey, network: &Network) -> Result<Checked> {
    let version = version(t.wallet.as_deref())?;
    let max = match version {
        Version::V4r2 => 4,
        Version::V5r1 => 255,
    };
    if t.messages.is_empty() || t.messages.len() > max {
        return Err(PluginError::invalid_request(format!(
            "messages: 1 to {max} for this wallet, got {}",
            t.messages.len()
        )));
    }
    let mut messages = Vec::with_capacity(t.messages.len());
    for (i, m) in t.messages.iter().enumerate() {
        let parsed = destination(&m.to, &format!("messages[{i}].to"), network)?;
        messages.push(OutMessage {
            to: parsed.address,
            bounce: m.bounce.unwrap_or(parsed.bounceable),
            amount: nanotons(&m.amount, &format!("messages[{i}].amount"))?,
            mode: m.mode.unwrap_or(3),
            body: match comment(&m.comment, &format!("messages[{i}].comment"))? {
                Some(c) => Body::Comment(c),
                None => Body::Empty,
            },
        });
    }
    Ok(Checked {
        wallet: wallet(version, key, network)?,
        seqno: t.seqno,
        valid_until: t.valid_until,
        state_init: t.state_init.unwrap_or(t.seqno == 0),
        messages,
        jetton: None,
    })
}

fn check_jetton(j: JettonRequest, key: &PublicKey, network: &Network) -> Result<Checked> {
    let wallet = wallet(version(j.wallet.as_deref())?, key, network)?;
    let jetton_wallet = destination(&j.jetton_wallet, "jettonWallet", network)?;
    let to = destination(&j.to, "to", network)?;
    if let Some(symbol) = &j.symbol {
        if symbol.is_empty() || symbol.chars().count() > 16 || symbol.chars().any(char::is_control)
        {
            return Err(PluginError::invalid_request(
                "symbol: 1 to 16 printable characters",
            ));
        }
    }
    let transfer = JettonTransfer {
        query_id: j.query_id.unwrap_or(0),
        amount: units(
            &j.amount,
            "amount",
            MAX_COINS,
            "jetton base units, below 2^120",
        )?,
        destination: to.address,
        response_destination: wallet.address()?,
        forward_ton_amount: match &j.forward_ton_amount {
            Some(v) => nanotons(v, "forwardTonAmount")?,
            None => 1,
        },
        comment: comment(&j.comment, "comment")?,
    };
    Ok(Checked {
        seqno: j.seqno,
        valid_until: j.valid_until,
        state_init: j.state_init.unwrap_or(j.seqno == 0),
        messages: vec![OutMessage {
            to: jetton_wallet.address,
            // A jetton wallet is a contract: bounce if it does not exist.
            bounce: true,
            amount: match &j.ton_amount {
                Some(v) => nanotons(v, "tonAmount")?,
                None => DEFAULT_JETTON_TON,
            },
            mode: 3,
            body: Body::Jetton(transfer),
        }],
        jetton: Some(JettonInfo {
            decimals: j.decimals,
            symbol: j.symbol,
        }),
        wallet,
    })
}

fn check(request: &str, key: &PublicKey, network: &Network) -> Result<Checked> {
    let (kind, fields) = request_kind(request)?;
    match kind.as_str() {
        "transfer" => check_transfer(fields.parse()?, key, network),
        "jetton_transfer" => check_jetton(fields.parse()?, key, network),
        other => Err(PluginError::unsupported_choice(
            "kind",
            other,
            &["transfer", "jetton_transfer"],
        )),
    }
}

impl Plugin for Ton {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "ton".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            family: "ton".into(),
            schemes: vec![Scheme::Ed25519],
            networks: vec!["ton".into(), "ton-testnet".into()],
        }
    }

    fn addresses(key: PublicKey, network: Network) -> Result<Vec<PluginAddress>> {
        let mut out = Vec::new();
        for (version, name) in [(Version::V5r1, "v5r1"), (Version::V4r2, "v4r2")] {
            let a = wallet(version, &key, &network)?.address()?;
            out.push(PluginAddress {
                kind: name.into(),
                value: a.friendly(false, network.testnet),
            });
            out.push(PluginAddress {
                kind: format!("{name}-bounceable"),
                value: a.friendly(true, network.testnet),
            });
            out.push(PluginAddress {
                kind: format!("{name}-raw"),
                value: a.raw(),
            });
        }
        Ok(out)
    }

    fn validate(request: String, network: Network) -> Result<()> {
        // Nothing a request says depends on the wallet's key, which only names the sending
        // wallet: check it, and build its signed body, for a stand-in key (the Ed25519 base
        // point's encoding, RFC 8032).
        let mut stand_in = [0u8; 32];
        stand_in[0] = 0x58;
        stand_in[1..].fill(0x66);
        let key = PublicKey {
            scheme: Scheme::Ed25519,
            bytes: stand_in.to_vec(),
            view_key: None,
        };
        let c = check(&request, &key, &network)?;
        c.wallet.signing_body(c.seqno, c.valid_until, &c.messages)?;
        Ok(())
    }

    fn prepare(request: String, key: PublicKey, network: Network) -> Result<Prepared> {
        let c = check(&request, &key, &network)?;
        let body = c.wallet.signing_body(c.seqno, c.valid_until, &c.messages)?;
        Ok(Prepared {
            payloads: vec![Payload {
                scheme: Scheme::Ed25519,
                hash: MessageHash::None,
                bytes: body.hash().to_vec(),
                label: "wallet message (hash of the signed body cell)".into(),
            }],
            summary: summary::summarize(
                &c.wallet,
                c.seqno,
                c.valid_until,
                &c.messages,
                c.state_init,
                c.jetton.as_ref(),
                &network,
            )?,
        })
    }

    fn finalize(
        request: String,
        key: PublicKey,
        network: Network,
        signatures: Vec<Signature>,
    ) -> Result<Finalized> {
        let c = check(&request, &key, &network)?;
        let body = c.wallet.signing_body(c.seqno, c.valid_until, &c.messages)?;
        let bytes = signature_bytes(only_signature(&signatures)?, Scheme::Ed25519)?;
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&public_key(&key)?)
            .map_err(|_| PluginError::invalid_public_key("not an Ed25519 point"))?;
        vk.verify_strict(&body.hash(), &ed25519_dalek::Signature::from_bytes(&bytes))
            .map_err(|_| PluginError::invalid_signature("the signature does not verify"))?;
        let message = c.wallet.external_message(&body, &bytes, c.state_init)?;
        let raw = cell::serialize_boc(&message);
        Ok(Finalized {
            encoded: base64::engine::general_purpose::STANDARD.encode(&raw),
            raw,
            encoding: "base64".into(),
            id: hex::encode(message.hash()),
        })
    }
}

mpcw_plugin_sdk::export_plugin!(Ton);
