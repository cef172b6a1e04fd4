//! The summary a user confirms: who receives how much, with which comment and mode.

use mpcw_plugin_sdk::amount::format_amount;
use mpcw_plugin_sdk::{Detail, Network, Result, Summary};

use crate::wallet::{Body, OutMessage, Version, Wallet};
use crate::JettonInfo;

/// Send-mode flags worth a warning.
const CARRY_ALL_BALANCE: u8 = 128;
const DESTROY_IF_ZERO: u8 = 32;
const CARRY_INBOUND_VALUE: u8 = 64;

/// The summary of a transfer.
pub fn summarize(
    wallet: &Wallet,
    seqno: u32,
    valid_until: u32,
    messages: &[OutMessage],
    state_init: bool,
    jetton: Option<&JettonInfo>,
    network: &Network,
) -> Result<Summary> {
    let ton = |n: u128| format_amount(&n.to_string(), network.decimals, &network.symbol);
    let me = wallet.address()?;
    let mut details = vec![
        Detail::new(
            "Wallet",
            match wallet.version {
                Version::V4r2 => "v4r2",
                Version::V5r1 => "v5r1 (W5)",
            },
        ),
        Detail::new("Seqno", seqno.to_string()),
        Detail::new("Valid until", format!("{valid_until} (unix time)")),
    ];
    let mut warnings = Vec::new();
    let mut total = 0u128;
    let mut all_balance = false;
    for (i, m) in messages.iter().enumerate() {
        let to = m.to.friendly(m.bounce, network.testnet);
        let amount = if m.mode & CARRY_ALL_BALANCE != 0 {
            all_balance = true;
            "the wallet's whole balance".to_string()
        } else {
            total += m.amount;
            ton(m.amount)
        };
        let mut line = format!("{amount} to {to} (mode {}", m.mode);
        line.push_str(if m.bounce { ", bounceable)" } else { ")" });
        if let Body::Comment(c) = &m.body {
            let shown: String = c.chars().take(200).collect();
            line.push_str(&format!(", comment \"{shown}\""));
        }
        details.push(Detail::new(format!("Message {}", i + 1), line));
        if m.mode & CARRY_ALL_BALANCE != 0 {
            warnings.push(format!(
                "Message {}: mode 128 sends the wallet's entire balance",
                i + 1
            ));
        }
        if m.mode & DESTROY_IF_ZERO != 0 {
            warnings.push(format!(
                "Message {}: mode 32 destroys the wallet if its balance reaches zero",
                i + 1
            ));
        }
        if m.mode & CARRY_INBOUND_VALUE != 0 {
            warnings.push(format!(
                "Message {}: mode 64 is meant for contracts answering a message, not wallets",
                i + 1
            ));
        }
        if m.to == me {
            warnings.push(format!("Message {} goes to this wallet itself", i + 1));
        }
    }
    if state_init {
        details.push(Detail::new(
            "Deployment",
            "the wallet contract is deployed by this message (state init included)",
        ));
    }
    if let (Some(info), [m]) = (jetton, messages) {
        if let Body::Jetton(j) = &m.body {
            return Ok(jetton_summary(
                me.friendly(false, network.testnet),
                m,
                j,
                info,
                details,
                warnings,
                network,
            ));
        }
    }
    let amount = if all_balance {
        "the whole balance".to_string()
    } else {
        ton(total)
    };
    let recipient = match messages {
        [m] => Some(m.to.friendly(m.bounce, network.testnet)),
        _ => Some(format!("{} recipients", messages.len())),
    };
    Ok(Summary {
        title: format!("Send {amount} on {}", network.name),
        sender: Some(me.friendly(false, network.testnet)),
        recipient,
        amount: Some(amount),
        // Fees are computed by the network when the message runs; the wallet pays them.
        fee: None,
        contract_call: None,
        details,
        warnings,
    })
}

/// The summary of a jetton transfer: the jettons and their recipient first, the TON attached
/// for fees as a detail.
fn jetton_summary(
    sender: String,
    message: &OutMessage,
    j: &crate::jetton::JettonTransfer,
    info: &JettonInfo,
    mut details: Vec<Detail>,
    mut warnings: Vec<String>,
    network: &Network,
) -> Summary {
    let ton = |n: u128| format_amount(&n.to_string(), network.decimals, &network.symbol);
    let unit = info.symbol.clone().unwrap_or_else(|| "jettons".into());
    let amount = format_amount(&j.amount.to_string(), info.decimals, &unit);
    let recipient = j.destination.friendly(false, network.testnet);
    // The message line lists the jetton wallet; say what it is.
    details.retain(|d| !d.label.starts_with("Message"));
    details.push(Detail::new(
        "Jetton wallet (this wallet's, for the token)",
        message.to.friendly(true, network.testnet),
    ));
    details.push(Detail::new(
        "TON attached for fees",
        format!("{} (what is not spent comes back)", ton(message.amount)),
    ));
    details.push(Detail::new(
        "Forwarded to the recipient",
        ton(j.forward_ton_amount),
    ));
    if let Some(c) = &j.comment {
        details.push(Detail::new(
            "Comment",
            c.chars().take(200).collect::<String>(),
        ));
    }
    warnings.push(
        "The jetton wallet comes from the request: it must be this wallet's jetton wallet for the token, or nothing moves"
            .into(),
    );
    if info.symbol.is_some() {
        warnings.push("The symbol and decimals come from the request".into());
    }
    Summary {
        title: format!("Send {amount} on {}", network.name),
        sender: Some(sender),
        recipient: Some(recipient),
        amount: Some(amount),
        fee: None,
        contract_call: Some(format!("TEP-74 jetton transfer of {} base units", j.amount)),
        details,
        warnings,
    }
}
