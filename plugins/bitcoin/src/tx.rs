//! Transactions in Bitcoin's serialization (BIP-144 for witnesses).

use mpcw_plugin_sdk::{PluginError, Result};

use crate::encode::{self, Reader};
use crate::hash::sha256d;

/// The most inputs or outputs a transaction may have here; far above what fits in a block's
/// standard weight.
const MAX_ITEMS: usize = 10_000;

/// A reference to an output of an earlier transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutPoint {
    /// The transaction id in internal byte order (explorers show it reversed).
    pub txid: [u8; 32],
    /// The output index.
    pub vout: u32,
}

/// An input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxIn {
    pub prevout: OutPoint,
    pub script_sig: Vec<u8>,
    pub sequence: u32,
    pub witness: Vec<Vec<u8>>,
}

/// An output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxOut {
    /// Satoshis.
    pub value: u64,
    pub script_pubkey: Vec<u8>,
}

/// A transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tx {
    pub version: u32,
    pub inputs: Vec<TxIn>,
    pub outputs: Vec<TxOut>,
    pub lock_time: u32,
}

impl TxOut {
    /// Read an output.
    pub fn read(r: &mut Reader) -> Result<Self> {
        Ok(TxOut {
            value: r.u64()?,
            script_pubkey: r.var_bytes()?.to_vec(),
        })
    }

    /// Append the output's serialization.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend(self.value.to_le_bytes());
        encode::var_bytes(out, &self.script_pubkey);
    }
}

impl OutPoint {
    /// Append txid || vout.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.txid);
        out.extend(self.vout.to_le_bytes());
    }
}

impl Tx {
    /// Parse a transaction, with or without witnesses; `what` names it in errors.
    pub fn parse(bytes: &[u8], what: &'static str) -> Result<Self> {
        let mut r = Reader::new(bytes, what);
        let version = r.u32()?;
        let mut n_in = r.count(41)?;
        let mut segwit = false;
        if n_in == 0 {
            // BIP-144: marker 0x00, flag 0x01.
            if r.u8()? != 1 {
                return Err(PluginError::invalid_request(format!(
                    "{what}: a transaction without inputs"
                )));
            }
            segwit = true;
            n_in = r.count(41)?;
        }
        if n_in == 0 || n_in > MAX_ITEMS {
            return Err(PluginError::invalid_request(format!(
                "{what}: {n_in} inputs"
            )));
        }
        let mut inputs = Vec::with_capacity(n_in);
        for _ in 0..n_in {
            inputs.push(TxIn {
                prevout: OutPoint {
                    txid: r.array()?,
                    vout: r.u32()?,
                },
                script_sig: r.var_bytes()?.to_vec(),
                sequence: r.u32()?,
                witness: Vec::new(),
            });
        }
        let n_out = r.count(9)?;
        if n_out > MAX_ITEMS {
            return Err(PluginError::invalid_request(format!(
                "{what}: {n_out} outputs"
            )));
        }
        let mut outputs = Vec::with_capacity(n_out);
        for _ in 0..n_out {
            outputs.push(TxOut::read(&mut r)?);
        }
        if segwit {
            for input in &mut inputs {
                let items = r.count(1)?;
                for _ in 0..items {
                    input.witness.push(r.var_bytes()?.to_vec());
                }
            }
        }
        let lock_time = r.u32()?;
        r.finish()?;
        Ok(Tx {
            version,
            inputs,
            outputs,
            lock_time,
        })
    }

    /// Whether any input carries a witness.
    pub fn has_witness(&self) -> bool {
        self.inputs.iter().any(|i| !i.witness.is_empty())
    }

    /// The serialization, with witnesses (BIP-144) if `with_witness` and there are any.
    pub fn serialize(&self, with_witness: bool) -> Vec<u8> {
        let segwit = with_witness && self.has_witness();
        let mut out = self.version.to_le_bytes().to_vec();
        if segwit {
            out.extend([0x00, 0x01]);
        }
        encode::compact(&mut out, self.inputs.len() as u64);
        for i in &self.inputs {
            i.prevout.write(&mut out);
            encode::var_bytes(&mut out, &i.script_sig);
            out.extend(i.sequence.to_le_bytes());
        }
        encode::compact(&mut out, self.outputs.len() as u64);
        for o in &self.outputs {
            o.write(&mut out);
        }
        if segwit {
            for i in &self.inputs {
                encode::compact(&mut out, i.witness.len() as u64);
                for item in &i.witness {
                    encode::var_bytes(&mut out, item);
                }
            }
        }
        out.extend(self.lock_time.to_le_bytes());
        out
    }

    /// The transaction id in internal byte order: SHA-256d of the serialization without
    /// witnesses.
    pub fn txid(&self) -> [u8; 32] {
        sha256d(&self.serialize(false))
    }
}

/// A txid as explorers and RPCs write it: hex of the reversed bytes.
pub fn txid_hex(txid: &[u8; 32]) -> String {
    let mut rev = *txid;
    rev.reverse();
    hex::encode(rev)
}
