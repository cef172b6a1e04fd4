//! The summary a user confirms: what leaves the wallet, where, the change that comes back, and
//! the fee (inputs minus outputs).

use mpcw_plugin_sdk::amount::format_amount;
use mpcw_plugin_sdk::{Detail, Network, PluginError, Result, Summary};

use crate::address::{self, Params};
use crate::sighash;
use crate::sign::{Plan, Spend};

/// A fee above this share of what is sent (and above 10 000 sat) is flagged.
const FEE_WARNING_PERCENT: u64 = 10;

/// The virtual size the transaction will have once every input is the wallet's and signed, for
/// the fee rate: the unsigned size plus each input's scriptSig or witness.
fn estimated_vsize(plan: &Plan) -> u64 {
    let mut base = plan.psbt.tx.serialize(false).len() as u64;
    let mut witness = 0u64;
    let mut segwit = false;
    for s in &plan.signing {
        match s.spend {
            // <sig 72+1> <key 33+1>, and the scriptSig's length byte stays one byte.
            Spend::P2pkh => base += 107,
            Spend::P2wpkh => {
                segwit = true;
                witness += 1 + 1 + 72 + 1 + 33;
            }
            Spend::P2tr => {
                segwit = true;
                witness += 1 + 1 + 64 + u64::from(s.hash_type != sighash::DEFAULT);
            }
        }
    }
    if segwit {
        // Marker and flag, and an empty witness for every other input.
        witness += 2 + (plan.psbt.tx.inputs.len() - plan.signing.len()) as u64;
    }
    (base * 4 + witness).div_ceil(4)
}

/// The summary of a plan on `network`.
pub fn summarize(plan: &Plan, params: Params, network: &Network) -> Result<Summary> {
    let btc = |sat: u64| format_amount(&sat.to_string(), network.decimals, &network.symbol);
    let total_in = plan
        .spent
        .iter()
        .try_fold(0u64, |acc, o| acc.checked_add(o.value))
        .ok_or_else(|| PluginError::invalid_request("the inputs' amounts overflow"))?;
    let total_out = plan
        .psbt
        .tx
        .outputs
        .iter()
        .try_fold(0u64, |acc, o| acc.checked_add(o.value))
        .ok_or_else(|| PluginError::invalid_request("the outputs' amounts overflow"))?;
    let fee = total_in.checked_sub(total_out).ok_or_else(|| {
        PluginError::invalid_request(format!(
            "the outputs ({total_out} sat) exceed the inputs ({total_in} sat)"
        ))
    })?;
    let mine: Vec<Vec<u8>> = plan.key.scripts().into_iter().map(|(_, s)| s).collect();
    let mut details = Vec::new();
    let mut sent = 0u64;
    let mut recipients = Vec::new();
    for (i, o) in plan.psbt.tx.outputs.iter().enumerate() {
        let shown = address::describe(params, &o.script_pubkey);
        if mine.contains(&o.script_pubkey) {
            details.push(Detail::new(
                format!("Output {i} (change)"),
                format!("{shown}: {}", btc(o.value)),
            ));
        } else {
            sent += o.value;
            details.push(Detail::new(
                format!("Output {i}"),
                format!("{shown}: {}", btc(o.value)),
            ));
            recipients.push(shown);
        }
    }
    let ours = plan.signing.len();
    let inputs = plan.psbt.tx.inputs.len();
    details.push(Detail::new(
        "Inputs",
        format!(
            "{inputs} ({ours} signed by this wallet), {} in all",
            btc(total_in)
        ),
    ));
    let mut warnings = Vec::new();
    if ours == inputs {
        let vsize = estimated_vsize(plan);
        let tenths = u128::from(fee) * 10 / u128::from(vsize);
        details.push(Detail::new(
            "Fee rate",
            format!("about {}.{} sat/vB ({vsize} vB)", tenths / 10, tenths % 10),
        ));
    } else {
        warnings.push(format!(
            "{} of {inputs} inputs are not this wallet's: the transaction is complete only when their owners sign too",
            inputs - ours
        ));
    }
    if plan.psbt.tx.lock_time != 0 {
        details.push(Detail::new("Lock time", plan.psbt.tx.lock_time.to_string()));
    }
    if plan.psbt.tx.inputs.iter().any(|i| i.sequence < 0xffff_fffe) {
        details.push(Detail::new("Replaceable", "yes (BIP-125 signalled)"));
    }
    for s in &plan.signing {
        if let Some(what) = sighash::describe(s.hash_type) {
            warnings.push(format!("Input {}: {what}", s.index));
        }
    }
    if fee > 10_000 && fee.saturating_mul(100) > sent.saturating_mul(FEE_WARNING_PERCENT) {
        warnings.push(format!(
            "The fee ({}) is more than {FEE_WARNING_PERCENT}% of what is sent",
            btc(fee)
        ));
    }
    let sender = plan
        .key
        .addresses(params)
        .into_iter()
        .next()
        .map(|(_, a)| a);
    let (title, recipient) = match recipients.len() {
        0 => (
            format!(
                "Move {} between this wallet's addresses on {}",
                btc(total_out),
                network.name
            ),
            None,
        ),
        1 => (
            format!("Send {} on {}", btc(sent), network.name),
            recipients.pop(),
        ),
        n => (
            format!("Send {} to {n} recipients on {}", btc(sent), network.name),
            Some(format!("{n} recipients")),
        ),
    };
    Ok(Summary {
        title,
        sender,
        recipient,
        amount: Some(btc(sent)),
        fee: Some(btc(fee)),
        contract_call: None,
        details,
        warnings,
    })
}
