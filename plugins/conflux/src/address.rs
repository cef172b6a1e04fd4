//! Conflux Core Space addresses: hex addresses with a type nibble, and CIP-37 base32 addresses
//! (`cfx:`, `cfxtest:`, `net<id>:`, optionally with the verbose `type.` part).

use mpcw_plugin_sdk::keccak::keccak256;
use mpcw_plugin_sdk::{hexstr, secp256k1, PluginError, PublicKey, Result, Scheme};

/// A 20-byte Core Space address.
pub type Addr = [u8; 20];

/// The network id of Conflux mainnet (prefix `cfx`).
pub const MAINNET_ID: u64 = 1029;
/// The network id of Conflux testnet (prefix `cfxtest`).
pub const TESTNET_ID: u64 = 1;

/// CIP-37's base32 alphabet (`i`, `l`, `o`, `q` left out).
const ALPHABET: &[u8; 32] = b"abcdefghjkmnprstuvwxyz0123456789";

/// The account of a secp256k1 key: keccak-256 of the uncompressed point, last 20 bytes, with the
/// high nibble of the first byte set to 1 (the "user" type of the Conflux protocol
/// specification, equation 1).
pub fn from_key(key: &PublicKey) -> Result<Addr> {
    if key.scheme != Scheme::EcdsaSecp256k1 {
        return Err(PluginError::invalid_public_key(
            "Conflux accounts use ecdsa-secp256k1 keys",
        ));
    }
    let vk = secp256k1::parse_key(&key.bytes)?;
    let hash = keccak256(&secp256k1::uncompressed_xy(&vk));
    let mut out = [0u8; 20];
    out.copy_from_slice(&hash[12..]);
    out[0] = (out[0] & 0x0f) | 0x10;
    Ok(out)
}

/// The address type CIP-37's verbose form names, from the first nibble.
pub fn kind(addr: &Addr) -> Option<&'static str> {
    if addr.iter().all(|b| *b == 0) {
        return Some("null");
    }
    match addr[0] & 0xf0 {
        0x00 => Some("builtin"),
        0x10 => Some("user"),
        0x80 => Some("contract"),
        _ => None,
    }
}

/// The CIP-37 network prefix of a network id.
pub fn prefix(network_id: u64) -> Result<String> {
    match network_id {
        MAINNET_ID => Ok("cfx".into()),
        TESTNET_ID => Ok("cfxtest".into()),
        n if n <= u64::from(u32::MAX) => Ok(format!("net{n}")),
        n => Err(PluginError::unknown_network(format!(
            "Conflux network id {n} does not fit in 32 bits"
        ))),
    }
}

fn network_id(prefix: &str) -> Option<u64> {
    match prefix {
        "cfx" => Some(MAINNET_ID),
        "cfxtest" => Some(TESTNET_ID),
        p => {
            let digits = p.strip_prefix("net")?;
            let n: u32 = digits.parse().ok()?;
            // One spelling per network: no leading zeros, and the named networks keep their names.
            (n.to_string() == digits && !matches!(u64::from(n), MAINNET_ID | TESTNET_ID))
                .then_some(u64::from(n))
        }
    }
}

/// The BCH-style checksum of CIP-37 (the same generator as Bitcoin Cash's cashaddr).
fn polymod(values: impl IntoIterator<Item = u8>) -> u64 {
    const GEN: [u64; 5] = [
        0x98_f2bc_8e61,
        0x79_b76d_99e2,
        0xf3_3e5f_b3c4,
        0xae_2eab_e2a8,
        0x1e_4f43_e470,
    ];
    let mut c: u64 = 1;
    for d in values {
        let c0 = (c >> 35) as u8;
        c = ((c & 0x07_ffff_ffff) << 5) ^ u64::from(d);
        for (i, g) in GEN.iter().enumerate() {
            if c0 & (1 << i) != 0 {
                c ^= g;
            }
        }
    }
    c ^ 1
}

fn checksum_input<'a>(prefix: &'a str, words: &'a [u8]) -> impl Iterator<Item = u8> + 'a {
    prefix
        .bytes()
        .map(|b| b & 0x1f)
        .chain(std::iter::once(0))
        .chain(words.iter().copied())
}

