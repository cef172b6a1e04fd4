//! Monero signatures from threshold Ed25519 keys: every 2-of-3 subset signs a 32-byte hash for a
//! derived child key, and an independent implementation of Monero's `check_signature` (written
//! here with curve25519-dalek and sha3, and itself checked against the Monero project's vectors)
//! accepts the signature, while it refuses it for another hash or another key.

mod common;

use common::{subsets, wallet};
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::EdwardsPoint;
use mpcw_engine::schnorr::{SchnorrSignConfig, SchnorrSignSession, SchnorrVariant};
use mpcw_engine::{sim, Scheme};
use sha3::{Digest, Keccak256};

/// Monero's `crypto::check_signature` (src/crypto/crypto.cpp): `c` and `r` canonical, `c`
/// non-zero, `R' = c·P + r·G` not the identity, and `c == H_s(hash ‖ P ‖ R')`.
fn check_signature(hash: &[u8; 32], public_key: &[u8; 32], sig: &[u8; 64]) -> bool {
    let Some(p) = CompressedEdwardsY(*public_key).decompress() else {
        return false;
    };
    let c = Scalar::from_canonical_bytes(sig[..32].try_into().unwrap());
    let r = Scalar::from_canonical_bytes(sig[32..].try_into().unwrap());
    let (Some(c), Some(r)) = (Option::<Scalar>::from(c), Option::<Scalar>::from(r)) else {
        return false;
    };
    if c == Scalar::ZERO {
        return false;
    }
    let commitment = EdwardsPoint::vartime_double_scalar_mul_basepoint(&c, &p, &r);
    if commitment == EdwardsPoint::default() {
        return false;
    }
    let h = Keccak256::new()
        .chain_update(hash)
        .chain_update(public_key)
        .chain_update(commitment.compress().as_bytes())
        .finalize();
    Scalar::from_bytes_mod_order(h.into()) == c
}

fn hex32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// One line of the vectors: prefix hash, public key, secret key, signature.
struct Vector {
    hash: [u8; 32],
    public_key: [u8; 32],
    secret: [u8; 32],
    sig: [u8; 64],
}

fn vectors() -> Vec<Vector> {
    include_str!("../../tests/vectors/monero-signatures.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let sig: [u8; 64] = hex::decode(f[3]).unwrap().try_into().unwrap();
            Vector {
                hash: hex32(f[0]),
                public_key: hex32(f[1]),
                secret: hex32(f[2]),
                sig,
            }
        })
        .collect()
}

#[test]
fn the_checker_and_the_engine_accept_moneros_own_signatures() {
    let v = vectors();
    assert_eq!(v.len(), 5);
    for Vector {
        hash,
        public_key,
        secret,
        sig,
    } in v
    {
        let derived = EdwardsPoint::mul_base(&Scalar::from_canonical_bytes(secret).unwrap());
        assert_eq!(derived.compress().to_bytes(), public_key);
        assert!(check_signature(&hash, &public_key, &sig));
        assert!(mpcw_engine::monero::verify(&hash, &public_key, &sig));
        let mut other = hash;
        other[0] ^= 1;
        assert!(!check_signature(&other, &public_key, &sig));
        assert!(!mpcw_engine::monero::verify(&other, &public_key, &sig));
    }
}

#[test]
fn every_subset_makes_a_monero_signature_for_a_child_key() {
    let w = wallet(Scheme::Ed25519, 2, 3);
    let path = vec![44, 128, 0];
    let child = w.shares[0].derive(&path).unwrap();
    let child_key: [u8; 32] = child.public_key.clone().try_into().unwrap();
    for signers in subsets(3, 2) {
        let hash: [u8; 32] = Keccak256::digest(format!("{signers:?}")).into();
        let config = SchnorrSignConfig {
            signers: signers.clone(),
            path: path.clone(),
            message: hash.to_vec(),
            taproot_merkle_root: None,
            variant: SchnorrVariant::Monero,
        };
        let mut sessions: Vec<SchnorrSignSession> = signers
            .iter()
            .map(|i| {
                let ctx = w.ctx(&format!("xmr-{signers:?}"), *i);
                SchnorrSignSession::new(ctx, w.share(*i), config.clone()).unwrap()
            })
            .collect();
        let sigs = sim::run(&mut sessions).expect("signing succeeds");
        assert!(sigs.windows(2).all(|p| p[0] == p[1]));
        let sig = &sigs[0];
        assert_eq!(sig.public_key, child.public_key);
        let bytes: [u8; 64] = sig.signature.clone().try_into().unwrap();
        assert!(check_signature(&hash, &child_key, &bytes));
        let mut other = hash;
        other[31] ^= 0x80;
        assert!(!check_signature(&other, &child_key, &bytes));
        let group: [u8; 32] = w.shares[0].public_key().try_into().unwrap();
        assert!(!check_signature(&hash, &group, &bytes));
    }
}

#[test]
fn a_monero_signature_needs_a_32_byte_hash_and_an_ed25519_key() {
    let w = wallet(Scheme::Ed25519, 2, 3);
    let config = SchnorrSignConfig {
        signers: vec![0, 1],
        path: vec![],
        message: b"not a hash".to_vec(),
        taproot_merkle_root: None,
        variant: SchnorrVariant::Monero,
    };
    assert!(SchnorrSignSession::new(w.ctx("short", 0), w.share(0), config).is_err());
    let b = wallet(Scheme::SchnorrBip340, 2, 3);
    let config = SchnorrSignConfig {
        signers: vec![0, 1],
        path: vec![],
        message: vec![7; 32],
        taproot_merkle_root: None,
        variant: SchnorrVariant::Monero,
    };
    assert!(SchnorrSignSession::new(b.ctx("bip340", 0), b.share(0), config).is_err());
}

#[test]
fn the_view_key_is_a_scalar_fixed_by_the_extended_key() {
    let w = wallet(Scheme::Ed25519, 2, 3);
    let child = w.shares[0].derive(&[1]).unwrap();
    let a = mpcw_engine::monero::view_key(&child);
    assert!(Option::<Scalar>::from(Scalar::from_canonical_bytes(a)).is_some());
    assert_eq!(
        a,
        mpcw_engine::monero::view_key(&w.shares[1].derive(&[1]).unwrap())
    );
    assert_ne!(
        a,
        mpcw_engine::monero::view_key(&w.shares[0].derive(&[2]).unwrap())
    );
}
