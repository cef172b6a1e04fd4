//! Threshold signing: every t-subset signs, and the signatures verify under the group key with
//! independent verifiers (k256 for ECDSA and BIP-340, ed25519-dalek for Ed25519).

mod common;

use std::collections::BTreeMap;

use common::{subsets, wallet, Wallet};
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use mpcw_engine::ecdsa::{
    combine, EcdsaMessage, EcdsaSignSession, PresignConfig, PresignSession,
};
use mpcw_engine::schnorr::{SchnorrSignConfig, SchnorrSignSession};
use mpcw_engine::{sim, Error, PartyIndex, Scheme};

fn presign(w: &Wallet, session: &str, signers: &[PartyIndex], path: &[u32]) -> Vec<mpcw_engine::EcdsaPresignature> {
    let mut sessions: Vec<PresignSession> = signers
        .iter()
        .map(|i| {
            PresignSession::new(
                w.ctx(session, *i),
                w.share(*i),
                PresignConfig {
                    signers: signers.to_vec(),
                    path: path.to_vec(),
                },
            )
            .unwrap()
        })
        .collect();
    sim::run(&mut sessions).expect("presigning succeeds")
}

fn ecdsa_sign(w: &Wallet, session: &str, signers: &[PartyIndex], path: &[u32], msg: &EcdsaMessage) -> mpcw_engine::EcdsaSignature {
    let presigs = presign(w, session, signers, path);
    let sign_session = format!("{session}/sign");
    let mut sessions: Vec<EcdsaSignSession> = signers
        .iter()
        .zip(presigs)
        .map(|(i, p)| EcdsaSignSession::new(w.ctx(&sign_session, *i), p, msg.clone()).unwrap())
        .collect();
    let sigs = sim::run(&mut sessions).expect("signing succeeds");
    assert!(sigs.windows(2).all(|p| p[0] == p[1]), "all signers output one signature");
    sigs[0]
}

/// Verify with k256 and recover the public key from the signature.
fn check_ecdsa(public_key: &[u8], msg: &EcdsaMessage, sig: &mpcw_engine::EcdsaSignature) {
    let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(public_key).unwrap();
    let s = k256::ecdsa::Signature::from_scalars(sig.r, sig.s).unwrap();
    assert!(s.normalize_s().is_none(), "signature is low-s");
    vk.verify_prehash(&msg.digest(), &s).expect("k256 verifies");
    let rid = k256::ecdsa::RecoveryId::from_byte(sig.recovery_id).unwrap();
    let recovered = k256::ecdsa::VerifyingKey::recover_from_prehash(&msg.digest(), &s, rid).unwrap();
    assert_eq!(recovered, vk, "public key recovered from (r, s, v)");
}

#[test]
fn ecdsa_every_subset_signs_2_of_3_and_3_of_5() {
    for (t, n) in [(2, 3), (3, 5)] {
        let w = wallet(Scheme::EcdsaSecp256k1, t, n);
        let pk = w.shares[0].public_key();
        for signers in subsets(n, t) {
            let msg = EcdsaMessage::Keccak256(format!("pay 1 ETH, signers {signers:?}").into_bytes());
            let sig = ecdsa_sign(w, &format!("ecdsa-{t}-{n}-{signers:?}"), &signers, &[], &msg);
            check_ecdsa(&pk, &msg, &sig);
        }
    }
}

#[test]
fn ecdsa_signs_for_a_derived_child_key() {
    let w = wallet(Scheme::EcdsaSecp256k1, 2, 3);
    let path = [0, 7];
    let child = w.shares[0].derive(&path).unwrap();
    assert_ne!(child.public_key, w.shares[0].public_key());
    let msg = EcdsaMessage::DoubleSha256(b"bitcoin sighash preimage".to_vec());
    let sig = ecdsa_sign(w, "ecdsa-hd", &[0, 2], &path, &msg);
    check_ecdsa(&child.public_key, &msg, &sig);
}

#[test]
fn ecdsa_fewer_than_t_parties_cannot_sign() {
    let w = wallet(Scheme::EcdsaSecp256k1, 3, 5);
    let err = PresignSession::new(
        w.ctx("short", 0),
        w.share(0),
        PresignConfig { signers: vec![0, 1], path: vec![] },
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidParameters(_)), "{err}");

    // Even with a full presignature, t-1 partial signatures do not make a signature.
    let presigs = presign(w, "short-combine", &[0, 1, 2], &[]);
    let info = presigs[0].info().clone();
    let msg = EcdsaMessage::Keccak256(b"x".to_vec());
    let partials: BTreeMap<_, _> = [0u16, 1]
        .into_iter()
        .zip(presigs)
        .map(|(i, p)| (i, p.issue_partial(&msg)))
        .collect();
    assert!(combine(&info, &partials, &msg).is_err());
}

#[test]
fn ecdsa_signature_under_a_wrong_message_does_not_verify() {
    let w = wallet(Scheme::EcdsaSecp256k1, 2, 3);
    let msg = EcdsaMessage::Keccak256(b"the real message".to_vec());
    let sig = ecdsa_sign(w, "ecdsa-wrong", &[1, 2], &[], &msg);
    let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&w.shares[0].public_key()).unwrap();
    let s = k256::ecdsa::Signature::from_scalars(sig.r, sig.s).unwrap();
    let other = EcdsaMessage::Keccak256(b"another message".to_vec());
    assert!(vk.verify_prehash(&other.digest(), &s).is_err());
}

