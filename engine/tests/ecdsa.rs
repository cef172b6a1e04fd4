//! Threshold ECDSA: key generation, presigning, signing by every t-subset (verified with k256),
//! identifiable abort, refresh, resharing after a lost device, and mnemonic import.
//!
//! ECDSA key generation is slow (Paillier auxiliary info), so the tests of this binary share one
//! wallet per threshold.

mod common;

use std::collections::BTreeMap;

use common::{presign, subsets, wallet, Wallet};
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use mpcw_engine::ecdsa::{combine, EcdsaMessage, EcdsaSignSession, PresignConfig, PresignSession};
use mpcw_engine::{sim, Error, PartyIndex, Scheme};

fn ecdsa_sign(
    w: &Wallet,
    session: &str,
    signers: &[PartyIndex],
    path: &[u32],
    msg: &EcdsaMessage,
) -> mpcw_engine::EcdsaSignature {
    let presigs = presign(w, session, signers, path);
    let sign_session = format!("{session}/sign");
    let mut sessions: Vec<EcdsaSignSession> = signers
        .iter()
        .zip(presigs)
        .map(|(i, p)| EcdsaSignSession::new(w.ctx(&sign_session, *i), p, msg.clone()).unwrap())
        .collect();
    let sigs = sim::run(&mut sessions).expect("signing succeeds");
    assert!(
        sigs.windows(2).all(|p| p[0] == p[1]),
        "all signers output one signature"
    );
    sigs[0]
}

/// Verify with k256 and recover the public key from the signature.
fn check_ecdsa(public_key: &[u8], msg: &EcdsaMessage, sig: &mpcw_engine::EcdsaSignature) {
    let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(public_key).unwrap();
    let s = k256::ecdsa::Signature::from_scalars(sig.r, sig.s).unwrap();
    assert!(s.normalize_s().is_none(), "signature is low-s");
    vk.verify_prehash(&msg.digest(), &s).expect("k256 verifies");
    let rid = k256::ecdsa::RecoveryId::from_byte(sig.recovery_id).unwrap();
    let recovered =
        k256::ecdsa::VerifyingKey::recover_from_prehash(&msg.digest(), &s, rid).unwrap();
    assert_eq!(recovered, vk, "public key recovered from (r, s, v)");
}

