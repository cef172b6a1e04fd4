//! Partially signed transactions, BIP-174 version 0, with the Taproot key-path signature field
//! of BIP-371. Fields this plugin does not use are kept as they are and written back.

use std::collections::BTreeSet;

use mpcw_plugin_sdk::{PluginError, Result};

use crate::encode::{self, Reader};
use crate::tx::{Tx, TxOut};

const MAGIC: &[u8; 5] = b"psbt\xff";
/// 21 million BTC in satoshis: no amount can be larger (Bitcoin Core's `MAX_MONEY`).
pub const MAX_MONEY: u64 = 2_100_000_000_000_000;

const GLOBAL_UNSIGNED_TX: u8 = 0x00;
const GLOBAL_VERSION: u8 = 0xfb;
const IN_NON_WITNESS_UTXO: u8 = 0x00;
const IN_WITNESS_UTXO: u8 = 0x01;
const IN_PARTIAL_SIG: u8 = 0x02;
const IN_SIGHASH_TYPE: u8 = 0x03;
const IN_FINAL_SCRIPTSIG: u8 = 0x07;
const IN_FINAL_SCRIPTWITNESS: u8 = 0x08;
const IN_TAP_KEY_SIG: u8 = 0x13;

/// A key-value pair as it appeared.
pub type Pair = (Vec<u8>, Vec<u8>);

/// One input's map.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The whole transaction the input spends.
    pub non_witness_utxo: Option<Tx>,
    /// The output the input spends.
    pub witness_utxo: Option<TxOut>,
    /// The signature hash type to sign with.
    pub sighash_type: Option<u32>,
    /// ECDSA signatures: (public key, DER signature || sighash byte).
    pub partial_sigs: Vec<Pair>,
    /// A finished scriptSig.
    pub final_script_sig: Option<Vec<u8>>,
    /// A finished witness.
    pub final_script_witness: Option<Vec<Vec<u8>>>,
    /// A Taproot key-path signature (64 or 65 bytes).
    pub tap_key_sig: Option<Vec<u8>>,
    /// Every other pair, kept.
    pub other: Vec<Pair>,
}

/// A PSBT.
#[derive(Debug, Clone)]
pub struct Psbt {
    /// The unsigned transaction.
    pub tx: Tx,
    /// Global pairs other than the transaction, kept.
    pub global: Vec<Pair>,
    /// One map per input.
    pub inputs: Vec<Input>,
    /// One map per output, kept as pairs.
    pub outputs: Vec<Vec<Pair>>,
}

fn bad(why: impl std::fmt::Display) -> PluginError {
    PluginError::invalid_request(format!("psbt: {why}"))
}

/// Read one map: pairs until the 0x00 separator. Duplicate keys are refused.
fn read_map(r: &mut Reader, what: &str) -> Result<Vec<Pair>> {
    let mut seen = BTreeSet::new();
    let mut pairs = Vec::new();
    loop {
        let key = r.var_bytes()?;
        if key.is_empty() {
            return Ok(pairs);
        }
        let value = r.var_bytes()?;
        if !seen.insert(key.to_vec()) {
            return Err(bad(format!("{what}: duplicate key {}", hex::encode(key))));
        }
        pairs.push((key.to_vec(), value.to_vec()));
    }
}

fn write_pair(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    encode::var_bytes(out, key);
    encode::var_bytes(out, value);
}

fn only_type(key: &[u8], what: &str) -> Result<()> {
    if key.len() != 1 {
        return Err(bad(format!("{what}: the key has extra bytes")));
    }
    Ok(())
}

impl Input {
    fn parse(pairs: Vec<Pair>, index: usize) -> Result<Self> {
        let mut input = Input::default();
        let at = |f: &str| format!("input {index} {f}");
        for (key, value) in pairs {
            match key[0] {
                IN_NON_WITNESS_UTXO => {
                    only_type(&key, &at("non-witness UTXO"))?;
                    input.non_witness_utxo = Some(Tx::parse(&value, "psbt non-witness UTXO")?);
                }
                IN_WITNESS_UTXO => {
                    only_type(&key, &at("witness UTXO"))?;
                    let mut r = Reader::new(&value, "psbt witness UTXO");
                    input.witness_utxo = Some(TxOut::read(&mut r)?);
                    r.finish()?;
                }
                IN_PARTIAL_SIG => input.partial_sigs.push((key[1..].to_vec(), value)),
                IN_SIGHASH_TYPE => {
                    only_type(&key, &at("sighash type"))?;
                    let b: [u8; 4] = value
                        .as_slice()
                        .try_into()
                        .map_err(|_| bad(at("sighash type is not 4 bytes")))?;
                    input.sighash_type = Some(u32::from_le_bytes(b));
                }
                IN_FINAL_SCRIPTSIG => {
                    only_type(&key, &at("final scriptSig"))?;
                    input.final_script_sig = Some(value);
                }
                IN_FINAL_SCRIPTWITNESS => {
                    only_type(&key, &at("final witness"))?;
                    let mut r = Reader::new(&value, "psbt final witness");
                    let n = r.count(1)?;
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(r.var_bytes()?.to_vec());
                    }
                    r.finish()?;
                    input.final_script_witness = Some(items);
                }
                IN_TAP_KEY_SIG => {
                    only_type(&key, &at("Taproot key signature"))?;
                    if value.len() != 64 && value.len() != 65 {
                        return Err(bad(at("Taproot key signature is not 64 or 65 bytes")));
                    }
                    input.tap_key_sig = Some(value);
                }
                _ => input.other.push((key, value)),
            }
        }
        Ok(input)
    }

    fn write(&self, out: &mut Vec<u8>) {
        if let Some(tx) = &self.non_witness_utxo {
            write_pair(out, &[IN_NON_WITNESS_UTXO], &tx.serialize(true));
        }
        if let Some(o) = &self.witness_utxo {
            let mut v = Vec::new();
            o.write(&mut v);
            write_pair(out, &[IN_WITNESS_UTXO], &v);
        }
        for (pk, sig) in &self.partial_sigs {
            let mut key = vec![IN_PARTIAL_SIG];
            key.extend_from_slice(pk);
            write_pair(out, &key, sig);
        }
        if let Some(t) = self.sighash_type {
            write_pair(out, &[IN_SIGHASH_TYPE], &t.to_le_bytes());
        }
        if let Some(s) = &self.final_script_sig {
            write_pair(out, &[IN_FINAL_SCRIPTSIG], s);
        }
        if let Some(w) = &self.final_script_witness {
            let mut v = Vec::new();
            encode::compact(&mut v, w.len() as u64);
            for item in w {
                encode::var_bytes(&mut v, item);
            }
            write_pair(out, &[IN_FINAL_SCRIPTWITNESS], &v);
        }
        if let Some(s) = &self.tap_key_sig {
            write_pair(out, &[IN_TAP_KEY_SIG], s);
        }
        for (k, v) in &self.other {
            write_pair(out, k, v);
        }
        out.push(0);
    }

    /// Whether the input already has its final scriptSig or witness.
    pub fn is_final(&self) -> bool {
        self.final_script_sig.is_some() || self.final_script_witness.is_some()
    }
}

