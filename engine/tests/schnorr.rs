//! Threshold Ed25519 and BIP-340: key generation, signing by every t-subset (verified with
//! ed25519-dalek `verify_strict` and k256's BIP-340 verifier), identifiable abort in key
//! generation, refresh, resharing and mnemonic import.

mod common;

use common::{subsets, wallet, Wallet};
use mpcw_engine::schnorr::{SchnorrSignConfig, SchnorrSignSession};
use mpcw_engine::{sim, Error, Scheme};

fn schnorr_sign(
    w: &Wallet,
    session: &str,
    config: &SchnorrSignConfig,
) -> mpcw_engine::schnorr::SchnorrSignature {
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
            let config = SchnorrSignConfig {
                signers: signers.clone(),
                path: vec![],
                message: message.clone(),
                taproot_merkle_root: None,
                variant: Default::default(),
            };
            let sig = schnorr_sign(w, &format!("ed-{t}-{n}-{signers:?}"), &config);
            assert_eq!(sig.public_key, group_key);
            let vk =
                ed25519_dalek::VerifyingKey::from_bytes(&group_key.clone().try_into().unwrap())
                    .unwrap();
            let s = ed25519_dalek::Signature::from_slice(&sig.signature).unwrap();
            vk.verify_strict(&message, &s)
                .expect("ed25519-dalek verify_strict accepts");
            assert!(vk.verify_strict(b"another message", &s).is_err());
        }
    }
}

#[test]
fn ed25519_signs_for_a_derived_child_key() {
    let w = wallet(Scheme::Ed25519, 2, 3);
    let path = vec![3, 1];
    let child = w.shares[0].derive(&path).unwrap();
    let config = SchnorrSignConfig {
        signers: vec![1, 2],
        path,
        message: b"ton transfer".to_vec(),
        taproot_merkle_root: None,
        variant: Default::default(),
    };
    let sig = schnorr_sign(w, "ed-hd", &config);
    assert_eq!(sig.public_key, child.public_key);
    let vk =
        ed25519_dalek::VerifyingKey::from_bytes(&child.public_key.try_into().unwrap()).unwrap();
    vk.verify_strict(
        b"ton transfer",
        &ed25519_dalek::Signature::from_slice(&sig.signature).unwrap(),
    )
    .unwrap();
}

#[test]
fn sessions_take_authenticated_messages_and_drop_those_checked_under_another_key() {
    use mpcw_engine::{Envelope, PartyKeys, Protocol, SessionContext};
    let w = wallet(Scheme::Ed25519, 2, 3);
    let message = b"relayed solana message".to_vec();
    let config = SchnorrSignConfig {
        signers: vec![0, 2],
        path: vec![],
        message: message.clone(),
        taproot_merkle_root: None,
        variant: Default::default(),
    };
    let session = "ed-authenticated";
    let mut parties: Vec<SchnorrSignSession> = config
        .signers
        .iter()
        .map(|i| SchnorrSignSession::new(w.ctx(session, *i), w.share(*i), config.clone()).unwrap())
        .collect();
    let mut queue: std::collections::VecDeque<Envelope> = parties
        .iter_mut()
        .flat_map(|p| p.start().unwrap())
        .collect();
    let impostor = PartyKeys::generate(&mut rand_core::OsRng);
    let mut signatures = [None, None];
    while let Some(env) = queue.pop_front() {
        let k = usize::from(env.from == config.signers[0]);
        let recipient = config.signers[k];
        // The same message signed as its sender by someone else, and checked against that
        // someone's key: the session drops it without blaming anyone, and goes on.
        let body = w.ctx(session, recipient).open(&env).unwrap();
        let mut roster = w.roster.clone();
        roster.insert(env.from, impostor.public());
        let forger = SessionContext::new(session, env.from, impostor.clone(), roster).unwrap();
        let forged = forger
            .seal(&env.channel, env.to, &body)
            .unwrap()
            .authenticate(&impostor.public())
            .unwrap();
        let e = parties[k].handle_authenticated(&forged).unwrap_err();
        assert!(matches!(e, Error::Unauthenticated { .. }), "{e}");
        // The message itself, checked against the roster's key of its sender, as a relay does.
        let sender = w.roster[&env.from];
        let checked = env.authenticate(&sender).unwrap();
        queue.extend(parties[k].handle_authenticated(&checked).unwrap());
        if let Some(sig) = parties[k].take_output() {
            signatures[k] = Some(sig);
        }
    }
    let [Some(a), Some(b)] = signatures else {
        panic!("both signers finish");
    };
    assert_eq!(a, b);
    let key: [u8; 32] = w.shares[0].public_key().try_into().unwrap();
    ed25519_dalek::VerifyingKey::from_bytes(&key)
        .unwrap()
        .verify_strict(
            &message,
            &ed25519_dalek::Signature::from_slice(&a.signature).unwrap(),
        )
        .expect("ed25519-dalek verify_strict accepts");
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
            let config = SchnorrSignConfig {
                signers: signers.clone(),
                path: vec![],
                message: sighash.to_vec(),
                taproot_merkle_root: root,
                variant: Default::default(),
            };
            let sig = schnorr_sign(w, &format!("bip340-{t}-{n}-{signers:?}"), &config);
            assert_eq!(
                sig.public_key,
                taproot_output_key(&internal, root),
                "output key per BIP-341"
            );
            let vk = k256::schnorr::VerifyingKey::from_bytes(&sig.public_key).unwrap();
            let s = k256::schnorr::Signature::try_from(sig.signature.as_slice()).unwrap();
            vk.verify_raw(&sighash, &s)
                .expect("k256 BIP-340 verifier accepts");
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
    let config = SchnorrSignConfig {
        signers: vec![0, 4],
        path: vec![],
        message: b"m".to_vec(),
        taproot_merkle_root: None,
        variant: Default::default(),
    };
    assert!(matches!(
        SchnorrSignSession::new(w.ctx("s", 0), w.share(0), config),
        Err(Error::InvalidParameters(_))
    ));
}

