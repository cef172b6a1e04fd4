//! Checks on what a plugin returns. A plugin is untrusted: whatever it says must fit the
//! interface's rules before the host signs it or shows it to a user.

use super::wit::{
    Address, Finalized, MessageHash, Payload, PluginInfo, Prepared, PublicKey, Scheme, Summary,
};

/// Most payloads one request may ask to sign (a Bitcoin transaction has one per input).
pub const MAX_PAYLOADS: usize = 1024;
/// Largest payload in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;
/// Largest signed output in bytes.
pub const MAX_RAW_BYTES: usize = 4 << 20;
/// Longest line of text in a summary.
pub const MAX_TEXT: usize = 4096;
/// Most detail lines or warnings in a summary.
pub const MAX_LINES: usize = 256;

type Check = Result<(), String>;

fn text(what: &str, s: &str, max: usize) -> Check {
    if s.len() > max {
        return Err(format!("{what} is {} bytes (at most {max})", s.len()));
    }
    if s.chars().any(|c| c.is_control() && c != '\n') {
        return Err(format!("{what} contains control characters"));
    }
    Ok(())
}

fn opt_text(what: &str, s: &Option<String>) -> Check {
    s.as_deref().map_or(Ok(()), |s| text(what, s, MAX_TEXT))
}

/// `info()`: a usable name, a version, at least one scheme.
pub fn info(info: &PluginInfo) -> Check {
    let name_ok = !info.name.is_empty()
        && info.name.len() <= 64
        && info
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !name_ok {
        return Err(format!(
            "name {:?} must be 1 to 64 lower-case letters, digits and '-'",
            info.name.chars().take(80).collect::<String>()
        ));
    }
    text("version", &info.version, 64)?;
    text("family", &info.family, 64)?;
    if info.schemes.is_empty() {
        return Err("it declares no signature scheme".into());
    }
    if info.networks.len() > MAX_LINES {
        return Err(format!(
            "{} networks (at most {MAX_LINES})",
            info.networks.len()
        ));
    }
    info.networks
        .iter()
        .try_for_each(|n| text("network id", n, 64))
}

/// `addresses()`: one to sixteen addresses of sane length.
pub fn addresses(list: &[Address]) -> Check {
    if list.is_empty() || list.len() > 16 {
        return Err(format!("{} addresses (expected 1 to 16)", list.len()));
    }
    for a in list {
        text("address kind", &a.kind, 64)?;
        text("address", &a.value, 256)?;
        if a.value.is_empty() {
            return Err("an empty address".into());
        }
    }
    Ok(())
}

fn payload(i: usize, p: &Payload, key: &PublicKey) -> Check {
    if p.scheme != key.scheme {
        return Err(format!(
            "payload {i} is for {} but the wallet key is {}",
            p.scheme.name(),
            key.scheme.name()
        ));
    }
    if p.bytes.len() > MAX_PAYLOAD_BYTES {
        return Err(format!("payload {i} is {} bytes", p.bytes.len()));
    }
    text("payload label", &p.label, 256)?;
    match (p.scheme, p.hash) {
        // Every signer hashes the preimage itself, so it knows what it signs: the engine signs
        // no bare ECDSA digests.
        (Scheme::EcdsaSecp256k1, MessageHash::None) => Err(format!(
            "payload {i} is a bare ECDSA digest; give the preimage and its hash function"
        )),
        (Scheme::SchnorrBip340, MessageHash::None) if p.bytes.len() != 32 => Err(format!(
            "payload {i}: a BIP-340 message must be 32 bytes, got {}",
            p.bytes.len()
        )),
        (Scheme::Ed25519, MessageHash::Monero) if p.bytes.len() != 32 => Err(format!(
            "payload {i}: a Monero signature is over a 32-byte hash, got {} bytes",
            p.bytes.len()
        )),
        (Scheme::Ed25519, MessageHash::Monero) => Ok(()),
        (Scheme::Ed25519 | Scheme::SchnorrBip340, h) if h != MessageHash::None => Err(format!(
            "payload {i}: {} signs the message itself, not a hash of it",
            p.scheme.name()
        )),
        _ => Ok(()),
    }
}

fn summary(s: &Summary) -> Check {
    text("title", &s.title, 256)?;
    if s.title.is_empty() {
        return Err("the summary has no title".into());
    }
    opt_text("sender", &s.sender)?;
    opt_text("recipient", &s.recipient)?;
    opt_text("amount", &s.amount)?;
    opt_text("fee", &s.fee)?;
    opt_text("contract call", &s.contract_call)?;
    if s.details.len() > MAX_LINES || s.warnings.len() > MAX_LINES {
        return Err("too many summary lines".into());
    }
    for d in &s.details {
        text("detail label", &d.label, 256)?;
        text("detail", &d.value, MAX_TEXT)?;
    }
    s.warnings
        .iter()
        .try_for_each(|w| text("warning", w, MAX_TEXT))
}

/// `prepare()`: one or more well-formed payloads for the wallet's scheme and a summary.
pub fn prepared(p: &Prepared, key: &PublicKey) -> Check {
    if p.payloads.is_empty() || p.payloads.len() > MAX_PAYLOADS {
        return Err(format!(
            "{} payloads (expected 1 to {MAX_PAYLOADS})",
            p.payloads.len()
        ));
    }
    for (i, pl) in p.payloads.iter().enumerate() {
        payload(i, pl, key)?;
    }
    summary(&p.summary)
}

/// `finalize()`: signed bytes, an encoding the host knows, and an id.
pub fn finalized(f: &Finalized) -> Check {
    if f.raw.is_empty() || f.raw.len() > MAX_RAW_BYTES {
        return Err(format!("signed output of {} bytes", f.raw.len()));
    }
    if !matches!(f.encoding.as_str(), "hex" | "base64" | "base58" | "text") {
        return Err(format!(
            "unknown encoding {:?}",
            f.encoding.chars().take(32).collect::<String>()
        ));
    }
    text("encoded output", &f.encoded, 2 * MAX_RAW_BYTES + 2)?;
    if f.encoding == "hex" {
        let digits = f.encoded.strip_prefix("0x").unwrap_or(&f.encoded);
        if hex::decode(digits).ok().as_deref() != Some(f.raw.as_slice()) {
            return Err("the hex encoding does not match the signed bytes".into());
        }
    }
    text("id", &f.id, 256)
}