impl Psbt {
    /// Parse a serialized PSBT.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        if !bytes.starts_with(MAGIC) {
            return Err(bad("does not start with the PSBT magic \"psbt\\xff\""));
        }
        let mut r = Reader::new(&bytes[MAGIC.len()..], "psbt");
        let mut tx = None;
        let mut global = Vec::new();
        for (key, value) in read_map(&mut r, "global map")? {
            match key[0] {
                GLOBAL_UNSIGNED_TX => {
                    only_type(&key, "unsigned transaction")?;
                    tx = Some(Tx::parse(&value, "psbt unsigned transaction")?);
                }
                GLOBAL_VERSION if value != [0, 0, 0, 0] => {
                    return Err(PluginError::unsupported(
                        "PSBT version 2 is not supported; give a version 0 PSBT",
                    ))
                }
                _ => global.push((key, value)),
            }
        }
        let tx = tx.ok_or_else(|| bad("no unsigned transaction"))?;
        if let Some((i, o)) = tx
            .outputs
            .iter()
            .enumerate()
            .find(|(_, o)| o.value > MAX_MONEY)
        {
            return Err(bad(format!(
                "output {i} pays {} sat, more than will ever exist",
                o.value
            )));
        }
        if tx.has_witness() || tx.inputs.iter().any(|i| !i.script_sig.is_empty()) {
            return Err(bad("the unsigned transaction has scriptSigs or witnesses"));
        }
        let mut inputs = Vec::with_capacity(tx.inputs.len());
        for i in 0..tx.inputs.len() {
            let pairs = read_map(&mut r, "input map")?;
            inputs.push(Input::parse(pairs, i)?);
        }
        let mut outputs = Vec::with_capacity(tx.outputs.len());
        for _ in 0..tx.outputs.len() {
            outputs.push(read_map(&mut r, "output map")?);
        }
        r.finish()?;
        Ok(Psbt {
            tx,
            global,
            inputs,
            outputs,
        })
    }

    /// The serialization.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        write_pair(&mut out, &[GLOBAL_UNSIGNED_TX], &self.tx.serialize(false));
        for (k, v) in &self.global {
            write_pair(&mut out, k, v);
        }
        out.push(0);
        for i in &self.inputs {
            i.write(&mut out);
        }
        for o in &self.outputs {
            for (k, v) in o {
                write_pair(&mut out, k, v);
            }
            out.push(0);
        }
        out
    }

    /// The output input `index` spends, from its witness UTXO or its non-witness UTXO (whose
    /// txid must be the one the input names).
    pub fn spent_output(&self, index: usize) -> Result<TxOut> {
        let out = self.spent_output_unchecked(index)?;
        if out.value > MAX_MONEY {
            return Err(bad(format!(
                "input {index}: its UTXO claims {} sat, more than will ever exist",
                out.value
            )));
        }
        Ok(out)
    }

    fn spent_output_unchecked(&self, index: usize) -> Result<TxOut> {
        let input = &self.inputs[index];
        let prevout = self.tx.inputs[index].prevout;
        let from_full = match &input.non_witness_utxo {
            Some(prev) => {
                if prev.txid() != prevout.txid {
                    return Err(bad(format!(
                        "input {index}: the non-witness UTXO is not the transaction it spends"
                    )));
                }
                Some(
                    prev.outputs
                        .get(prevout.vout as usize)
                        .cloned()
                        .ok_or_else(|| {
                            bad(format!(
                                "input {index}: output {} is not in its non-witness UTXO",
                                prevout.vout
                            ))
                        })?,
                )
            }
            None => None,
        };
        match (&input.witness_utxo, from_full) {
            (Some(w), Some(f)) if *w != f => Err(bad(format!(
                "input {index}: the witness UTXO and the non-witness UTXO disagree"
            ))),
            (Some(w), _) => Ok(w.clone()),
            (None, Some(f)) => Ok(f),
            (None, None) => Err(bad(format!(
                "input {index}: no UTXO (a witness or non-witness UTXO is needed to sign and to show the fee)"
            ))),
        }
    }
}
