//! The human-readable summary a user confirms: who pays whom how much, what contract is called,
//! and what deserves a second look.

use mpcw_plugin_sdk::amount::{format_amount, format_units};
use mpcw_plugin_sdk::evmtx::{token_call, TokenCall};
use mpcw_plugin_sdk::uint::U256;
use mpcw_plugin_sdk::{hexstr, Detail, Network, PublicKey, Result, Summary};
use serde_json::Value;

use crate::address::{self, Addr};
use crate::request::{MessageRequest, Request, TypedDataRequest};
use crate::tx::{Fees, Tx, TxType};
use mpcw_plugin_sdk::typed_data::TypedData;

/// A message of exactly this many bytes may be a transaction hash in disguise.
const HASH_LEN: usize = 32;
/// Longer text is cut in the summary (the payload still carries every byte).
const MAX_SHOWN_CHARS: usize = 512;

fn native(amount: &U256, network: &Network) -> String {
    format_amount(&amount.to_string(), network.decimals, &network.symbol)
}

fn gwei(amount: &U256) -> String {
    format!("{} gwei", format_units(&amount.to_string(), 9))
}

/// Build the summary of a request signed by `key` on `network`.
pub fn summarize(request: &Request, key: &PublicKey, network: &Network) -> Result<Summary> {
    let me_addr = address::from_key(key)?;
    let me = address::checksum(&me_addr);
    match request {
        Request::Transaction(t) => {
            transaction(&Tx::from_request(t, Some(key), network)?, &me_addr, network)
        }
        Request::PersonalSign(m) => personal(m, me, network),
        Request::TypedData(d) => typed(d, me, network),
    }
}

fn transaction(tx: &Tx, me: &Addr, network: &Network) -> Result<Summary> {
    let mut details = vec![
        Detail::new(
            "Network",
            format!("{} (chain id {})", network.name, tx.chain_id),
        ),
        Detail::new(
            "Type",
            match tx.tx_type {
                TxType::Legacy => "legacy (EIP-155)",
                TxType::Eip2930 => "EIP-2930",
                TxType::Eip1559 => "EIP-1559",
            },
        ),
        Detail::new("Nonce", tx.nonce.to_string()),
        Detail::new("Gas limit", tx.gas.to_string()),
    ];
    let max_fee = tx.max_fee()?;
    let fee = match &tx.fees {
        Fees::GasPrice(p) => {
            details.push(Detail::new("Gas price", gwei(p)));
            native(&max_fee, network)
        }
        Fees::Dynamic {
            max_fee_per_gas,
            max_priority_fee_per_gas,
        } => {
            details.push(Detail::new("Max fee per gas", gwei(max_fee_per_gas)));
            details.push(Detail::new(
                "Priority fee per gas",
                gwei(max_priority_fee_per_gas),
            ));
            format!("at most {}", native(&max_fee, network))
        }
    };
    if !tx.access_list.is_empty() {
        details.push(Detail::new(
            "Access list",
            format!("{} address(es)", tx.access_list.len()),
        ));
    }
    let mut warnings = Vec::new();
    if network.testnet {
        warnings.push(format!("{} is a test network", network.name));
    }
    let amount = native(&tx.value, network);
    let recipient = tx.to.as_ref().map(address::checksum);
    let mut contract_call = None;
    let title = match (&tx.to, tx.data.is_empty()) {
        (None, _) => {
            warnings.push("This transaction deploys a new contract".into());
            contract_call = Some(format!(
                "Contract creation ({} bytes of code)",
                tx.data.len()
            ));
            format!("Deploy a contract on {}", network.name)
        }
        (Some(to), true) => {
            if to == me {
                warnings.push("The recipient is this wallet itself".into());
            }
            format!("Send {amount} on {}", network.name)
        }
        (Some(to), false) => {
            let contract = address::checksum(to);
            details.push(Detail::new("Data", format!("{} bytes", tx.data.len())));
            match token_call(&tx.data) {
                Some(TokenCall::Transfer { to: dest, amount }) => {
                    contract_call = Some(format!(
                        "ERC-20 transfer of {amount} base units of token {contract} to {}",
                        address::checksum(&dest)
                    ));
                    format!("Token transfer on {}", network.name)
                }
                Some(TokenCall::Approve { spender, amount }) => {
                    if amount == U256::MAX {
                        warnings.push(format!(
                            "Unlimited approval: {} may spend all of this token, now and later",
                            address::checksum(&spender)
                        ));
                    }
                    contract_call = Some(format!(
                        "ERC-20 approve: {} may spend {} base units of token {contract}",
                        address::checksum(&spender),
                        if amount == U256::MAX {
                            "unlimited".to_string()
                        } else {
                            amount.to_string()
                        }
                    ));
                    format!("Token approval on {}", network.name)
                }
                None => {
                    let selector = hex::encode(&tx.data[..tx.data.len().min(4)]);
                    contract_call = Some(format!(
                        "Call contract {contract} (selector 0x{selector}, {} bytes of data)",
                        tx.data.len()
                    ));
                    format!("Contract call on {}", network.name)
                }
            }
        }
    };
    if !tx.value.is_zero() && !tx.data.is_empty() {
        warnings.push(format!("{amount} is sent along with the contract call"));
    }
    Ok(Summary {
        title,
        sender: Some(address::checksum(me)),
        recipient,
        amount: Some(amount),
        fee: Some(fee),
        contract_call,
        details,
        warnings,
    })
}

