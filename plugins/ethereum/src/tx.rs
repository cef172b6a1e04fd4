//! EVM transactions: legacy with EIP-155, EIP-2930 and EIP-1559, unsigned and signed encodings.

pub use mpcw_plugin_sdk::evmtx::Fees;
use mpcw_plugin_sdk::evmtx::{access_list_rlp, parse_access_list, AccessList, FeeFields};
use mpcw_plugin_sdk::keccak::keccak256;
use mpcw_plugin_sdk::rlplist::RlpList;
use mpcw_plugin_sdk::uint::{parse_quantity, parse_u64, U256};
use mpcw_plugin_sdk::{hexstr, Finalized, Network, PluginError, PublicKey, Result};

use crate::address::{self, Addr};
use crate::request::{CheckedSignature, TxRequest};

/// The largest call data accepted: a node refuses transactions over 128 KiB.
pub const MAX_DATA_BYTES: usize = 128 * 1024;

/// Transaction type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxType {
    /// Type 0 with EIP-155 replay protection.
    Legacy,
    /// Type 1 (EIP-2930): access list.
    Eip2930,
    /// Type 2 (EIP-1559): priority fee and fee cap.
    Eip1559,
}

/// A parsed, validated transaction.
#[derive(Debug, Clone)]
pub struct Tx {
    pub tx_type: TxType,
    pub chain_id: u64,
    pub nonce: u64,
    pub gas: u64,
    pub fees: Fees,
    pub to: Option<Addr>,
    pub value: U256,
    pub data: Vec<u8>,
    pub access_list: AccessList,
}

fn tx_type(req: &TxRequest) -> Result<TxType> {
    match req.tx_type.as_deref() {
        Some("legacy" | "0x0" | "0x00" | "0") => Ok(TxType::Legacy),
        Some("eip2930" | "0x1" | "0x01" | "1") => Ok(TxType::Eip2930),
        Some("eip1559" | "0x2" | "0x02" | "2") => Ok(TxType::Eip1559),
        Some(other) => Err(PluginError::unsupported_choice(
            "transaction type",
            other,
            &["legacy", "eip2930", "eip1559"],
        )),
        None if req.max_fee_per_gas.is_some() || req.max_priority_fee_per_gas.is_some() => {
            Ok(TxType::Eip1559)
        }
        None if req.access_list.is_some() => Ok(TxType::Eip2930),
        None => Ok(TxType::Legacy),
    }
}

impl Tx {
    /// Validate a request against the wallet key and the network.
    /// The transaction `req` asks for on `network`, signed by `key`; with no key (a request
    /// checked before a wallet is chosen), `from` is checked for form only.
    pub fn from_request(
        req: &TxRequest,
        key: Option<&PublicKey>,
        network: &Network,
    ) -> Result<Self> {
        let chain_id = crate::chain_id(network)?;
        if let Some(given) = &req.chain_id {
            let given = parse_u64(given, "chainId")?;
            if given != chain_id {
                return Err(PluginError::invalid_request(format!(
                    "chainId {given} is not the chain id of {} ({chain_id})",
                    network.name
                )));
            }
        }
        let me = key.map(address::from_key).transpose()?;
        if let Some(from) = &req.from {
            let from_address = address::parse(from, "from")?;
            if let Some(me) = me.filter(|me| *me != from_address) {
                return Err(PluginError::invalid_request(format!(
                    "from {from} is not this wallet's address {}",
                    address::checksum(&me)
                )));
            }
        }
        let tx_type = tx_type(req)?;
        let type_name = match tx_type {
            TxType::Legacy => "legacy",
            TxType::Eip2930 => "EIP-2930",
            TxType::Eip1559 => "EIP-1559",
        };
        let fees = FeeFields {
            gas_price: req.gas_price.as_ref(),
            max_fee_per_gas: req.max_fee_per_gas.as_ref(),
            max_priority_fee_per_gas: req.max_priority_fee_per_gas.as_ref(),
        }
        .parse(tx_type == TxType::Eip1559, type_name)?;
        if tx_type == TxType::Legacy && req.access_list.is_some() {
            return Err(PluginError::invalid_request(
                "a legacy transaction has no access list",
            ));
        }
        let to = match req.to.as_deref() {
            None | Some("") => None,
            Some(s) => Some(address::parse(s, "to")?),
        };
        let data = match req.data.as_deref() {
            None => Vec::new(),
            Some(d) => hexstr::decode(d, "data")?,
        };
        if data.len() > MAX_DATA_BYTES {
            return Err(PluginError::invalid_request(format!(
                "data is {} bytes; a node accepts at most {MAX_DATA_BYTES}",
                data.len()
            )));
        }
        if to.is_none() && data.is_empty() {
            return Err(PluginError::invalid_request(
                "a transaction without `to` creates a contract and needs `data` (the init code)",
            ));
        }
        let access_list =
            parse_access_list(req.access_list.as_deref().unwrap_or(&[]), address::parse)?;
        let gas = parse_u64(&req.gas, "gas")?;
        if gas < 21_000 {
            return Err(PluginError::invalid_request(format!(
                "gas {gas} is below the 21000 every transaction costs"
            )));
        }
        let tx = Tx {
            tx_type,
            chain_id,
            nonce: parse_u64(&req.nonce, "nonce")?,
            gas,
            fees,
            to,
            value: match &req.value {
                Some(v) => parse_quantity(v, "value")?,
                None => U256::ZERO,
            },
            data,
            access_list,
        };
        tx.max_fee()?;
        Ok(tx)
    }

