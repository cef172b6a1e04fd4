//! Typed structured data: EIP-712 as `eth_signTypedData_v4` hashes it, and its Conflux twin
//! CIP-23, which differs only in the domain type's name and a required chain id.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value;

use crate::keccak::keccak256;
use crate::uint::{parse_quantity, U256};
use crate::{hexstr, PluginError, Result};

/// What differs between the chains that use this encoding.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// The domain struct's type name: `EIP712Domain` (EIP-712) or `CIP23Domain` (CIP-23).
    pub domain_type: &'static str,
    /// Whether the domain must carry a chain id (CIP-23 requires it).
    pub require_chain_id: bool,
    /// Parses an `address` value (`what` names it in errors) into its 20 bytes.
    pub parse_address: fn(&str, &str) -> Result<[u8; 20]>,
}

/// Nesting deeper than this (structs in arrays in structs ...) is refused.
const MAX_DEPTH: usize = 32;

/// One member of a struct type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// The member's name.
    pub name: String,
    /// Its type: an atomic type, `string`, `bytes`, a struct name or an array of these.
    #[serde(rename = "type")]
    pub ty: String,
}

/// Typed data: types, primary type, domain and message.
#[derive(Debug, Clone)]
pub struct TypedData {
    /// The struct types, the domain type included.
    pub types: BTreeMap<String, Vec<Member>>,
    /// The type of `message`.
    pub primary_type: String,
    /// The domain's values.
    pub domain: serde_json::Map<String, Value>,
    /// The message's values.
    pub message: Value,
    dialect: Dialect,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Raw {
    types: BTreeMap<String, Vec<Member>>,
    primary_type: String,
    domain: serde_json::Map<String, Value>,
    message: Value,
}

fn bad(msg: impl Into<String>) -> PluginError {
    PluginError::invalid_request(format!("typedData: {}", msg.into()))
}

/// The standard domain fields in the order EIP-712 lists them, used when `types` has no entry
/// for the domain type.
const DOMAIN_FIELDS: [(&str, &str); 5] = [
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
    ("salt", "bytes32"),
];

impl TypedData {
    /// Parse and check typed data for the network with `chain_id`: a domain chain id must match.
    pub fn parse(value: &Value, chain_id: u64, dialect: Dialect) -> Result<Self> {
        let raw: Raw = serde_json::from_value(value.clone()).map_err(|e| bad(e.to_string()))?;
        let mut types = raw.types;
        if !types.contains_key(dialect.domain_type) {
            let members = DOMAIN_FIELDS
                .iter()
                .filter(|(n, _)| raw.domain.contains_key(*n))
                .map(|(n, t)| Member {
                    name: n.to_string(),
                    ty: t.to_string(),
                })
                .collect();
            types.insert(dialect.domain_type.into(), members);
        }
        let data = TypedData {
            types,
            primary_type: raw.primary_type,
            domain: raw.domain,
            message: raw.message,
            dialect,
        };
        if !data.types.contains_key(&data.primary_type) {
            return Err(bad(format!(
                "primaryType {} is not among the types",
                data.primary_type
            )));
        }
        if dialect.require_chain_id && !data.domain.contains_key("chainId") {
            return Err(bad(format!(
                "a {} must have a chainId",
                dialect.domain_type
            )));
        }
        if let Some(id) = data.domain.get("chainId") {
            let id = parse_quantity(id, "typedData.domain.chainId")?;
            if id != U256::from(chain_id) {
                return Err(bad(format!(
                    "domain chainId {id} is not this network's chain id {chain_id}"
                )));
            }
        }
        Ok(data)
    }

    /// keccak-256 of the encoded domain: the domain separator.
    pub fn domain_separator(&self) -> Result<[u8; 32]> {
        self.hash_struct(
            self.dialect.domain_type,
            &Value::Object(self.domain.clone()),
            0,
        )
    }

    /// 0x19 0x01 || domainSeparator || hashStruct(message); keccak-256 of it is what is signed.
    pub fn signing_preimage(&self) -> Result<Vec<u8>> {
        let mut out = vec![0x19, 0x01];
        out.extend(self.domain_separator()?);
        if self.primary_type != self.dialect.domain_type {
            out.extend(self.hash_struct(&self.primary_type, &self.message, 0)?);
        }
        Ok(out)
    }

