//! The human-readable summary a user confirms.

use mpcw_plugin_sdk::amount::{format_amount, format_units};
use mpcw_plugin_sdk::evmtx::{token_call, TokenCall};
use mpcw_plugin_sdk::typed_data::TypedData;
use mpcw_plugin_sdk::uint::U256;
use mpcw_plugin_sdk::{hexstr, Detail, Network, Result, Summary};
use serde_json::Value;

use crate::address::{self, Addr};
use crate::tx::{Fees, Tx, TxType};

/// Longer text is cut in the summary (the payload still carries every byte).
const MAX_SHOWN_CHARS: usize = 512;

fn cfx(amount: &U256, network: &Network) -> String {
    format_amount(&amount.to_string(), network.decimals, &network.symbol)
}

fn gdrip(amount: &U256) -> String {
    format!("{} GDrip", format_units(&amount.to_string(), 9))
}

/// The summary of a transaction from `me`.
pub fn transaction(tx: &Tx, me: &Addr, id: u64, network: &Network) -> Result<Summary> {
    let base32 = |a: &Addr| address::encode(a, id, false);
    let amount = cfx(&tx.value, network);
    let (title, recipient) = match &tx.to {
        None => (format!("Deploy a contract on {}", network.name), None),
        Some(to) if tx.data.is_empty() => (
            format!("Send {amount} on {}", network.name),
            Some(base32(to)?),
        ),
        Some(to) => (
            match token_call(&tx.data) {
                Some(TokenCall::Transfer { .. }) => format!("Token transfer on {}", network.name),
                Some(TokenCall::Approve { .. }) => format!("Token approval on {}", network.name),
                None => format!("Call a contract on {}", network.name),
            },
            Some(base32(to)?),
        ),
    };
    let type_name = match tx.tx_type {
        TxType::Legacy => "legacy",
        TxType::Cip2930 => "CIP-2930",
        TxType::Cip1559 => "CIP-1559",
    };
    let mut details = vec![
        Detail::new("Type", type_name),
        Detail::new("Nonce", tx.nonce.to_string()),
        Detail::new("Gas limit", tx.gas.to_string()),
    ];
    match &tx.fees {
        Fees::GasPrice(p) => details.push(Detail::new("Gas price", gdrip(p))),
        Fees::Dynamic {
            max_fee_per_gas,
            max_priority_fee_per_gas,
        } => {
            details.push(Detail::new("Max fee per gas", gdrip(max_fee_per_gas)));
            details.push(Detail::new(
                "Max priority fee",
                gdrip(max_priority_fee_per_gas),
            ));
        }
    }
    details.push(Detail::new(
        "Storage limit",
        format!(
            "{} bytes (collateral up to {}, refunded when the storage is freed)",
            tx.storage_limit,
            cfx(&tx.max_collateral()?, network)
        ),
    ));
    details.push(Detail::new("Epoch height", tx.epoch_height.to_string()));
    details.push(Detail::new("Chain id", tx.chain_id.to_string()));
    if !tx.access_list.is_empty() {
        details.push(Detail::new(
            "Access list",
            format!("{} addresses", tx.access_list.len()),
        ));
    }
    let mut warnings = Vec::new();
    let contract_call = if tx.data.is_empty() {
        None
    } else {
        let selector = hexstr::encode_0x(&tx.data[..tx.data.len().min(4)]);
        details.push(Detail::new("Data", format!("{} bytes", tx.data.len())));
        if let Some(token) = &tx.to {
            let token32 = base32(token)?;
            Some(match token_call(&tx.data) {
                Some(TokenCall::Transfer { to, amount }) => format!(
                    "CRC-20 transfer of {amount} base units of token {token32} to {}",
                    base32(&to)?
                ),
                Some(TokenCall::Approve { spender, amount }) => {
                    let unlimited = amount == U256::MAX;
                    if unlimited {
                        warnings.push(format!(
                            "Unlimited approval: {} may spend all of this token, now and later",
                            base32(&spender)?
                        ));
                    }
                    format!(
                        "CRC-20 approve: {} may spend {} base units of token {token32}",
                        base32(&spender)?,
                        if unlimited {
                            "unlimited".to_string()
                        } else {
                            amount.to_string()
                        }
                    )
                }
                None => format!(
                    "Contract call, selector {selector}, {} bytes of data",
                    tx.data.len()
                ),
            })
        } else {
            warnings.push("This transaction creates a contract from its data".into());
            None
        }
    };
    if let Some(to) = &tx.to {
        if address::kind(to) == Some("builtin") {
            warnings.push(format!(
                "The recipient {} is a built-in contract of the Conflux protocol",
                base32(to)?
            ));
        }
    }
    Ok(Summary {
        title,
        sender: Some(base32(me)?),
        recipient,
        amount: Some(amount),
        fee: Some(format!("at most {}", cfx(&tx.max_fee()?, network))),
        contract_call,
        details,
        warnings,
    })
}

fn shown(text: &str) -> String {
    if text.chars().count() > MAX_SHOWN_CHARS {
        let cut: String = text.chars().take(MAX_SHOWN_CHARS).collect();
        format!("{cut}… ({} characters in all)", text.chars().count())
    } else {
        text.to_string()
    }
}

/// The summary of a CIP-23 byte-string message.
pub fn personal(message: &[u8], me: String, network: &Network) -> Summary {
    let mut warnings = Vec::new();
    let text = match std::str::from_utf8(message) {
        Ok(t) if !t.chars().any(|c| c.is_control() && !c.is_whitespace()) => shown(t),
        _ => {
            warnings.push("The message is not text; check its bytes with the application".into());
            shown(&hexstr::encode_0x(message))
        }
    };
    if message.len() == 32 {
        warnings
            .push("The message is 32 bytes: it may be a hash of something you cannot see".into());
    }
    Summary {
        title: format!("Sign a message on {}", network.name),
        sender: Some(me),
        recipient: None,
        amount: None,
        fee: None,
        contract_call: None,
        details: vec![
            Detail::new("Message", text),
            Detail::new("Length", format!("{} bytes", message.len())),
        ],
        warnings,
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => shown(s),
        other => shown(&other.to_string()),
    }
}

/// The summary of CIP-23 typed data.
pub fn typed(data: &TypedData, me: String, network: &Network) -> Summary {
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
    if data.primary_type.to_ascii_lowercase().contains("permit") {
        warnings.push(format!(
            "{}: this signature may let a contract move your tokens without a further transaction",
            data.primary_type
        ));
    }
    Summary {
        title: format!(
            "Sign typed data ({}) on {}",
            data.primary_type, network.name
        ),
        sender: Some(me),
        recipient: data
            .domain
            .get("verifyingContract")
            .and_then(Value::as_str)
            .map(str::to_string),
        amount: None,
        fee: None,
        contract_call: None,
        details,
        warnings,
    }
}
