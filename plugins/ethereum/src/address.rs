//! Ethereum addresses: from a public key, and EIP-55 mixed-case checksums.

use mpcw_plugin_sdk::keccak::keccak256;
use mpcw_plugin_sdk::{secp256k1, PluginError, PublicKey, Result, Scheme};

/// A 20-byte account address.
pub type Addr = [u8; 20];

/// The address of a secp256k1 key: the last 20 bytes of keccak-256 of the uncompressed point.
pub fn from_key(key: &PublicKey) -> Result<Addr> {
    if key.scheme != Scheme::EcdsaSecp256k1 {
        return Err(PluginError::invalid_public_key(
            "EVM accounts use ecdsa-secp256k1 keys",
        ));
    }
    let vk = secp256k1::parse_key(&key.bytes)?;
    Ok(from_verifying_key(&vk))
}

/// The address of an already parsed key.
pub fn from_verifying_key(vk: &mpcw_plugin_sdk::secp256k1::VerifyingKey) -> Addr {
    let hash = keccak256(&secp256k1::uncompressed_xy(vk));
    let mut out = [0u8; 20];
    out.copy_from_slice(&hash[12..]);
    out
}

/// The EIP-55 checksummed form: a hex letter is upper case when the matching nibble of
/// keccak-256 of the lower-case hex is 8 or more.
pub fn checksum(addr: &Addr) -> String {
    let lower = hex::encode(addr);
    let hash = keccak256(lower.as_bytes());
    let mut out = String::with_capacity(42);
    out.push_str("0x");
    for (i, c) in lower.chars().enumerate() {
        let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
        if c.is_ascii_alphabetic() && nibble >= 8 {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Parse an address. All-lower or all-upper hex is accepted as is; mixed case must carry a
/// valid EIP-55 checksum, so a mistyped address is caught before anything is signed.
pub fn parse(s: &str, what: &str) -> Result<Addr> {
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .ok_or_else(|| {
            PluginError::invalid_request(format!("{what}: address must start with 0x"))
        })?;
    let addr: Addr = mpcw_plugin_sdk::hexstr::decode_fixed(digits, what)?;
    let has_lower = digits.chars().any(|c| c.is_ascii_lowercase());
    let has_upper = digits.chars().any(|c| c.is_ascii_uppercase());
    if has_lower && has_upper && checksum(&addr)[2..] != *digits {
        return Err(PluginError::invalid_request(format!(
            "{what}: {s} has a wrong EIP-55 checksum (expected {})",
            checksum(&addr)
        )));
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of EIP-55, checked in with their source.
    const EIP55: &str = include_str!("../../../tests/vectors/eip55.txt");

    #[test]
    fn eip55_examples() {
        let vectors: Vec<&str> = EIP55.lines().filter(|l| l.starts_with("0x")).collect();
        assert_eq!(vectors.len(), 8);
        for a in vectors {
            let parsed = parse(a, "a").unwrap();
            assert_eq!(checksum(&parsed), a);
        }
        // One flipped letter breaks the checksum.
        assert!(parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "a").is_err());
        assert!(parse("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "a").is_err());
        assert!(parse("0x5aAeb6", "a").is_err());
    }
}