/// The version byte (0: a 160-bit Conflux address) and the address as 5-bit words.
fn to_words(addr: &Addr) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(21);
    bytes.push(0);
    bytes.extend_from_slice(addr);
    let mut words = Vec::with_capacity(34);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            words.push(((acc >> bits) & 0x1f) as u8);
        }
    }
    if bits > 0 {
        words.push(((acc << (5 - bits)) & 0x1f) as u8);
    }
    words
}

/// The CIP-37 base32 form of `addr` on network `network_id`; `verbose` gives the upper-case form
/// with the address type, e.g. `CFX:TYPE.USER:AAR...`.
pub fn encode(addr: &Addr, network_id: u64, verbose: bool) -> Result<String> {
    let prefix = prefix(network_id)?;
    let words = to_words(addr);
    let check = polymod(checksum_input(&prefix, &words).chain([0u8; 8]));
    let mut body: String = words
        .iter()
        .map(|w| ALPHABET[*w as usize] as char)
        .collect();
    for i in (0..8).rev() {
        body.push(ALPHABET[((check >> (5 * i)) & 0x1f) as usize] as char);
    }
    Ok(match (verbose, kind(addr)) {
        (true, Some(k)) => format!("{prefix}:type.{k}:{body}").to_ascii_uppercase(),
        _ => format!("{prefix}:{body}"),
    })
}

fn bad(what: &str, why: impl std::fmt::Display) -> PluginError {
    PluginError::invalid_request(format!("{what}: {why}"))
}

/// Decode a CIP-37 address into its bytes and network id. `what` names it in errors.
pub fn decode(s: &str, what: &str) -> Result<(Addr, u64)> {
    if s.bytes().any(|b| b.is_ascii_lowercase()) && s.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(bad(what, "a base32 address is all lower or all upper case"));
    }
    let lower = s.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split(':').collect();
    let [prefix, options @ .., payload] = parts.as_slice() else {
        return Err(bad(what, "expected <network>:<address>"));
    };
    let network = network_id(prefix)
        .ok_or_else(|| bad(what, format!("unknown network prefix {prefix:?}")))?;
    let words = payload
        .bytes()
        .map(|c| ALPHABET.iter().position(|a| *a == c).map(|p| p as u8))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| bad(what, "a character outside the base32 alphabet"))?;
    if words.len() != 42 {
        return Err(bad(
            what,
            format!("{} characters after the prefix, expected 42", words.len()),
        ));
    }
    if polymod(checksum_input(prefix, &words)) != 0 {
        return Err(bad(what, "wrong checksum (a mistyped address?)"));
    }
    // 34 words carry 170 bits: the version byte, 20 address bytes and 2 zero bits of padding.
    let (mut acc, mut bits, mut bytes) = (0u32, 0u32, Vec::with_capacity(21));
    for w in &words[..34] {
        acc = (acc << 5) | u32::from(*w);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
        }
    }
    if acc & ((1 << bits) - 1) != 0 {
        return Err(bad(what, "non-zero padding bits"));
    }
    if bytes[0] != 0 {
        return Err(bad(what, format!("unknown version byte {:#04x}", bytes[0])));
    }
    let mut addr = [0u8; 20];
    addr.copy_from_slice(&bytes[1..]);
    for opt in options.iter() {
        let (key, value) = opt
            .split_once('.')
            .filter(|(_, v)| !v.contains('.'))
            .ok_or_else(|| bad(what, format!("malformed option {opt:?}")))?;
        if key == "type" && Some(value) != kind(&addr) {
            return Err(bad(
                what,
                format!(
                    "says type {value} but the address is of type {}",
                    kind(&addr).unwrap_or("unknown")
                ),
            ));
        }
    }
    Ok((addr, network))
}

