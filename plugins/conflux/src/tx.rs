//! Core Space transactions: the original native format (nine fields, v = recovery id) and the
//! typed CIP-2930 and CIP-1559 formats, which carry the `"cfx"` prefix and a type byte. The
//! encodings follow conflux-rust's `primitives::transaction`.

pub use mpcw_plugin_sdk::evmtx::Fees;
use mpcw_plugin_sdk::evmtx::{access_list_rlp, parse_access_list, AccessList, FeeFields};
use mpcw_plugin_sdk::keccak::keccak256;
use mpcw_plugin_sdk::rlplist::RlpList;
use mpcw_plugin_sdk::secp256k1::CheckedSignature;
use mpcw_plugin_sdk::uint::{parse_quantity, parse_u64, U256};
use mpcw_plugin_sdk::{hexstr, Finalized, PluginError, PublicKey, Result};

use crate::address::{self, Addr};
use crate::request::TxRequest;

/// The prefix of every typed native transaction.
const TYPED_PREFIX: &[u8; 3] = b"cfx";
/// The largest call data accepted (a node refuses transactions over 200 KB; we keep the EVM
/// plugin's 128 KiB).
pub const MAX_DATA_BYTES: usize = 128 * 1024;
/// Storage collateral: 1 CFX (10^18 drip) per 1024 bytes.
const DRIP_PER_STORAGE_BYTE: u64 = 1_000_000_000_000_000_000 / 1024;

/// Transaction type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxType {
    /// The original native transaction.
    Legacy,
    /// Type 1 (CIP-2930): access list.
    Cip2930,
    /// Type 2 (CIP-1559): priority fee and fee cap.
    Cip1559,
}

/// A parsed, validated transaction.
#[derive(Debug, Clone)]
pub struct Tx {
    pub tx_type: TxType,
    pub chain_id: u32,
    pub nonce: U256,
    pub gas: U256,
    pub fees: Fees,
    pub to: Option<Addr>,
    pub value: U256,
    pub storage_limit: u64,
    pub epoch_height: u64,
    pub data: Vec<u8>,
    pub access_list: AccessList,
}

fn type_name(t: TxType) -> &'static str {
    match t {
        TxType::Legacy => "legacy",
        TxType::Cip2930 => "CIP-2930",
        TxType::Cip1559 => "CIP-1559",
    }
}

fn tx_type(req: &TxRequest) -> Result<TxType> {
    match req.tx_type.as_deref() {
        Some("legacy" | "0x0" | "0x00" | "0") => Ok(TxType::Legacy),
        Some("cip2930" | "0x1" | "0x01" | "1") => Ok(TxType::Cip2930),
        Some("cip1559" | "0x2" | "0x02" | "2") => Ok(TxType::Cip1559),
        Some(other) => Err(PluginError::unsupported_choice(
            "transaction type",
            other,
            &["legacy", "cip2930", "cip1559"],
        )),
        None if req.max_fee_per_gas.is_some() || req.max_priority_fee_per_gas.is_some() => {
            Ok(TxType::Cip1559)
        }
        None if req.access_list.is_some() => Ok(TxType::Cip2930),
        None => Ok(TxType::Legacy),
    }
}

