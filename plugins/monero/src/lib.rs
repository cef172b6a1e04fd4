//! The Monero plugin: a wallet's standard address and subaddresses, and message signatures as
//! Monero's reference wallet makes them (`sign_message`, SigV2 with the spend key), signed by the
//! wallet's threshold Ed25519 key.
//!
//! A Monero address is a spend key and a view key. The spend key `B` is the wallet's threshold
//! Ed25519 key at the network's path; no party ever holds its secret. The private view key `a`
//! comes with the public key from the host (`view_key = true` in the network's file), derived
//! from the wallet's chain code, so every party, and whoever holds the extended public key, can
//! see incoming funds. Spending, and signing anything, takes `t` parties.
//!
//! Request (JSON, see `README.md`): `{"kind": "message", "message", "encoding"?}`. The payload is
//! the 32-byte message hash with `message-hash = monero`: the engine makes Monero's Schnorr
//! signature `c ‖ r` with the threshold key. `finalize` checks it and returns "SigV2...".
//! Transactions are refused: see `README.md` for what CLSAG needs.

mod address;
mod keys;
mod message;

use mpcw_plugin_sdk::message::MessageRequest;
use mpcw_plugin_sdk::{
    only_signature, request_kind, signature_bytes, Address as PluginAddress, Detail, Finalized,
    MessageHash, Network, Payload, Plugin, PluginError, PluginInfo, Prepared, PublicKey, Result,
    Scheme, Signature, Summary,
};

use keys::{AddressKeys, WalletKeys};

/// The plugin type exported to the host.
pub struct Monero;

/// The longest message accepted, in bytes.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Subaddresses of account 0 listed by `addresses` besides the primary address.
const SUBADDRESSES_LISTED: u32 = 3;
/// Characters of a message shown in the summary.
const SHOWN_CHARS: usize = 2000;

/// A checked message request for a wallet on a network.
struct Checked {
    /// The primary address's keys, which sign.
    keys: AddressKeys,
    /// The primary address.
    primary: String,
    message: Vec<u8>,
}

/// The message a request asks to sign on `network`, checked without a key.
fn message_of(request: &str, network: &Network) -> Result<Vec<u8>> {
    address::network_bytes(&network.id)?;
    let (kind, fields) = request_kind(request)?;
    let message = match kind.as_str() {
        "message" => fields.parse::<MessageRequest>()?.bytes()?,
        "transfer" => {
            return Err(PluginError::unsupported(
                "Monero transactions need threshold key images and a threshold CLSAG ring \
                 signature, which the engine does not make; this plugin signs messages",
            ))
        }
        other => return Err(PluginError::unsupported_choice("kind", other, &["message"])),
    };
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(PluginError::invalid_request(format!(
            "message: {} bytes; at most {MAX_MESSAGE_BYTES}",
            message.len()
        )));
    }
    Ok(message)
}

fn check(request: &str, key: &PublicKey, network: &Network) -> Result<Checked> {
    let bytes = address::network_bytes(&network.id)?;
    let keys = WalletKeys::from_public_key(key)?;
    let message = message_of(request, network)?;
    let keys = keys.primary();
    let primary = address::encode(bytes.standard, &keys)?;
    Ok(Checked {
        keys,
        primary,
        message,
    })
}

fn shown(message: &[u8]) -> String {
    match std::str::from_utf8(message) {
        Ok(text) if !text.chars().any(|c| c.is_control() && c != '\n') => {
            if text.chars().count() > SHOWN_CHARS {
                let head: String = text.chars().take(SHOWN_CHARS).collect();
                format!("{head}… ({} bytes in all)", message.len())
            } else {
                text.to_string()
            }
        }
        _ => format!("0x{}", hex::encode(message)),
    }
}

fn summary(c: &Checked, network: &Network) -> Summary {
    Summary {
        title: format!("Sign a message with your {} address", network.name),
        sender: Some(c.primary.clone()),
        recipient: None,
        amount: None,
        fee: None,
        contract_call: None,
        details: vec![
            Detail::new("Message", shown(&c.message)),
            Detail::new(
                "Signature",
                "SigV2 with the spend key (what `verify` in Monero wallets checks)",
            ),
        ],
        warnings: Vec::new(),
    }
}