/// The EIP-55 mixed-case form of a hex address, which Conflux tools also accept.
fn checksum_hex(addr: &Addr) -> String {
    let lower = hex::encode(addr);
    let hash = keccak256(lower.as_bytes());
    let mut out = String::from("0x");
    for (i, c) in lower.chars().enumerate() {
        let nibble = (hash[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0x0f;
        out.push(if nibble >= 8 {
            c.to_ascii_uppercase()
        } else {
            c
        });
    }
    out
}

/// Parse an address given as CIP-37 base32 (which must be for `network_id`) or as 0x-hex (all
/// lower or upper case, or mixed case with a valid EIP-55 checksum). Hex with a type nibble
/// other than builtin, user or contract is not a Core Space address and is refused.
pub fn parse(s: &str, what: &str, network_id: u64) -> Result<Addr> {
    let addr = if let Some(digits) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        let addr: Addr = hexstr::decode_fixed(digits, what)?;
        let mixed = digits.bytes().any(|b| b.is_ascii_lowercase())
            && digits.bytes().any(|b| b.is_ascii_uppercase());
        if mixed && checksum_hex(&addr)[2..] != *digits {
            return Err(bad(what, format!("{s} has a wrong EIP-55 checksum")));
        }
        addr
    } else {
        let (addr, network) = decode(s, what)?;
        if network != network_id {
            return Err(bad(
                what,
                format!(
                    "{s} is an address of network {network}, not of this network ({network_id})"
                ),
            ));
        }
        addr
    };
    if kind(&addr).is_none() {
        return Err(bad(
            what,
            format!(
                "0x{} is not a Core Space address (its type nibble is {:x}; only 0, 1 and 8 exist)",
                hex::encode(addr),
                addr[0] >> 4
            ),
        ));
    }
    Ok(addr)
}

/// Parse an address inside CIP-23 typed data: base32 of any network, or hex.
pub fn parse_any_network(s: &str, what: &str) -> Result<Addr> {
    if s.starts_with("0x") || s.starts_with("0X") {
        return hexstr::decode_fixed(&s[2..], what);
    }
    decode(s, what).map(|(a, _)| a)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CIP-37 vectors as conflux-rust's reference implementation checks them, checked in with
    /// their source.
    const VECTORS: &str = include_str!("../../../tests/vectors/cip37.txt");

    #[test]
    fn cip37_vectors() {
        let mut n = 0;
        for line in VECTORS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let [hex_addr, network, base32] = line.split_whitespace().collect::<Vec<_>>()[..]
            else {
                panic!("bad vector line {line}")
            };
            let addr: Addr = hexstr::decode_fixed(hex_addr, "a").unwrap();
            let id: u64 = network.parse().unwrap();
            if base32.contains("TYPE.") {
                assert_eq!(encode(&addr, id, true).unwrap(), base32);
            } else {
                assert_eq!(encode(&addr, id, false).unwrap(), base32);
            }
            assert_eq!(decode(base32, "a").unwrap(), (addr, id));
            n += 1;
        }
        assert!(n >= 13, "{n} vectors");
    }

    #[test]
    fn decoding_refuses_what_cip37_refuses() {
        let good = "cfx:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp";
        assert!(decode(good, "a").is_ok());
        assert!(decode(&good.to_ascii_uppercase(), "a").is_ok());
        for bad in [
            "Cfx:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp",
            "cfx:acc7Uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp",
            "acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp",
            "bch:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp",
            "net1:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp",
            "net1029:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp",
            "cfx:type.user:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp",
            "cfx:type.contract.2:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp",
            "cfx:",
            "cfx:aacc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp",
            "cfx:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfip",
            // Version byte 0b10000000.
            "cfx:t22xg0j5vg1fba4nh7gz372we6740puptm91kazw6t",
        ] {
            assert!(decode(bad, "a").is_err(), "{bad}");
        }
        assert!(decode(
            "cfx:type.contract:opt.random:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp",
            "a"
        )
        .is_ok());
        // Every single-character change is caught by the checksum.
        for i in 4..good.len() {
            let mut b = good.as_bytes().to_vec();
            b[i] = if b[i] == b'a' { b'b' } else { b'a' };
            assert!(decode(std::str::from_utf8(&b).unwrap(), "a").is_err());
        }
    }

    #[test]
    fn hex_addresses_need_a_known_type() {
        assert!(parse("0x1a2f80341409639ea6a35bbcab8299066109aa55", "a", 1).is_ok());
        assert!(parse("0x8a2f80341409639ea6a35bbcab8299066109aa55", "a", 1).is_ok());
        assert!(parse("0x2a2f80341409639ea6a35bbcab8299066109aa55", "a", 1).is_err());
        assert!(parse("cfx:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp", "a", 1).is_err());
        assert!(parse("cfx:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp", "a", 1029).is_ok());
    }
}
