//! Message signatures as `wallet2::sign_message` makes them (SigV2, spend key): the hash is
//! Keccak-256 of "MoneroMessageSignature\0" ‖ public spend key ‖ public view key ‖ mode (0, the
//! spend key) ‖ varint(message length) ‖ message, and the signature is Monero's Schnorr
//! signature `c ‖ r` over it, written "SigV2" followed by its Monero base58.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use sha3::{Digest, Keccak256};

use crate::keys::{hash_to_scalar, AddressKeys};

/// The message hash of `message` for the address `keys`, signed with the spend key.
pub fn message_hash(keys: &AddressKeys, message: &[u8]) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(b"MoneroMessageSignature\0");
    h.update(keys.spend);
    h.update(keys.view);
    h.update([0u8]);
    h.update(varint(message.len() as u64));
    h.update(message);
    h.finalize().into()
}

/// Monero's (and protobuf's) unsigned LEB128 varint.
fn varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(10);
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out
}

/// Monero's `check_signature`: `c` and `r` canonical, `c` non-zero, `R' = c·P + r·G` not the
/// identity, and `c = H_s(hash ‖ P ‖ R')`.
pub fn check_signature(hash: &[u8; 32], public_key: &[u8; 32], signature: &[u8; 64]) -> bool {
    let Some(p) = CompressedEdwardsY(*public_key).decompress() else {
        return false;
    };
    let scalar = |b: &[u8]| -> Option<Scalar> {
        Scalar::from_canonical_bytes(b.try_into().expect("32 bytes")).into()
    };
    let (Some(c), Some(r)) = (scalar(&signature[..32]), scalar(&signature[32..])) else {
        return false;
    };
    if c == Scalar::ZERO {
        return false;
    }
    let commitment = EdwardsPoint::vartime_double_scalar_mul_basepoint(&c, &p, &r);
    if commitment == EdwardsPoint::default() {
        return false;
    }
    hash_to_scalar(&[hash, public_key, commitment.compress().as_bytes()]) == c
}

/// The text form of a signature: "SigV2" and the signature in Monero's base58.
pub fn sigv2(signature: &[u8; 64]) -> String {
    format!(
        "SigV2{}",
        base58_monero::encode(signature).expect("encoding cannot fail")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_are_leb128() {
        assert_eq!(varint(0), [0]);
        assert_eq!(varint(127), [127]);
        assert_eq!(varint(128), [0x80, 1]);
        assert_eq!(varint(300), [0xac, 0x02]);
    }

    /// Monero's own `generate_signature` vectors (tests/crypto/tests.txt), as checked in.
    #[test]
    fn moneros_signatures_check() {
        let text = include_str!("../../../tests/vectors/monero-signatures.txt");
        let mut n = 0;
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let f: Vec<&str> = line.split_whitespace().collect();
            let hash: [u8; 32] = hex::decode(f[0]).unwrap().try_into().unwrap();
            let key: [u8; 32] = hex::decode(f[1]).unwrap().try_into().unwrap();
            let sig: [u8; 64] = hex::decode(f[3]).unwrap().try_into().unwrap();
            assert!(check_signature(&hash, &key, &sig));
            let mut bad = sig;
            bad[40] ^= 1;
            assert!(!check_signature(&hash, &key, &bad));
            n += 1;
        }
        assert_eq!(n, 5);
    }
}