impl Plugin for Monero {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "monero".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            family: "monero".into(),
            schemes: vec![Scheme::Ed25519],
            networks: vec![
                "monero".into(),
                "monero-stagenet".into(),
                "monero-testnet".into(),
            ],
        }
    }

    fn addresses(key: PublicKey, network: Network) -> Result<Vec<PluginAddress>> {
        let bytes = address::network_bytes(&network.id)?;
        let keys = WalletKeys::from_public_key(&key)?;
        let mut out = vec![PluginAddress {
            kind: "standard".into(),
            value: address::encode(bytes.standard, &keys.primary())?,
        }];
        for minor in 1..=SUBADDRESSES_LISTED {
            out.push(PluginAddress {
                kind: format!("subaddress-0-{minor}"),
                value: address::encode(bytes.subaddress, &keys.subaddress(0, minor))?,
            });
        }
        Ok(out)
    }

    fn validate(request: String, network: Network) -> Result<()> {
        message_of(&request, &network).map(drop)
    }

    fn prepare(request: String, key: PublicKey, network: Network) -> Result<Prepared> {
        let c = check(&request, &key, &network)?;
        Ok(Prepared {
            payloads: vec![Payload {
                scheme: Scheme::Ed25519,
                hash: MessageHash::Monero,
                bytes: message::message_hash(&c.keys, &c.message).to_vec(),
                label: "message (Monero message hash, SigV2)".into(),
            }],
            summary: summary(&c, &network),
        })
    }

    fn finalize(
        request: String,
        key: PublicKey,
        network: Network,
        signatures: Vec<Signature>,
    ) -> Result<Finalized> {
        let c = check(&request, &key, &network)?;
        let bytes = signature_bytes(only_signature(&signatures)?, Scheme::Ed25519)?;
        let hash = message::message_hash(&c.keys, &c.message);
        if !message::check_signature(&hash, &c.keys.spend, &bytes) {
            return Err(PluginError::invalid_signature(
                "the signature does not verify under the wallet's spend key",
            ));
        }
        Ok(Finalized {
            raw: bytes.to_vec(),
            encoded: message::sigv2(&bytes),
            encoding: "text".into(),
            id: String::new(),
        })
    }
}

mpcw_plugin_sdk::export_plugin!(Monero);

#[cfg(test)]
mod tests {
    use super::*;

    fn key(spend: [u8; 32], view: [u8; 32]) -> PublicKey {
        PublicKey {
            scheme: Scheme::Ed25519,
            bytes: spend.to_vec(),
            view_key: Some(view.to_vec()),
        }
    }

    fn hex32(s: &str) -> [u8; 32] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    /// The Monero General Fund's address and its published private view key, and its donation
    /// subaddress (account 0, index 70), from getmonero.org ("Donating to the Monero
    /// Project", https://www.getmonero.org/get-started/contributing/).
    const GENERAL_FUND: &str = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
    const GENERAL_FUND_VIEW_KEY: &str =
        "f359631075708155cc3d92a32b75a7d02a5dcf27756707b47a2b31b21c389501";
    const DONATION_SUBADDRESS: &str = "888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H";

    #[test]
    fn the_general_funds_address_and_donation_subaddress() {
        let decoded = base58_monero::decode_check(GENERAL_FUND).unwrap();
        assert_eq!(decoded[0], 18);
        let spend: [u8; 32] = decoded[1..33].try_into().unwrap();
        let keys = WalletKeys::from_public_key(&key(spend, hex32(GENERAL_FUND_VIEW_KEY))).unwrap();
        assert_eq!(address::encode(18, &keys.primary()).unwrap(), GENERAL_FUND);
        assert_eq!(
            address::encode(42, &keys.subaddress(0, 70)).unwrap(),
            DONATION_SUBADDRESS
        );
    }
}
