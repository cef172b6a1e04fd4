//! Monero's Schnorr signature as a FROST ciphersuite: the wallet's threshold Ed25519 key signs
//! what Monero wallets verify (`crypto::generate_signature`, used by `sign_message`'s SigV2).
//!
//! Monero signs a 32-byte hash `h` with `c = H_s(h ‖ P ‖ R)`, `r = k − c·x` and publishes
//! `(c, r)`; a verifier computes `R' = c·P + r·G` and checks `c = H_s(h ‖ P ‖ R')`. `H_s` is
//! Keccak-256 (the original padding, Monero's `cn_fast_hash`) reduced modulo ℓ.
//!
//! FROST produces `z = k + e·x` for the challenge `e` its ciphersuite defines. This suite defines
//! `e = −H_s(h ‖ X ‖ R)`, so the aggregate `z` is exactly Monero's `r`, and `c` is recomputed
//! from `R`. Everything else (nonces, binding factors, the key shares, HD derivation) is the
//! Ed25519 suite's, under its own context string: the same Ed25519 key shares sign either way.

use generic_ec::{NonZero, Point, Scalar};
use givre::ciphersuite::{Ciphersuite, NormalizedPoint};
use sha2::Digest as _;
use sha3::Keccak256;

type Ed25519 = generic_ec::curves::Ed25519;

/// FROST(Ed25519) with Monero's challenge; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Monero;

/// Monero's `hash_to_scalar`: Keccak-256 of the concatenated parts, reduced modulo ℓ.
pub fn hash_to_scalar(parts: &[&[u8]]) -> Scalar<Ed25519> {
    let mut h = Keccak256::new();
    for p in parts {
        h.update(p);
    }
    Scalar::from_le_bytes_mod_order(h.finalize())
}

fn sha512_scalar(parts: &[&[u8]]) -> Scalar<Ed25519> {
    let mut h = sha2::Sha512::new();
    for p in parts {
        h.update(p);
    }
    Scalar::from_le_bytes_mod_order(h.finalize())
}

impl Ciphersuite for Monero {
    const NAME: &'static str = "MPCW-FROST-ED25519-MONERO-v1";

    type Curve = Ed25519;
    type Digest = sha2::Sha512;
    type MultiscalarMul = generic_ec::multiscalar::Dalek;
    type HdAlgo = hd_wallet::Edwards;

    fn h1(msg: &[&[u8]]) -> Scalar<Ed25519> {
        let mut parts: Vec<&[u8]> = vec![Self::NAME.as_bytes(), b"rho"];
        parts.extend_from_slice(msg);
        sha512_scalar(&parts)
    }

    fn compute_challenge(
        group_commitment: &NormalizedPoint<Self, Point<Ed25519>>,
        group_public_key: &NormalizedPoint<Self, NonZero<Point<Ed25519>>>,
        msg: &[u8],
    ) -> Scalar<Ed25519> {
        -hash_to_scalar(&[
            msg,
            group_public_key.to_bytes().as_ref(),
            group_commitment.to_bytes().as_ref(),
        ])
    }

    fn h3(msg: &[&[u8]]) -> Scalar<Ed25519> {
        let mut parts: Vec<&[u8]> = vec![Self::NAME.as_bytes(), b"nonce"];
        parts.extend_from_slice(msg);
        sha512_scalar(&parts)
    }

    fn h4() -> Self::Digest {
        sha2::Sha512::new()
            .chain_update(Self::NAME)
            .chain_update(b"msg")
    }

    fn h5() -> Self::Digest {
        sha2::Sha512::new()
            .chain_update(Self::NAME)
            .chain_update(b"com")
    }

    type PointBytes = generic_ec::EncodedPoint<Ed25519>;
    fn serialize_point(point: &Point<Ed25519>) -> Self::PointBytes {
        point.to_bytes(true)
    }
    fn deserialize_point(bytes: &[u8]) -> Result<Point<Ed25519>, generic_ec::errors::InvalidPoint> {
        Point::from_bytes(bytes)
    }

    type ScalarBytes = generic_ec::EncodedScalar<Ed25519>;
    const SCALAR_SIZE: usize = 32;
    fn serialize_scalar(scalar: &Scalar<Ed25519>) -> Self::ScalarBytes {
        scalar.to_le_bytes()
    }
    fn deserialize_scalar(
        bytes: &[u8],
    ) -> Result<Scalar<Ed25519>, generic_ec::errors::InvalidScalar> {
        Scalar::from_le_bytes(bytes)
    }

    type NormalizedPointBytes = Self::PointBytes;
    const NORMALIZED_POINT_SIZE: usize = 32;
    fn serialize_normalized_point<P: AsRef<Point<Ed25519>>>(
        point: &NormalizedPoint<Self, P>,
    ) -> Self::NormalizedPointBytes {
        Self::serialize_point(point.as_ref())
    }
    fn deserialize_normalized_point(
        bytes: &[u8],
    ) -> Result<NormalizedPoint<Self, Point<Ed25519>>, generic_ec::errors::InvalidPoint> {
        Ok(Self::normalize_point(Self::deserialize_point(bytes)?))
    }
}

/// Monero's 64-byte signature `c ‖ r` of a FROST signature `(R, z)` of this suite over `hash`
/// under `public_key` (32 bytes).
pub fn monero_signature(
    signature: &givre::signing::aggregate::Signature<Monero>,
    public_key: &[u8],
    hash: &[u8],
) -> [u8; 64] {
    let c = hash_to_scalar(&[hash, public_key, signature.r.to_bytes().as_ref()]);
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(c.to_le_bytes().as_ref());
    out[32..].copy_from_slice(signature.z.to_le_bytes().as_ref());
    out
}

/// Monero's `check_signature`: whether `signature` (`c ‖ r`) is valid for the 32-byte `hash`
/// under `public_key`. Both scalars must be canonical and `c` non-zero, as Monero requires.
pub fn verify(hash: &[u8], public_key: &[u8], signature: &[u8]) -> bool {
    let (Ok(p), true) = (
        Point::<Ed25519>::from_bytes(public_key),
        signature.len() == 64,
    ) else {
        return false;
    };
    let (Ok(c), Ok(r)) = (
        Scalar::<Ed25519>::from_le_bytes(&signature[..32]),
        Scalar::<Ed25519>::from_le_bytes(&signature[32..]),
    ) else {
        return false;
    };
    if c.is_zero() {
        return false;
    }
    let commitment = p * c + Point::generator() * r;
    if commitment.is_zero() {
        return false;
    }
    hash_to_scalar(&[hash, public_key, commitment.to_bytes(true).as_ref()]) == c
}

/// The private view key of a wallet's Ed25519 child key: `H_s("mpcw/monero/view-key" ‖ chain
/// code ‖ public key)`. A Monero address needs a view key that every party of the wallet knows
/// and that the address does not reveal. The chain code is the wallet's shared secret-to-outsiders
/// agreed in key generation, so whoever holds the extended public key (the parties, and anyone
/// they give it to) can scan for incoming funds, exactly as a Bitcoin xpub gives watch-only
/// access; spending still needs `t` shares.
pub fn view_key(child: &crate::hd::ExtendedPublicKey) -> [u8; 32] {
    let a = hash_to_scalar(&[
        b"mpcw/monero/view-key",
        &child.chain_code,
        &child.public_key,
    ]);
    let mut out = [0u8; 32];
    out.copy_from_slice(a.to_le_bytes().as_ref());
    out
}