    /// The struct types `name` refers to, directly or not (not including itself).
    fn dependencies(&self, name: &str, found: &mut BTreeSet<String>) {
        if let Some(members) = self.types.get(name) {
            for m in members {
                let base = base_type(&m.ty);
                if self.types.contains_key(base) && base != name && found.insert(base.to_string()) {
                    self.dependencies(base, found);
                }
            }
        }
    }

    /// encodeType: `Name(type name,...)` of the type, then of its dependencies sorted by name.
    pub fn encode_type(&self, name: &str) -> Result<String> {
        let mut deps = BTreeSet::new();
        self.dependencies(name, &mut deps);
        deps.remove(name);
        let mut out = String::new();
        for n in std::iter::once(name.to_string()).chain(deps) {
            let members = self
                .types
                .get(&n)
                .ok_or_else(|| bad(format!("type {n} is not defined")))?;
            let fields: Vec<String> = members
                .iter()
                .map(|m| format!("{} {}", m.ty, m.name))
                .collect();
            out.push_str(&format!("{n}({})", fields.join(",")));
        }
        Ok(out)
    }

    fn hash_struct(&self, name: &str, value: &Value, depth: usize) -> Result<[u8; 32]> {
        Ok(keccak256(&self.encode_data(name, value, depth)?))
    }

    /// typeHash || enc(member) for each member.
    fn encode_data(&self, name: &str, value: &Value, depth: usize) -> Result<Vec<u8>> {
        if depth > MAX_DEPTH {
            return Err(bad(format!("nesting deeper than {MAX_DEPTH}")));
        }
        let members = self
            .types
            .get(name)
            .ok_or_else(|| bad(format!("type {name} is not defined")))?;
        let obj = value
            .as_object()
            .ok_or_else(|| bad(format!("a {name} must be a JSON object")))?;
        let mut out = keccak256(self.encode_type(name)?.as_bytes()).to_vec();
        for m in members {
            let v = obj
                .get(&m.name)
                .ok_or_else(|| bad(format!("{name}.{} is missing", m.name)))?;
            out.extend(self.encode_value(&m.ty, v, &format!("{name}.{}", m.name), depth)?);
        }
        Ok(out)
    }