impl Tx {
    /// Validate a request against the wallet key and the network.
    /// The transaction `req` asks for on network `network_id`, signed by `key`; with no key (a
    /// request checked before a wallet is chosen), `from` is checked for form only.
    pub fn from_request(req: &TxRequest, key: Option<&PublicKey>, network_id: u64) -> Result<Self> {
        let chain_id = u32::try_from(network_id).map_err(|_| {
            PluginError::unknown_network(format!("chain id {network_id} exceeds 32 bits"))
        })?;
        if let Some(given) = &req.chain_id {
            let given = parse_u64(given, "chainId")?;
            if given != network_id {
                return Err(PluginError::invalid_request(format!(
                    "chainId {given} is not this network's chain id {network_id}"
                )));
            }
        }
        let me = key.map(address::from_key).transpose()?;
        if let Some(from) = &req.from {
            let from_address = address::parse(from, "from", network_id)?;
            if let Some(me) = me.filter(|me| *me != from_address) {
                return Err(PluginError::invalid_request(format!(
                    "from {from} is not this wallet's address {}",
                    address::encode(&me, network_id, false)?
                )));
            }
        }
        let tx_type = tx_type(req)?;
        if tx_type == TxType::Legacy && req.access_list.is_some() {
            return Err(PluginError::invalid_request(
                "a legacy transaction has no access list",
            ));
        }
        let to = match req.to.as_deref() {
            None | Some("") => None,
            Some(s) => Some(address::parse(s, "to", network_id)?),
        };
        let data = match req.data.as_deref() {
            None => Vec::new(),
            Some(d) => hexstr::decode(d, "data")?,
        };
        if data.len() > MAX_DATA_BYTES {
            return Err(PluginError::invalid_request(format!(
                "data is {} bytes; at most {MAX_DATA_BYTES} are accepted",
                data.len()
            )));
        }
        if to.is_none() && data.is_empty() {
            return Err(PluginError::invalid_request(
                "a transaction without `to` creates a contract and needs `data` (the init code)",
            ));
        }
        let access_list =
            parse_access_list(req.access_list.as_deref().unwrap_or(&[]), |a, what| {
                address::parse(a, what, network_id)
            })?;
        let gas = parse_quantity(&req.gas, "gas")?;
        if gas < U256::from(21_000u64) {
            return Err(PluginError::invalid_request(format!(
                "gas {gas} is below the 21000 every transaction costs"
            )));
        }
        let tx = Tx {
            tx_type,
            chain_id,
            nonce: parse_quantity(&req.nonce, "nonce")?,
            gas,
            fees: FeeFields {
                gas_price: req.gas_price.as_ref(),
                max_fee_per_gas: req.max_fee_per_gas.as_ref(),
                max_priority_fee_per_gas: req.max_priority_fee_per_gas.as_ref(),
            }
            .parse(tx_type == TxType::Cip1559, type_name(tx_type))?,
            to,
            value: match &req.value {
                Some(v) => parse_quantity(v, "value")?,
                None => U256::ZERO,
            },
            storage_limit: parse_u64(&req.storage_limit, "storageLimit")?,
            epoch_height: parse_u64(&req.epoch_height, "epochHeight")?,
            data,
            access_list,
        };
        tx.max_fee()?;
        tx.max_collateral()?;
        Ok(tx)
    }

    /// gas × (gasPrice or maxFeePerGas): the most this transaction can cost in fees.
    pub fn max_fee(&self) -> Result<U256> {
        self.fees.max_fee(self.gas)
    }

    /// The most storage collateral the transaction can lock (refunded when storage is freed).
    pub fn max_collateral(&self) -> Result<U256> {
        U256::from(self.storage_limit)
            .checked_mul(U256::from(DRIP_PER_STORAGE_BYTE))
            .ok_or_else(|| PluginError::invalid_request("storageLimit is too large"))
    }

    /// The unsigned transaction as an RLP list, fields in conflux-rust's order.
    fn unsigned_rlp(&self) -> Vec<u8> {
        let mut l = RlpList::new();
        l.push(&self.nonce);
        self.fees.push_rlp(&mut l);
        l.push(&self.gas);
        match &self.to {
            Some(a) => l.push(a),
            None => l.push(&[][..] as &[u8]),
        };
        l.push(&self.value)
            .push(&self.storage_limit)
            .push(&self.epoch_height)
            .push(&self.chain_id)
            .push(self.data.as_slice());
        if self.tx_type != TxType::Legacy {
            l.push_encoded(&access_list_rlp(&self.access_list));
        }
        l.finish()
    }

    /// `"cfx" || type` for typed transactions, nothing for legacy ones.
    fn prefix(&self) -> Vec<u8> {
        let t = match self.tx_type {
            TxType::Legacy => return Vec::new(),
            TxType::Cip2930 => 0x01,
            TxType::Cip1559 => 0x02,
        };
        let mut p = TYPED_PREFIX.to_vec();
        p.push(t);
        p
    }

    /// What keccak-256 is taken of to sign: the prefix, then the unsigned list.
    pub fn signing_preimage(&self) -> Vec<u8> {
        let mut out = self.prefix();
        out.extend(self.unsigned_rlp());
        out
    }

    /// The signed transaction, as `cfx_sendRawTransaction` takes it: the prefix, then
    /// rlp([unsigned, v, r, s]) with v the recovery id; its id is keccak-256 of all of it.
    pub fn finalize(&self, sig: &CheckedSignature) -> Finalized {
        let mut l = RlpList::new();
        l.push_encoded(&self.unsigned_rlp())
            .push(&sig.recovery_id)
            .push(&U256::from_be_slice(&sig.rs[..32]))
            .push(&U256::from_be_slice(&sig.rs[32..]));
        let mut raw = self.prefix();
        raw.extend(l.finish());
        Finalized {
            encoded: hexstr::encode_0x(&raw),
            id: hexstr::encode_0x(&keccak256(&raw)),
            raw,
            encoding: "hex".into(),
        }
    }
}