#[test]
fn dkg_gives_every_party_a_share_of_one_key() {
    for scheme in [Scheme::Ed25519, Scheme::SchnorrBip340] {
        for (t, n) in [(2, 3), (3, 5)] {
            let w = wallet(scheme, t, n);
            let pk = w.shares[0].public_key();
            for (i, s) in w.shares.iter().enumerate() {
                assert_eq!(s.index() as usize, i);
                assert_eq!(s.public_key(), pk, "{scheme}");
                assert_eq!((s.threshold(), s.parties()), (t, n));
            }
        }
    }
    // Ed25519 emergency exit: the rebuilt scalar is the key behind the group key.
    let w = wallet(Scheme::Ed25519, 2, 3);
    let sk = mpcw_engine::backup::reconstruct_secret_key(&w.shares[1..]).unwrap();
    let s = curve25519_scalar(&sk);
    assert_eq!(
        (curve25519_dalek::constants::ED25519_BASEPOINT_POINT * s)
            .compress()
            .to_bytes()
            .to_vec(),
        w.shares[0].public_key()
    );
}

fn curve25519_scalar(bytes: &[u8; 32]) -> curve25519_dalek::Scalar {
    Option::from(curve25519_dalek::Scalar::from_canonical_bytes(*bytes)).unwrap()
}

#[test]
fn a_party_forging_a_keygen_message_is_blamed_and_nobody_keeps_a_share() {
    use mpcw_engine::keygen::{KeygenConfig, KeygenSession};
    use mpcw_engine::Protocol;
    for scheme in [Scheme::Ed25519, Scheme::SchnorrBip340] {
        let (keys, roster) = common::identities(3);
        let config = KeygenConfig {
            scheme,
            threshold: 2,
            parties: 3,
        };
        let mut sessions: Vec<KeygenSession> = (0..3u16)
            .map(|i| {
                let ctx = mpcw_engine::SessionContext::new(
                    "forged-dkg",
                    i,
                    keys[i as usize].clone(),
                    roster.clone(),
                )
                .unwrap();
                KeygenSession::new(ctx, config).unwrap()
            })
            .collect();
        let mut forged = false;
        let err = sim::run_with(&mut sessions, |env| {
            // Party 1 breaks its decommitment (round 2); round 1 is echo-checked, see below.
            if env.from == 1
                && env.is_broadcast()
                && common::body_json(env, &keys, &roster)
                    .get("Round2Broad")
                    .is_some()
            {
                common::forge_as_sender(env, &keys, &roster, |v| {
                    assert!(common::corrupt(&mut v["Round2Broad"]))
                });
                forged = true;
            }
        })
        .unwrap_err();
        assert!(forged);
        assert_eq!(err.error.blamed(), &[1], "{scheme}: {}", err.error);
        for s in &mut sessions {
            assert!(s.take_output().is_none(), "no half-made share is kept");
        }
        // The session that detected the cheat is over.
        let at = err.at as usize;
        let dummy = sessions[(at + 1) % 3].start();
        let _ = dummy;
        assert!(matches!(
            sessions[at].handle(
                &mpcw_engine::SessionContext::new("forged-dkg", 1, keys[1].clone(), roster.clone())
                    .unwrap()
                    .seal("keygen", None, b"{}")
                    .unwrap()
            ),
            Err(Error::Finished)
        ));
    }
}