/// Cut text to the first `MAX_SHOWN_CHARS` characters.
fn shown(text: &str) -> String {
    match text.char_indices().nth(MAX_SHOWN_CHARS) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

fn personal(m: &MessageRequest, me: String, network: &Network) -> Result<Summary> {
    let bytes = m.bytes()?;
    let mut warnings = Vec::new();
    let text = match std::str::from_utf8(&bytes) {
        Ok(s) if !s.chars().any(|c| c.is_control() && !c.is_whitespace()) => shown(s),
        _ => {
            warnings.push("The message is not readable text; check its bytes carefully".into());
            shown(&hexstr::encode_0x(&bytes))
        }
    };
    if bytes.len() == HASH_LEN {
        warnings.push(
            "The message is 32 bytes, the size of a hash: it may be a transaction or order hash"
                .into(),
        );
    }
    Ok(Summary {
        title: format!("Sign a message on {}", network.name),
        sender: Some(me),
        recipient: None,
        amount: None,
        fee: None,
        contract_call: None,
        details: vec![
            Detail::new("Message", text),
            Detail::new("Length", format!("{} bytes", bytes.len())),
            Detail::new("Standard", "EIP-191 personal_sign"),
        ],
        warnings,
    })
}

/// A JSON value as one line of text.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => shown(s),
        other => shown(&other.to_string()),
    }
}

fn typed(d: &TypedDataRequest, me: String, network: &Network) -> Result<Summary> {
    let data = TypedData::parse(&d.typed_data, crate::chain_id(network)?, crate::EIP712)?;
    let mut details = vec![Detail::new("Primary type", data.primary_type.clone())];
    for (k, v) in &data.domain {
        details.push(Detail::new(format!("Domain {k}"), value_text(v)));
    }
    if let Value::Object(fields) = &data.message {
        for (k, v) in fields {
            details.push(Detail::new(k, value_text(v)));
        }
    }
    let mut warnings = Vec::new();
    if !data.domain.contains_key("chainId") {
        warnings.push("The domain has no chainId: the signature is valid on every chain".into());
    }
    let recipient = data
        .domain
        .get("verifyingContract")
        .and_then(Value::as_str)
        .and_then(|s| address::parse(s, "verifyingContract").ok())
        .map(|a| address::checksum(&a));
    let lower = data.primary_type.to_ascii_lowercase();
    if lower.contains("permit") {
        warnings.push(format!(
            "{}: this signature lets {} move your tokens without a further transaction",
            data.primary_type,
            recipient.as_deref().unwrap_or("the verifying contract")
        ));
    }
    Ok(Summary {
        title: format!(
            "Sign typed data ({}) on {}",
            data.primary_type, network.name
        ),
        sender: Some(me),
        recipient,
        amount: None,
        fee: None,
        contract_call: None,
        details,
        warnings,
    })
}