#[test]
fn ecdsa_every_subset_signs_2_of_3_and_3_of_5() {
    for (t, n) in [(2, 3), (3, 5)] {
        let w = wallet(Scheme::EcdsaSecp256k1, t, n);
        let pk = w.shares[0].public_key();
        for signers in subsets(n, t) {
            let msg =
                EcdsaMessage::Keccak256(format!("pay 1 ETH, signers {signers:?}").into_bytes());
            let sig = ecdsa_sign(
                w,
                &format!("ecdsa-{t}-{n}-{signers:?}"),
                &signers,
                &[],
                &msg,
            );
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
        PresignConfig {
            signers: vec![0, 1],
            path: vec![],
        },
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

#[test]
fn dkg_gives_every_party_a_share_of_one_key() {
    for (t, n) in [(2, 3), (3, 5)] {
        let w = wallet(Scheme::EcdsaSecp256k1, t, n);
        let pk = w.shares[0].public_key();
        assert_eq!(pk.len(), 33);
        for (i, s) in w.shares.iter().enumerate() {
            assert_eq!(s.index() as usize, i);
            assert_eq!(s.public_key(), pk);
            assert_eq!((s.threshold(), s.parties()), (t, n));
            assert_eq!(s.chain_code(), w.shares[0].chain_code());
        }
        // The emergency exit gives the key behind the group public key.
        let sk = mpcw_engine::backup::reconstruct_secret_key(&w.shares[..t as usize]).unwrap();
        let rebuilt = k256::ecdsa::SigningKey::from_slice(sk.as_ref()).unwrap();
        assert_eq!(
            rebuilt.verifying_key().to_encoded_point(true).as_bytes(),
            pk.as_slice()
        );
    }
}

// ---- identifiable abort ----------------------------------------------------------------------

#[test]
fn a_party_forging_a_presign_message_is_blamed() {
    let w = wallet(Scheme::EcdsaSecp256k1, 2, 3);
    let signers = [0u16, 2];
    let mut sessions: Vec<PresignSession> = signers
        .iter()
        .map(|i| {
            PresignSession::new(
                w.ctx("forged-presign", *i),
                w.share(*i),
                PresignConfig {
                    signers: signers.to_vec(),
                    path: vec![],
                },
            )
            .unwrap()
        })
        .collect();
    let mut forged = false;
    let err = sim::run_with(&mut sessions, |env| {
        // Party 2 broadcasts a first-round ciphertext that its proofs do not fit.
        if !forged && env.from == 2 && env.is_broadcast() {
            let body = common::body_json(env, &w.keys, &w.roster);
            if body.get("Round1a").is_some() {
                common::forge_as_sender(env, &w.keys, &w.roster, |v| {
                    assert!(common::corrupt(&mut v["Round1a"]["K"]))
                });
                forged = true;
            }
        }
    })
    .unwrap_err();
    assert!(forged);
    assert_eq!(err.error.blamed(), &[2], "{}", err.error);
    assert_eq!(err.error.code(), "party_misbehaved");
    // The failed session keeps nothing and accepts nothing more.
    let honest = &mut sessions[0];
    assert!(mpcw_engine::Protocol::take_output(honest).is_none());
}

#[test]
fn a_wrong_partial_signature_gets_its_signer_blamed() {
    let w = wallet(Scheme::EcdsaSecp256k1, 2, 3);
    let presigs = presign(w, "bad-partial", &[0, 1], &[]);
    let msg = EcdsaMessage::Keccak256(b"tx".to_vec());
    let mut sessions: Vec<EcdsaSignSession> = [0u16, 1]
        .iter()
        .zip(presigs)
        .map(|(i, p)| EcdsaSignSession::new(w.ctx("bad-partial/sign", *i), p, msg.clone()).unwrap())
        .collect();
    let err = sim::run_with(&mut sessions, |env| {
        if env.from == 1 {
            common::forge_as_sender(env, &w.keys, &w.roster, |v| assert!(common::corrupt(v)));
        }
    })
    .unwrap_err();
    assert_eq!(err.at, 0);
    assert_eq!(err.error.blamed(), &[1], "{}", err.error);
}

#[test]
fn a_message_altered_in_transit_is_rejected_without_blame() {
    let w = wallet(Scheme::EcdsaSecp256k1, 2, 3);
    let presigs = presign(w, "altered", &[1, 2], &[]);
    let msg = EcdsaMessage::Keccak256(b"tx".to_vec());
    let mut sessions: Vec<EcdsaSignSession> = [1u16, 2]
        .iter()
        .zip(presigs)
        .map(|(i, p)| EcdsaSignSession::new(w.ctx("altered/sign", *i), p, msg.clone()).unwrap())
        .collect();
    let err = sim::run_with(&mut sessions, |env| {
        if env.from == 2 {
            env.signature = env.signature.chars().rev().collect();
        }
    })
    .unwrap_err();
    assert!(
        matches!(err.error, Error::Unauthenticated { claimed_sender: 2 }),
        "{}",
        err.error
    );
    assert!(err.error.blamed().is_empty());
}

#[test]
fn a_presignature_is_consumed_by_use_and_a_store_hands_it_out_once() {
    use mpcw_engine::ecdsa::{MemoryPresignatureStore, PresignatureStore};
    let w = wallet(Scheme::EcdsaSecp256k1, 2, 3);
    let mut presigs = presign(w, "stored", &[0, 1], &[]);
    let mine = presigs.remove(0);
    let id = mine.info().id.clone();
    // Storage goes through bytes; `into_bytes` consumes the presignature.
    let bytes = mine.into_bytes();
    let mut store = MemoryPresignatureStore::default();
    store
        .put(mpcw_engine::EcdsaPresignature::from_bytes(&bytes).unwrap())
        .unwrap();
    let first = store.take(&id).unwrap();
    assert!(first.is_some());
    assert!(
        store.take(&id).unwrap().is_none(),
        "a presignature is handed out at most once"
    );
    // `issue_partial` takes the presignature by value: a second call does not compile, and the
    // type is not `Clone` (checked below at compile time).
    let _ = first
        .unwrap()
        .issue_partial(&EcdsaMessage::Keccak256(b"once".to_vec()));
    fn assert_not_clone<T>() {}
    assert_not_clone::<mpcw_engine::EcdsaPresignature>();
}

// ---- refresh, resharing, import -------------------------------------------------------------

use mpcw_engine::reshare::{AuxSource, ReshareConfig, ReshareSession};

fn reshare(
    w: &Wallet,
    session: &str,
    keys: &[mpcw_engine::PartyKeys],
    old_signers: &[PartyIndex],
    current: &[Option<&mpcw_engine::KeyShare>],
    aux: impl Fn(PartyIndex) -> AuxSource,
) -> Vec<mpcw_engine::KeyShare> {
    let roster: mpcw_engine::Roster = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (i as PartyIndex, k.public()))
        .collect();
    let config = ReshareConfig {
        key: w.shares[0].public_info(),
        old_signers: old_signers.to_vec(),
        new_threshold: 2,
        new_parties: keys.len() as u16,
    };
    let mut sessions: Vec<ReshareSession> = (0..keys.len() as u16)
        .map(|i| {
            let ctx = mpcw_engine::SessionContext::new(
                session,
                i,
                keys[i as usize].clone(),
                roster.clone(),
            )
            .unwrap();
            ReshareSession::new(ctx, config.clone(), current[i as usize], Some(aux(i))).unwrap()
        })
        .collect();
    sim::run(&mut sessions)
        .expect("resharing succeeds")
        .into_iter()
        .map(|s| s.expect("every party is new"))
        .collect()
}

fn sign_with(
    keys: &[mpcw_engine::PartyKeys],
    shares: &[mpcw_engine::KeyShare],
    session: &str,
    signers: &[PartyIndex],
) -> (EcdsaMessage, mpcw_engine::EcdsaSignature) {
    let roster: mpcw_engine::Roster = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (i as PartyIndex, k.public()))
        .collect();
    let w = Wallet {
        keys: keys.to_vec(),
        roster,
        shares: shares.to_vec(),
    };
    let msg = EcdsaMessage::Keccak256(format!("after {session}").into_bytes());
    let sig = ecdsa_sign(&w, session, signers, &[], &msg);
    (msg, sig)
}

#[test]
fn refresh_keeps_the_key_and_old_shares_stop_combining_with_new_ones() {
    let w = wallet(Scheme::EcdsaSecp256k1, 2, 3);
    let current: Vec<Option<&mpcw_engine::KeyShare>> = w.shares.iter().map(Some).collect();
    let fresh = reshare(w, "refresh", &w.keys, &[0, 1], &current, |_| {
        AuxSource::Keep
    });
    let pk = w.shares[0].public_key();
    for (old, new) in w.shares.iter().zip(&fresh) {
        assert_eq!(new.public_key(), pk);
        assert_eq!(
            new.derive(&[0, 5]).unwrap(),
            old.derive(&[0, 5]).unwrap(),
            "same addresses"
        );
        assert_ne!(
            new.public_info().public_shares,
            old.public_info().public_shares
        );
    }
    let (msg, sig) = sign_with(&w.keys, &fresh, "refresh-sign", &[0, 2]);
    check_ecdsa(&pk, &msg, &sig);
    // An old share with a new one no longer gives the key.
    let mixed = [fresh[0].clone(), w.shares[1].clone()];
    let rebuilt = mpcw_engine::backup::reconstruct_secret_key(&mixed);
    let wrong = match rebuilt {
        Err(_) => true,
        Ok(sk) => k256::ecdsa::SigningKey::from_slice(sk.as_ref())
            .map(|k| k.verifying_key().to_encoded_point(true).as_bytes() != pk.as_slice())
            .unwrap_or(true),
    };
    assert!(wrong, "old and new shares must not combine");
}

#[test]
fn a_lost_device_is_replaced_by_resharing_and_keeps_its_addresses() {
    let w = wallet(Scheme::EcdsaSecp256k1, 2, 3);
    // Party 0 (the device) is lost. Parties 1 and 2 reshare to a new device with new keys.
    let mut keys = w.keys.clone();
    keys[0] = mpcw_engine::PartyKeys::generate(&mut rand_core::OsRng);
    let current = [None, Some(&w.shares[1]), Some(&w.shares[2])];
    let mut primes: Vec<Option<mpcw_engine::PaillierPrimes>> = common::fixture_primes()
        .into_iter()
        .rev()
        .take(3)
        .map(Some)
        .collect();
    let primes = std::sync::Mutex::new(&mut primes);
    let fresh = reshare(w, "lost-device", &keys, &[1, 2], &current, |i| {
        AuxSource::Generate(primes.lock().unwrap()[i as usize].take().unwrap())
    });
    let pk = w.shares[0].public_key();
    assert!(fresh.iter().all(|s| s.public_key() == pk));
    assert_eq!(
        fresh[0].derive(&[0]).unwrap(),
        w.shares[0].derive(&[0]).unwrap()
    );
    for signers in [[0u16, 1], [0, 2]] {
        let (msg, sig) = sign_with(&keys, &fresh, &format!("recovered-{signers:?}"), &signers);
        check_ecdsa(&pk, &msg, &sig);
    }
}

#[test]
fn a_bip39_wallet_imports_into_shares_with_the_same_ethereum_address() {
    use mpcw_engine::import::{import_mnemonic, seed_from_mnemonic, DealtShare};
    // BIP-39 reference vector: the all-"abandon" mnemonic, empty passphrase.
    let phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    assert_eq!(
        hex::encode(seed_from_mnemonic(phrase, "").unwrap().as_ref()),
        "5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4"
    );
    // BIP-39 Trezor vector with passphrase "TREZOR".
    assert_eq!(
        hex::encode(seed_from_mnemonic(phrase, "TREZOR").unwrap().as_ref()),
        "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04"
    );
    let dealt =
        import_mnemonic(phrase, "", "m/44'/60'/0'/0", Scheme::EcdsaSecp256k1, 2, 3).unwrap();
    let incomplete: Vec<_> = dealt
        .into_iter()
        .map(|d| match d {
            DealtShare::NeedsAuxInfo(s) => *s,
            DealtShare::Complete(_) => panic!("ECDSA shares need auxiliary info"),
        })
        .collect();
    let (keys, roster) = common::identities(3);
    let mut primes = common::fixture_primes().into_iter();
    let mut sessions: Vec<mpcw_engine::aux::AuxInfoSession> = incomplete
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let ctx = mpcw_engine::SessionContext::new(
                "import-aux",
                i as u16,
                keys[i].clone(),
                roster.clone(),
            )
            .unwrap();
            mpcw_engine::aux::AuxInfoSession::new(ctx, s, primes.next().unwrap()).unwrap()
        })
        .collect();
    let shares = sim::run(&mut sessions).unwrap();
    // m/44'/60'/0'/0/0 of this mnemonic is the well-known address below (MetaMask, ethers).
    let child = shares[0].derive(&[0]).unwrap();
    assert_eq!(
        eth_address(&child.public_key),
        "9858effd232b4033e47d90003d41ec34ecaeda94"
    );
    let w = Wallet {
        keys,
        roster,
        shares,
    };
    let msg = EcdsaMessage::Keccak256(b"imported".to_vec());
    let sig = ecdsa_sign(&w, "import-sign", &[1, 2], &[0], &msg);
    check_ecdsa(&child.public_key, &msg, &sig);
}

fn eth_address(compressed: &[u8]) -> String {
    use sha3::Digest;
    let pk = k256::PublicKey::from_sec1_bytes(compressed).unwrap();
    let uncompressed = k256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&pk, false);
    let h = sha3::Keccak256::digest(&uncompressed.as_bytes()[1..]);
    hex::encode(&h[12..])
}