fn schnorr_sign(w: &Wallet, session: &str, config: &SchnorrSignConfig) -> mpcw_engine::schnorr::SchnorrSignature {
    let mut sessions: Vec<SchnorrSignSession> = config
        .signers
        .iter()
        .map(|i| SchnorrSignSession::new(w.ctx(session, *i), w.share(*i), config.clone()).unwrap())
        .collect();
    let sigs = sim::run(&mut sessions).expect("signing succeeds");
    assert!(sigs.windows(2).all(|p| p[0] == p[1]));
    sigs.into_iter().next().unwrap()
}

#[test]
fn ed25519_every_subset_signs_and_verify_strict_accepts() {
    for (t, n) in [(2, 3), (3, 5)] {
        let w = wallet(Scheme::Ed25519, t, n);
        let group_key = w.shares[0].public_key();
        for signers in subsets(n, t) {
            let message = format!("solana message for {signers:?}").into_bytes();
            let config = SchnorrSignConfig { signers: signers.clone(), path: vec![], message: message.clone(), taproot_merkle_root: None };
            let sig = schnorr_sign(w, &format!("ed-{t}-{n}-{signers:?}"), &config);
            assert_eq!(sig.public_key, group_key);
            let vk = ed25519_dalek::VerifyingKey::from_bytes(&group_key.clone().try_into().unwrap()).unwrap();
            let s = ed25519_dalek::Signature::from_slice(&sig.signature).unwrap();
            vk.verify_strict(&message, &s).expect("ed25519-dalek verify_strict accepts");
            assert!(vk.verify_strict(b"another message", &s).is_err());
        }
    }
}

#[test]
fn ed25519_signs_for_a_derived_child_key() {
    let w = wallet(Scheme::Ed25519, 2, 3);
    let path = vec![3, 1];
    let child = w.shares[0].derive(&path).unwrap();
    let config = SchnorrSignConfig { signers: vec![1, 2], path, message: b"ton transfer".to_vec(), taproot_merkle_root: None };
    let sig = schnorr_sign(w, "ed-hd", &config);
    assert_eq!(sig.public_key, child.public_key);
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&child.public_key.try_into().unwrap()).unwrap();
    vk.verify_strict(b"ton transfer", &ed25519_dalek::Signature::from_slice(&sig.signature).unwrap()).unwrap();
}

/// BIP-341 key tweak computed independently with k256: Q = lift_x(P) + H_TapTweak(P || root)·G.
fn taproot_output_key(internal_compressed: &[u8], merkle_root: Option<[u8; 32]>) -> [u8; 32] {
    use k256::elliptic_curve::sec1::ToEncodedPoint;
    use k256::elliptic_curve::{ops::Reduce, PrimeField};
    use sha2::{Digest, Sha256};
    let p = k256::PublicKey::from_sec1_bytes(internal_compressed).unwrap();
    let x: [u8; 32] = p.to_encoded_point(true).as_bytes()[1..].try_into().unwrap();
    // lift_x: the point with even y and this x.
    let mut even = vec![0x02];
    even.extend_from_slice(&x);
    let p_even = k256::PublicKey::from_sec1_bytes(&even).unwrap();
    let tag = Sha256::digest(b"TapTweak");
    let mut h = Sha256::new();
    h.update(tag);
    h.update(tag);
    h.update(x);
    if let Some(root) = merkle_root {
        h.update(root);
    }
    let t = <k256::Scalar as Reduce<k256::U256>>::reduce_bytes(&h.finalize());
    let _ = k256::Scalar::from_repr(t.to_bytes()).unwrap();
    let q = p_even.to_projective() + k256::ProjectivePoint::GENERATOR * t;
    let q = k256::PublicKey::from_affine(q.to_affine()).unwrap();
    q.to_encoded_point(true).as_bytes()[1..].try_into().unwrap()
}

#[test]
fn bip340_every_subset_signs_under_the_taproot_key_and_k256_verifies() {
    for (t, n) in [(2, 3), (3, 5)] {
        let w = wallet(Scheme::SchnorrBip340, t, n);
        let internal = w.shares[0].public_key();
        for (k, signers) in subsets(n, t).into_iter().enumerate() {
            let root = if k % 2 == 0 { None } else { Some([7u8; 32]) };
            let sighash = sha2_digest(format!("taproot sighash {signers:?}").as_bytes());
            let config = SchnorrSignConfig { signers: signers.clone(), path: vec![], message: sighash.to_vec(), taproot_merkle_root: root };
            let sig = schnorr_sign(w, &format!("bip340-{t}-{n}-{signers:?}"), &config);
            assert_eq!(sig.public_key, taproot_output_key(&internal, root), "output key per BIP-341");
            let vk = k256::schnorr::VerifyingKey::from_bytes(&sig.public_key).unwrap();
            let s = k256::schnorr::Signature::try_from(sig.signature.as_slice()).unwrap();
            vk.verify_raw(&sighash, &s).expect("k256 BIP-340 verifier accepts");
            assert!(vk.verify_raw(&sha2_digest(b"other"), &s).is_err());
        }
    }
}

fn sha2_digest(b: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(b).into()
}

#[test]
fn schnorr_fewer_than_t_parties_cannot_sign() {
    let w = wallet(Scheme::Ed25519, 3, 5);
    let config = SchnorrSignConfig { signers: vec![0, 4], path: vec![], message: b"m".to_vec(), taproot_merkle_root: None };
    assert!(matches!(SchnorrSignSession::new(w.ctx("s", 0), w.share(0), config), Err(Error::InvalidParameters(_))));
}