use common::reshare;
use mpcw_engine::reshare::{ReshareConfig, ReshareSession};
use mpcw_engine::{KeyShare, PartyKeys};

#[test]
fn refresh_and_lost_device_keep_the_key_and_mixed_shares_cannot_sign() {
    for scheme in [Scheme::Ed25519, Scheme::SchnorrBip340] {
        let w = wallet(scheme, 2, 3);
        let pk = w.shares[0].public_key();
        let current: Vec<Option<&KeyShare>> = w.shares.iter().map(Some).collect();
        // Refresh among the same parties.
        let fresh: Vec<KeyShare> = reshare(
            &w.shares[0],
            &format!("refresh-{scheme}"),
            &w.keys,
            &[0, 2],
            &current,
            2,
        )
        .unwrap()
        .into_iter()
        .map(Option::unwrap)
        .collect();
        assert!(fresh.iter().all(|s| s.public_key() == pk));
        let fw = Wallet::of(&w.keys, fresh.clone());
        let config = SchnorrSignConfig {
            signers: vec![0, 1],
            path: vec![0, 1],
            message: [5u8; 32].to_vec(),
            taproot_merkle_root: None,
            variant: Default::default(),
        };
        let sig = schnorr_sign(&fw, &format!("refreshed-{scheme}"), &config);
        let before = schnorr_sign(w, &format!("before-{scheme}"), &config);
        assert_eq!(
            sig.public_key, before.public_key,
            "same address before and after"
        );
        // A new share with an old one cannot sign.
        let mixed = Wallet::of(
            &w.keys,
            vec![fresh[0].clone(), w.shares[1].clone(), fresh[2].clone()],
        );
        let mut sessions: Vec<SchnorrSignSession> = [0u16, 1]
            .iter()
            .map(|i| {
                SchnorrSignSession::new(
                    mixed.ctx(&format!("mixed-{scheme}"), *i),
                    mixed.share(*i),
                    config.clone(),
                )
                .unwrap()
            })
            .collect();
        assert!(
            sim::run(&mut sessions).is_err(),
            "old and new shares must not combine"
        );

        // Lost device: 1 and 2 reshare to a new device 0, which had nothing.
        let mut keys = w.keys.clone();
        keys[0] = PartyKeys::generate(&mut rand_core::OsRng);
        let recovered: Vec<KeyShare> = reshare(
            &w.shares[0],
            &format!("lost-{scheme}"),
            &keys,
            &[1, 2],
            &[None, Some(&w.shares[1]), Some(&w.shares[2])],
            2,
        )
        .unwrap()
        .into_iter()
        .map(Option::unwrap)
        .collect();
        let rw = Wallet::of(&keys, recovered);
        let sig2 = schnorr_sign(&rw, &format!("recovered-{scheme}"), &config);
        assert_eq!(sig2.public_key, before.public_key);
    }
}