    /// The 32-byte encoding of one value of type `ty`.
    fn encode_value(&self, ty: &str, v: &Value, path: &str, depth: usize) -> Result<[u8; 32]> {
        if let Some((elem, len)) = array_type(ty) {
            let items = v
                .as_array()
                .ok_or_else(|| bad(format!("{path} must be an array")))?;
            if let Some(n) = len {
                if items.len() != n {
                    return Err(bad(format!(
                        "{path} must have {n} elements, has {}",
                        items.len()
                    )));
                }
            }
            let mut concat = Vec::with_capacity(items.len() * 32);
            for (i, item) in items.iter().enumerate() {
                concat.extend(self.encode_value(elem, item, &format!("{path}[{i}]"), depth + 1)?);
            }
            return Ok(keccak256(&concat));
        }
        if self.types.contains_key(ty) {
            return self.hash_struct(ty, v, depth + 1);
        }
        encode_atomic(ty, v, path, self.dialect.parse_address)
    }
}

/// `T[]` -> (T, None), `T[3]` -> (T, Some(3)); other types -> None.
fn array_type(ty: &str) -> Option<(&str, Option<usize>)> {
    let open = ty.rfind('[')?;
    if !ty.ends_with(']') {
        return None;
    }
    let inner = &ty[open + 1..ty.len() - 1];
    let len = if inner.is_empty() {
        None
    } else {
        Some(inner.parse().ok()?)
    };
    Some((&ty[..open], len))
}

fn base_type(ty: &str) -> &str {
    ty.split('[').next().unwrap_or(ty)
}

fn word(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[32 - bytes.len()..].copy_from_slice(bytes);
    out
}

/// Parse a possibly negative integer as its 256-bit two's complement.
fn parse_int(v: &Value, bits: usize, path: &str) -> Result<U256> {
    let (negative, magnitude) = match v {
        Value::Number(n) if n.is_i64() => {
            let i = n.as_i64().unwrap_or_default();
            (i < 0, U256::from(i.unsigned_abs()))
        }
        Value::String(s) if s.starts_with('-') => (
            true,
            parse_quantity(&Value::String(s[1..].to_string()), path)?,
        ),
        other => (false, parse_quantity(other, path)?),
    };
    let limit = U256::from(1u8) << (bits - 1);
    if (!negative && magnitude >= limit) || (negative && magnitude > limit) {
        return Err(bad(format!("{path} does not fit in int{bits}")));
    }
    Ok(if negative {
        magnitude.wrapping_neg()
    } else {
        magnitude
    })
}

fn int_bits(ty: &str, prefix: &str) -> Option<usize> {
    let rest = ty.strip_prefix(prefix)?;
    let bits = if rest.is_empty() {
        256
    } else {
        rest.parse().ok()?
    };
    (bits % 8 == 0 && (8..=256).contains(&bits)).then_some(bits)
}

fn encode_atomic(
    ty: &str,
    v: &Value,
    path: &str,
    parse_address: fn(&str, &str) -> Result<[u8; 20]>,
) -> Result<[u8; 32]> {
    match ty {
        "string" => {
            let s = v
                .as_str()
                .ok_or_else(|| bad(format!("{path} must be a string")))?;
            return Ok(keccak256(s.as_bytes()));
        }
        "bytes" => {
            let s = v
                .as_str()
                .ok_or_else(|| bad(format!("{path} must be a hex string")))?;
            return Ok(keccak256(&hexstr::decode(s, path)?));
        }
        "bool" => {
            let b = v
                .as_bool()
                .ok_or_else(|| bad(format!("{path} must be true or false")))?;
            return Ok(word(&[b as u8]));
        }
        "address" => {
            let s = v
                .as_str()
                .ok_or_else(|| bad(format!("{path} must be an address string")))?;
            return Ok(word(&parse_address(s, path)?));
        }
        _ => {}
    }
    if let Some(bits) = int_bits(ty, "uint") {
        let n = parse_quantity(v, path)?;
        if bits < 256 && n >> bits != U256::ZERO {
            return Err(bad(format!("{path} does not fit in uint{bits}")));
        }
        return Ok(n.to_be_bytes());
    }
    if let Some(bits) = int_bits(ty, "int") {
        return Ok(parse_int(v, bits, path)?.to_be_bytes());
    }
    if let Some(n) = ty
        .strip_prefix("bytes")
        .and_then(|n| n.parse::<usize>().ok())
    {
        if !(1..=32).contains(&n) {
            return Err(bad(format!("{path}: bytes{n} is not a type")));
        }
        let s = v
            .as_str()
            .ok_or_else(|| bad(format!("{path} must be a hex string")))?;
        let b = hexstr::decode(s, path)?;
        if b.len() != n {
            return Err(bad(format!("{path} must be {n} bytes, is {}", b.len())));
        }
        let mut out = [0u8; 32];
        out[..n].copy_from_slice(&b);
        return Ok(out);
    }
    Err(bad(format!("{path}: unknown type {ty}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_types_and_ints() {
        assert_eq!(array_type("uint256[]"), Some(("uint256", None)));
        assert_eq!(array_type("Person[2][]"), Some(("Person[2]", None)));
        assert_eq!(array_type("bytes32[3]"), Some(("bytes32", Some(3))));
        assert_eq!(array_type("string"), None);
        let minus_one = parse_int(&serde_json::json!(-1), 8, "x").unwrap();
        assert_eq!(minus_one, U256::MAX);
        assert!(parse_int(&serde_json::json!(128), 8, "x").is_err());
        assert!(parse_int(&serde_json::json!(-128), 8, "x").is_ok());
        assert!(parse_int(&serde_json::json!("-129"), 8, "x").is_err());
        let addr = |s: &str, w: &str| hexstr::decode_fixed::<20>(s, w);
        assert!(encode_atomic("uint8", &serde_json::json!(256), "x", addr).is_err());
        assert!(encode_atomic("bytes33", &serde_json::json!("0x00"), "x", addr).is_err());
    }
}