    /// gas × (gasPrice or maxFeePerGas): the most this transaction can cost in fees.
    pub fn max_fee(&self) -> Result<U256> {
        self.fees.max_fee(U256::from(self.gas))
    }

    /// The fields every type shares after the fees, in order: to, value, data.
    fn push_common(&self, l: &mut RlpList) {
        match &self.to {
            Some(a) => l.push(a),
            None => l.push(&[][..] as &[u8]),
        };
        l.push(&self.value).push(self.data.as_slice());
    }

    /// The fields of a typed transaction before the signature.
    fn typed_fields(&self) -> RlpList {
        let mut l = RlpList::new();
        l.push(&self.chain_id).push(&self.nonce);
        self.fees.push_rlp(&mut l);
        l.push(&self.gas);
        self.push_common(&mut l);
        l.push_encoded(&access_list_rlp(&self.access_list));
        l
    }

    fn legacy_fields(&self) -> RlpList {
        let mut l = RlpList::new();
        l.push(&self.nonce);
        self.fees.push_rlp(&mut l);
        l.push(&self.gas);
        self.push_common(&mut l);
        l
    }

    fn type_byte(&self) -> Option<u8> {
        match self.tx_type {
            TxType::Legacy => None,
            TxType::Eip2930 => Some(0x01),
            TxType::Eip1559 => Some(0x02),
        }
    }

    /// What keccak-256 is taken of to sign: rlp([..., chainId, 0, 0]) for legacy (EIP-155),
    /// type || rlp([...]) for typed transactions (EIP-2718).
    pub fn signing_preimage(&self) -> Vec<u8> {
        match self.type_byte() {
            None => {
                let mut l = self.legacy_fields();
                l.push(&self.chain_id).push(&0u8).push(&0u8);
                l.finish()
            }
            Some(t) => {
                let mut out = vec![t];
                out.extend(self.typed_fields().finish());
                out
            }
        }
    }

    /// The signed transaction, as `eth_sendRawTransaction` takes it, and its hash.
    pub fn finalize(&self, sig: &CheckedSignature) -> Finalized {
        let r = U256::from_be_slice(&sig.rs[..32]);
        let s = U256::from_be_slice(&sig.rs[32..]);
        let raw = match self.type_byte() {
            None => {
                // EIP-155: v = recovery id + 35 + 2 × chain id. MAX_CHAIN_ID keeps it in u64.
                let v = u64::from(sig.recovery_id) + 35 + 2 * self.chain_id;
                let mut l = self.legacy_fields();
                l.push(&v).push(&r).push(&s);
                l.finish()
            }
            Some(t) => {
                let mut l = self.typed_fields();
                l.push(&sig.recovery_id).push(&r).push(&s);
                let mut out = vec![t];
                out.extend(l.finish());
                out
            }
        };
        Finalized {
            encoded: hexstr::encode_0x(&raw),
            id: hexstr::encode_0x(&keccak256(&raw)),
            raw,
            encoding: "hex".into(),
        }
    }
}
