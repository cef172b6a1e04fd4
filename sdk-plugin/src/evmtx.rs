//! What the Ethereum and Conflux transaction formats share: fees (a gas price, or EIP-1559's
//! fee cap and priority fee) and access lists (EIP-2930, CIP-2930).

use serde::Deserialize;
use serde_json::Value;

use crate::rlplist::RlpList;
use crate::uint::{parse_quantity, U256};
use crate::{hexstr, PluginError, Result};

/// Fees of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fees {
    /// One price per gas (legacy and access-list transactions).
    GasPrice(U256),
    /// EIP-1559 / CIP-1559.
    Dynamic {
        /// The most paid per gas, base fee included.
        max_fee_per_gas: U256,
        /// The most paid per gas to the block producer.
        max_priority_fee_per_gas: U256,
    },
}

/// The fee fields of a request, as JSON quantities.
#[derive(Debug, Clone, Copy)]
pub struct FeeFields<'a> {
    pub gas_price: Option<&'a Value>,
    pub max_fee_per_gas: Option<&'a Value>,
    pub max_priority_fee_per_gas: Option<&'a Value>,
}

impl FeeFields<'_> {
    /// Whether the request gives EIP-1559 fee fields.
    pub fn is_dynamic(&self) -> bool {
        self.max_fee_per_gas.is_some() || self.max_priority_fee_per_gas.is_some()
    }

    /// The fees of a `type_name` transaction: dynamic fees when `dynamic`, else a gas price.
    /// Fields of the other kind, a missing field, or a priority fee above the fee cap are
    /// refused.
    pub fn parse(&self, dynamic: bool, type_name: &str) -> Result<Fees> {
        fn required<'v>(v: Option<&'v Value>, what: &str, type_name: &str) -> Result<&'v Value> {
            v.ok_or_else(|| {
                PluginError::invalid_request(format!(
                    "{what} is required for a {type_name} transaction"
                ))
            })
        }
        if !dynamic {
            if self.is_dynamic() {
                return Err(PluginError::invalid_request(format!(
                    "a {type_name} transaction takes gasPrice, not maxFeePerGas"
                )));
            }
            let price = required(self.gas_price, "gasPrice", type_name)?;
            return Ok(Fees::GasPrice(parse_quantity(price, "gasPrice")?));
        }
        if self.gas_price.is_some() {
            return Err(PluginError::invalid_request(format!(
                "a {type_name} transaction takes maxFeePerGas and maxPriorityFeePerGas, not gasPrice"
            )));
        }
        let max_fee_per_gas = parse_quantity(
            required(self.max_fee_per_gas, "maxFeePerGas", type_name)?,
            "maxFeePerGas",
        )?;
        let max_priority_fee_per_gas = parse_quantity(
            required(
                self.max_priority_fee_per_gas,
                "maxPriorityFeePerGas",
                type_name,
            )?,
            "maxPriorityFeePerGas",
        )?;
        if max_priority_fee_per_gas > max_fee_per_gas {
            return Err(PluginError::invalid_request(
                "maxPriorityFeePerGas exceeds maxFeePerGas",
            ));
        }
        Ok(Fees::Dynamic {
            max_fee_per_gas,
            max_priority_fee_per_gas,
        })
    }
}

impl Fees {
    /// The most paid per gas: the gas price or the fee cap.
    pub fn max_per_gas(&self) -> U256 {
        match self {
            Fees::GasPrice(p) => *p,
            Fees::Dynamic {
                max_fee_per_gas, ..
            } => *max_fee_per_gas,
        }
    }

    /// gas × the most paid per gas: the most the transaction can cost in fees.
    pub fn max_fee(&self, gas: U256) -> Result<U256> {
        self.max_per_gas()
            .checked_mul(gas)
            .ok_or_else(|| PluginError::invalid_request("gas × fee per gas overflows 256 bits"))
    }

    /// Append the fee fields in transaction order: the price, or the priority fee then the cap.
    pub fn push_rlp(&self, l: &mut RlpList) {
        match self {
            Fees::GasPrice(p) => {
                l.push(p);
            }
            Fees::Dynamic {
                max_fee_per_gas,
                max_priority_fee_per_gas,
            } => {
                l.push(max_priority_fee_per_gas).push(max_fee_per_gas);
            }
        }
    }
}

/// ERC-20 `transfer(address,uint256)`.
pub const ERC20_TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
/// ERC-20 `approve(address,uint256)`.
pub const ERC20_APPROVE: [u8; 4] = [0x09, 0x5e, 0xa7, 0xb3];

/// A token call a summary can put in words (ERC-20, and Conflux's CRC-20, which is the same ABI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCall {
    /// `transfer(to, amount)`.
    Transfer {
        /// The recipient.
        to: [u8; 20],
        /// Base units.
        amount: U256,
    },
    /// `approve(spender, amount)`.
    Approve {
        /// Who may spend.
        spender: [u8; 20],
        /// Base units; `U256::MAX` is unlimited.
        amount: U256,
    },
}

/// Decode a token transfer or approval: the selector, then two 32-byte words, the first an
/// address (its 12 high bytes zero).
pub fn token_call(data: &[u8]) -> Option<TokenCall> {
    if data.len() != 4 + 64 {
        return None;
    }
    let (selector, args) = data.split_at(4);
    if args[..12].iter().any(|b| *b != 0) {
        return None;
    }
    let mut who = [0u8; 20];
    who.copy_from_slice(&args[12..32]);
    let amount = U256::from_be_slice(&args[32..64]);
    match selector {
        s if s == ERC20_TRANSFER => Some(TokenCall::Transfer { to: who, amount }),
        s if s == ERC20_APPROVE => Some(TokenCall::Approve {
            spender: who,
            amount,
        }),
        _ => None,
    }
}

/// One entry of an access list, as requests write it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessListItem {
    /// The account.
    pub address: String,
    /// 32-byte storage keys, hex.
    pub storage_keys: Vec<String>,
}

/// A parsed access list: accounts and their storage keys.
pub type AccessList = Vec<([u8; 20], Vec<[u8; 32]>)>;

/// Parse an access list; `parse_address` reads an address in the chain's forms.
pub fn parse_access_list(
    items: &[AccessListItem],
    parse_address: impl Fn(&str, &str) -> Result<[u8; 20]>,
) -> Result<AccessList> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let addr = parse_address(&item.address, &format!("accessList[{i}].address"))?;
            let keys = item
                .storage_keys
                .iter()
                .enumerate()
                .map(|(j, k)| {
                    hexstr::decode_fixed::<32>(k, &format!("accessList[{i}].storageKeys[{j}]"))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((addr, keys))
        })
        .collect()
}

/// The RLP list [[address, [key, ...]], ...].
pub fn access_list_rlp(list: &AccessList) -> Vec<u8> {
    let mut out = RlpList::new();
    for (addr, keys) in list {
        let mut storage = RlpList::new();
        for k in keys {
            storage.push(k);
        }
        let mut item = RlpList::new();
        item.push(addr).push_encoded(&storage.finish());
        out.push_encoded(&item.finish());
    }
    out.finish()
}