#[test]
fn resharing_can_grow_2_of_3_into_3_of_5() {
    let w = wallet(Scheme::Ed25519, 2, 3);
    let mut keys = w.keys.clone();
    keys.extend((0..2).map(|_| PartyKeys::generate(&mut rand_core::OsRng)));
    let current: Vec<Option<&KeyShare>> = w.shares.iter().map(Some).collect();
    let grown: Vec<KeyShare> = reshare(&w.shares[0], "grow", &keys, &[0, 1], &current, 3)
        .unwrap()
        .into_iter()
        .map(Option::unwrap)
        .collect();
    assert!(grown.iter().all(|s| s.threshold() == 3
        && s.parties() == 5
        && s.public_key() == w.shares[0].public_key()));
    let gw = Wallet::of(&keys, grown);
    let message = b"grown".to_vec();
    let sig = schnorr_sign(
        &gw,
        "grown-sign",
        &SchnorrSignConfig {
            signers: vec![1, 3, 4],
            path: vec![],
            message: message.clone(),
            taproot_merkle_root: None,
            variant: Default::default(),
        },
    );
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&sig.public_key.clone().try_into().unwrap())
        .unwrap();
    vk.verify_strict(
        &message,
        &ed25519_dalek::Signature::from_slice(&sig.signature).unwrap(),
    )
    .unwrap();
}

#[test]
fn a_cheating_dealer_in_resharing_is_blamed() {
    let w = wallet(Scheme::Ed25519, 2, 3);
    let roster = w.roster.clone();
    let config = ReshareConfig {
        key: w.shares[0].public_info(),
        old_signers: vec![0, 1],
        new_threshold: 2,
        new_parties: 3,
    };
    let mut sessions: Vec<ReshareSession> = (0..3u16)
        .map(|i| {
            ReshareSession::new(
                w.ctx("cheat-reshare", i),
                config.clone(),
                Some(&w.shares[i as usize]),
            )
            .unwrap()
        })
        .collect();
    let err = sim::run_with(&mut sessions, |env| {
        if env.from == 1 && env.channel == "reshare-deal" {
            // Party 1 deals a different constant term (not its own share).
            common::forge_as_sender(env, &w.keys, &roster, |v| assert!(common::corrupt(v)));
        }
    })
    .unwrap_err();
    assert_eq!(err.error.blamed(), &[1], "{}", err.error);
}

#[test]
fn a_solana_mnemonic_imports_into_shares_with_the_same_address() {
    use mpcw_engine::import::{import_mnemonic, import_seed, DealtShare};
    let complete = |d: Vec<DealtShare>| -> Vec<KeyShare> {
        d.into_iter()
            .map(|s| match s {
                DealtShare::Complete(k) => k,
                DealtShare::NeedsPairwiseSetup(_) => panic!(),
            })
            .collect()
    };
    // SLIP-10 test vector 1 for ed25519, chain m/0H: public key 8c8a13df…350c.
    let seed = hex::decode("000102030405060708090a0b0c0d0e0f").unwrap();
    let shares = complete(import_seed(&seed, "m/0'", Scheme::Ed25519, 2, 3).unwrap());
    assert_eq!(
        hex::encode(shares[0].public_key()),
        "8c8a13df77a28f3445213a0f432fde644acaa215fc72dcdf300d5efaa85d350c"
    );
    assert_eq!(
        hex::encode(shares[0].chain_code().unwrap()),
        "8b59aa11380b624e81507a27fedda59fea6d0b779a778918a2fd3590e16e9c69"
    );
    // The all-"abandon" mnemonic at Solana's m/44'/501'/0'/0' is this well-known address.
    let phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    let shares =
        complete(import_mnemonic(phrase, "", "m/44'/501'/0'/0'", Scheme::Ed25519, 2, 3).unwrap());
    assert_eq!(
        bs58::encode(shares[0].public_key()).into_string(),
        "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk"
    );
    let (keys, _) = common::identities(3);
    let iw = Wallet::of(&keys, shares);
    let message = b"solana tx message".to_vec();
    let sig = schnorr_sign(
        &iw,
        "import-sol",
        &SchnorrSignConfig {
            signers: vec![0, 2],
            path: vec![],
            message: message.clone(),
            taproot_merkle_root: None,
            variant: Default::default(),
        },
    );
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&sig.public_key.clone().try_into().unwrap())
        .unwrap();
    vk.verify_strict(
        &message,
        &ed25519_dalek::Signature::from_slice(&sig.signature).unwrap(),
    )
    .unwrap();
    // Hardened-only: SLIP-10 ed25519 has no normal children.
    assert!(import_mnemonic(phrase, "", "m/44'/501'/0", Scheme::Ed25519, 2, 3).is_err());
}
