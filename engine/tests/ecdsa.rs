//! Threshold ECDSA (DKLs23): key generation with the pairwise setup, signing by every t-subset
//! (verified and the key recovered with k256), derived keys, identifiable abort, the suspension
//! of a cheating co-signer until a refresh, refresh, resharing after a lost device, a change of
//! threshold, backup and sealing, and mnemonic import.

mod common;

use common::{subsets, wallet, Wallet};
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use mpcw_engine::ecdsa::{
    EcdsaMessage, EcdsaSignConfig, EcdsaSignSession, PairwiseSetupSession, SignRound,
};
use mpcw_engine::{sim, Error, KeyShare, PartyIndex, PartyKeys, Scheme, SessionContext};

fn sessions(
    w: &Wallet,
    session: &str,
    signers: &[PartyIndex],
    path: &[u32],
    msg: &EcdsaMessage,
) -> Vec<EcdsaSignSession> {
    signers
        .iter()
        .map(|i| {
            EcdsaSignSession::new(
                w.ctx(session, *i),
                w.share(*i),
                EcdsaSignConfig {
                    signers: signers.to_vec(),
                    path: path.to_vec(),
                },
                msg,
            )
            .unwrap()
        })
        .collect()
}

fn ecdsa_sign(
    w: &Wallet,
    session: &str,
    signers: &[PartyIndex],
    path: &[u32],
    msg: &EcdsaMessage,
) -> mpcw_engine::EcdsaSignature {
    let mut parties = sessions(w, session, signers, path, msg);
    let sigs = sim::run(&mut parties).expect("signing succeeds");
    assert!(
        sigs.windows(2).all(|p| p[0] == p[1]),
        "all signers output one signature"
    );
    sigs[0]
}

/// Verify with k256, require low s, and recover the public key from (r, s, v).
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
    // Under the parent key the same signature does not verify.
    let parent = k256::ecdsa::VerifyingKey::from_sec1_bytes(&w.shares[0].public_key()).unwrap();
    let s = k256::ecdsa::Signature::from_scalars(sig.r, sig.s).unwrap();
    assert!(parent.verify_prehash(&msg.digest(), &s).is_err());
}

#[test]
fn ecdsa_fewer_than_t_parties_cannot_sign() {
    let w = wallet(Scheme::EcdsaSecp256k1, 3, 5);
    let msg = EcdsaMessage::Keccak256(b"x".to_vec());
    for signers in [vec![0u16, 1], vec![0, 0, 1], vec![0, 1, 5]] {
        let err = EcdsaSignSession::new(
            w.ctx("short", 0),
            w.share(0),
            EcdsaSignConfig {
                signers,
                path: vec![],
            },
            &msg,
        )
        .unwrap_err();
        assert!(matches!(err, Error::InvalidParameters(_)), "{err}");
    }
    // t - 1 shares do not hold the key either: interpolating two of a 3-of-5 sharing gives
    // some other key.
    let two = mpcw_engine::backup::reconstruct_secret_key(&w.shares[..2]);
    let wrong = match two {
        Err(_) => true,
        Ok(sk) => {
            k256::ecdsa::SigningKey::from_slice(sk.as_ref())
                .unwrap()
                .verifying_key()
                .to_encoded_point(true)
                .as_bytes()
                != w.shares[0].public_key().as_slice()
        }
    };
    assert!(wrong);
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
fn signers_that_disagree_on_the_message_get_no_signature() {
    let w = wallet(Scheme::EcdsaSecp256k1, 2, 3);
    let msg = [
        EcdsaMessage::Keccak256(b"pay Alice".to_vec()),
        EcdsaMessage::Keccak256(b"pay Mallory".to_vec()),
    ];
    let mut parties: Vec<EcdsaSignSession> = (0..2u16)
        .map(|i| {
            EcdsaSignSession::new(
                w.ctx("disagree", i),
                w.share(i),
                EcdsaSignConfig {
                    signers: vec![0, 1],
                    path: vec![],
                },
                &msg[i as usize],
            )
            .unwrap()
        })
        .collect();
    assert!(sim::run(&mut parties).is_err());
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
            assert!(s.suspended().is_empty());
            // The share, with its pairwise state, survives its own encoding.
            let back = KeyShare::from_bytes(&s.to_bytes()).unwrap();
            assert_eq!(back.to_bytes(), s.to_bytes());
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

#[test]
fn a_share_missing_its_pairwise_state_is_refused() {
    let w = wallet(Scheme::EcdsaSecp256k1, 2, 3);
    let mut json: serde_json::Value = serde_json::from_slice(&w.shares[0].to_bytes()).unwrap();
    let other = serde_json::from_slice::<serde_json::Value>(&w.shares[1].to_bytes()).unwrap();
    // Party 1's pairwise state in party 0's share: it covers the wrong parties.
    json["share"]["pairwise"] = other["share"]["pairwise"].clone();
    let err = KeyShare::from_bytes(&serde_json::to_vec(&json).unwrap()).unwrap_err();
    assert!(matches!(err, Error::Malformed(_)), "{err}");
}

// ---- cheating -------------------------------------------------------------------------------

#[test]
fn a_party_forging_a_signing_commitment_is_blamed() {
    let w = wallet(Scheme::EcdsaSecp256k1, 2, 3);
    let msg = EcdsaMessage::Keccak256(b"tx".to_vec());
    let mut parties = sessions(w, "forged-commitment", &[0, 2], &[], &msg);
    let mut forged = false;
    let err = sim::run_with(&mut parties, |env| {
        if env.from == 2 && !forged {
            common::forge_bytes_as_sender(env, &w.keys, &w.roster, |body| {
                match SignRound::from_bytes(&body).unwrap() {
                    SignRound::One(mut m) => {
                        m.commitment[0] ^= 1;
                        forged = true;
                        SignRound::One(m).to_bytes()
                    }
                    _ => body,
                }
            });
        }
    })
    .unwrap_err();
    assert!(forged);
    assert_eq!(err.at, 0);
    assert_eq!(err.error.blamed(), &[2], "{}", err.error);
    assert_eq!(err.error.code(), "party_misbehaved");
    // The failed session keeps nothing and accepts nothing more.
    assert!(mpcw_engine::Protocol::take_output(&mut parties[0]).is_none());
}

#[test]
fn an_undecodable_signing_message_gets_its_sender_blamed() {
    let w = wallet(Scheme::EcdsaSecp256k1, 2, 3);
    let msg = EcdsaMessage::Keccak256(b"tx".to_vec());
    let mut parties = sessions(w, "garbage", &[1, 2], &[], &msg);
    let err = sim::run_with(&mut parties, |env| {
        if env.from == 1 {
            common::forge_bytes_as_sender(env, &w.keys, &w.roster, |mut body| {
                body.truncate(body.len() / 2);
                body
            });
        }
    })
    .unwrap_err();
    assert_eq!(err.error.blamed(), &[1], "{}", err.error);
}

/// Play party `cheater` tampering with the check value of its multiplication message of round 2.
fn tamper_multiplication(
    w: &Wallet,
    cheater: PartyIndex,
) -> impl FnMut(&mut mpcw_engine::Envelope) + '_ {
    let mut done = false;
    move |env| {
        if env.from != cheater || done {
            return;
        }
        common::forge_bytes_as_sender(env, &w.keys, &w.roster, |body| match SignRound::from_bytes(
            &body,
        )
        .unwrap()
        {
            SignRound::Two(mut m) => {
                m.mul_transmit.verify_r[0] ^= 1;
                done = true;
                SignRound::Two(m).to_bytes()
            }
            _ => body,
        });
    }
}

#[test]
fn a_tampered_multiplication_suspends_the_pair_until_a_refresh() {
    let w = wallet(Scheme::EcdsaSecp256k1, 2, 3);
    let msg = EcdsaMessage::Keccak256(b"tx".to_vec());
    let mut parties = sessions(w, "tampered-mul", &[0, 1], &[], &msg);
    let err = sim::run_with(&mut parties, tamper_multiplication(w, 1)).unwrap_err();
    assert_eq!(err.at, 0);
    assert!(
        matches!(err.error, Error::OtAbort { party: 1, .. }),
        "{}",
        err.error
    );
    assert_eq!(err.error.blamed(), &[1]);
    assert_eq!(err.error.code(), "ot_check_failed");

    // The honest party records it on its share and stores the share again.
    let mut share = w.shares[0].clone();
    assert!(share.suspend(1, err.error.to_string()));
    let share = KeyShare::from_bytes(&share.to_bytes()).unwrap();
    assert_eq!(share.suspended().len(), 1);
    let refused = EcdsaSignSession::new(
        w.ctx("after-tamper", 0),
        &share,
        EcdsaSignConfig {
            signers: vec![0, 1],
            path: vec![],
        },
        &msg,
    )
    .unwrap_err();
    assert!(
        matches!(refused, Error::Suspended { party: 1, .. }),
        "{refused}"
    );
    assert_eq!(refused.code(), "signing_suspended");
    // With the third party it still signs.
    let mut others = w.shares.clone();
    others[0] = share.clone();
    let with_third = Wallet::of(&w.keys, others.clone());
    let sig = ecdsa_sign(&with_third, "after-tamper-2", &[0, 2], &[], &msg);
    check_ecdsa(&w.shares[0].public_key(), &msg, &sig);

    // A refresh makes new shares with a new pairwise state, and the pair signs again.
    let current: Vec<Option<&KeyShare>> = others.iter().map(Some).collect();
    let fresh = reshare(
        &with_third,
        "refresh-after-tamper",
        &w.keys,
        &[0, 2],
        &current,
        2,
    );
    assert!(fresh.iter().all(|s| s.suspended().is_empty()));
    let refreshed = Wallet::of(&w.keys, fresh);
    let sig = ecdsa_sign(&refreshed, "after-refresh", &[0, 1], &[], &msg);
    check_ecdsa(&w.shares[0].public_key(), &msg, &sig);
}

#[test]
fn a_message_altered_in_transit_is_rejected_without_blame() {
    let w = wallet(Scheme::EcdsaSecp256k1, 2, 3);
    let msg = EcdsaMessage::Keccak256(b"tx".to_vec());
    let mut parties = sessions(w, "altered", &[1, 2], &[], &msg);
    let err = sim::run_with(&mut parties, |env| {
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
fn a_party_cheating_in_the_pairwise_setup_is_blamed_and_nobody_keeps_a_share() {
    use mpcw_engine::keygen::{KeygenConfig, KeygenSession};
    for target in ["init", "reveal"] {
        let (keys, roster) = common::identities(3);
        let config = KeygenConfig {
            scheme: Scheme::EcdsaSecp256k1,
            threshold: 2,
            parties: 3,
        };
        let mut parties: Vec<KeygenSession> = (0..3u16)
            .map(|i| {
                let ctx =
                    SessionContext::new("setup-cheat", i, keys[i as usize].clone(), roster.clone())
                        .unwrap();
                KeygenSession::new(ctx, config).unwrap()
            })
            .collect();
        let mut seen = 0;
        let err = sim::run_with(&mut parties, |env| {
            if env.from != 2 || env.to != Some(0) || env.channel != "ot-setup" {
                return;
            }
            seen += 1;
            // The first message of a pair is its Init, the second its Reveal.
            let nth = if target == "init" { 1 } else { 2 };
            if seen == nth {
                common::forge_bytes_as_sender(env, &keys, &roster, |mut body| {
                    let last = body.len() - 1;
                    body[last] ^= 1;
                    body
                });
            }
        })
        .unwrap_err();
        assert_eq!(err.at, 0, "{target}");
        assert_eq!(err.error.blamed(), &[2], "{target}: {}", err.error);
        assert!(mpcw_engine::Protocol::take_output(&mut parties[0]).is_none());
    }
}

// ---- refresh, resharing, backup, import -----------------------------------------------------

/// Reshare `w`'s key; every party is new and gets a share.
fn reshare(
    w: &Wallet,
    session: &str,
    keys: &[PartyKeys],
    old_signers: &[PartyIndex],
    current: &[Option<&KeyShare>],
    new_threshold: u16,
) -> Vec<KeyShare> {
    common::reshare(
        &w.shares[0],
        session,
        keys,
        old_signers,
        current,
        new_threshold,
    )
    .expect("resharing succeeds")
    .into_iter()
    .map(|s| s.expect("every party is new"))
    .collect()
}

#[test]
fn refresh_keeps_the_key_and_old_shares_stop_working() {
    let w = wallet(Scheme::EcdsaSecp256k1, 2, 3);
    let current: Vec<Option<&KeyShare>> = w.shares.iter().map(Some).collect();
    let fresh = reshare(w, "refresh", &w.keys, &[0, 1], &current, 2);
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
    let refreshed = Wallet::of(&w.keys, fresh.clone());
    let msg = EcdsaMessage::Keccak256(b"after refresh".to_vec());
    let sig = ecdsa_sign(&refreshed, "refresh-sign", &[0, 2], &[], &msg);
    check_ecdsa(&pk, &msg, &sig);
    // An old share with a new one neither signs nor gives the key.
    let mixed = Wallet::of(
        &w.keys,
        vec![fresh[0].clone(), w.shares[1].clone(), fresh[2].clone()],
    );
    let mut parties = sessions(&mixed, "mixed-sign", &[0, 1], &[], &msg);
    let err = sim::run(&mut parties).expect_err("old and new shares must not sign");
    // A stale share is told apart from an attack on the pairwise state: nobody is suspended.
    assert!(!matches!(err.error, Error::OtAbort { .. }), "{}", err.error);
    let rebuilt =
        mpcw_engine::backup::reconstruct_secret_key(&[fresh[0].clone(), w.shares[1].clone()]);
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
    keys[0] = PartyKeys::generate(&mut rand_core::OsRng);
    let current = [None, Some(&w.shares[1]), Some(&w.shares[2])];
    let fresh = reshare(w, "lost-device", &keys, &[1, 2], &current, 2);
    let pk = w.shares[0].public_key();
    assert!(fresh.iter().all(|s| s.public_key() == pk));
    assert_eq!(
        fresh[0].derive(&[0]).unwrap(),
        w.shares[0].derive(&[0]).unwrap()
    );
    let recovered = Wallet::of(&keys, fresh.clone());
    for signers in [[0u16, 1], [0, 2], [1, 2]] {
        let msg = EcdsaMessage::Keccak256(format!("recovered {signers:?}").into_bytes());
        let sig = ecdsa_sign(
            &recovered,
            &format!("recovered-{signers:?}"),
            &signers,
            &[0],
            &msg,
        );
        check_ecdsa(&fresh[0].derive(&[0]).unwrap().public_key, &msg, &sig);
    }
    // The lost device's share, should it turn up, signs with nobody.
    let stale = Wallet::of(
        &w.keys,
        vec![w.shares[0].clone(), fresh[1].clone(), fresh[2].clone()],
    );
    let msg = EcdsaMessage::Keccak256(b"from the stolen phone".to_vec());
    let mut parties = sessions(&stale, "stolen", &[0, 1], &[], &msg);
    let err = sim::run(&mut parties).expect_err("a replaced share must not sign");
    assert!(!matches!(err.error, Error::OtAbort { .. }), "{}", err.error);
}

#[test]
fn resharing_can_grow_2_of_3_into_3_of_5() {
    let w = wallet(Scheme::EcdsaSecp256k1, 2, 3);
    let mut keys = w.keys.clone();
    keys.extend((0..2).map(|_| PartyKeys::generate(&mut rand_core::OsRng)));
    let current: Vec<Option<&KeyShare>> = w.shares.iter().map(Some).collect();
    let fresh = reshare(w, "grow", &keys, &[0, 2], &current, 3);
    assert!(fresh.iter().all(|s| (s.threshold(), s.parties()) == (3, 5)));
    let grown = Wallet::of(&keys, fresh);
    let pk = w.shares[0].public_key();
    for signers in [[0u16, 1, 2], [1, 3, 4], [0, 2, 4]] {
        let msg = EcdsaMessage::Sha256(format!("3-of-5 {signers:?}").into_bytes());
        let sig = ecdsa_sign(&grown, &format!("grown-{signers:?}"), &signers, &[], &msg);
        check_ecdsa(&pk, &msg, &sig);
    }
    let err = EcdsaSignSession::new(
        grown.ctx("grown-short", 0),
        grown.share(0),
        EcdsaSignConfig {
            signers: vec![0, 1],
            path: vec![],
        },
        &EcdsaMessage::Sha256(b"two".to_vec()),
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidParameters(_)));
}

#[test]
fn an_ecdsa_share_backs_up_seals_and_signs_after_restoring() {
    use mpcw_engine::backup::{combine, split};
    use mpcw_engine::vault::{KdfParams, SealedBox};
    let w = wallet(Scheme::EcdsaSecp256k1, 2, 3);
    let parts = split(&w.shares[1], 2, 3).unwrap();
    let restored = combine(&parts[1..]).unwrap();
    assert_eq!(restored.to_bytes(), w.shares[1].to_bytes());
    let params = KdfParams {
        m_cost_kib: 8 * 1024,
        t_cost: 1,
        p_cost: 1,
    };
    let sealed =
        SealedBox::seal_with_password("share", &restored.to_bytes(), b"pass phrase", params)
            .unwrap();
    let opened = KeyShare::from_bytes(&sealed.open_with_password(b"pass phrase").unwrap()).unwrap();
    let mut shares = w.shares.clone();
    shares[1] = opened;
    let again = Wallet::of(&w.keys, shares);
    let msg = EcdsaMessage::Keccak256(b"restored".to_vec());
    let sig = ecdsa_sign(&again, "restored-sign", &[1, 2], &[], &msg);
    check_ecdsa(&w.shares[0].public_key(), &msg, &sig);
    // Debug output of the share shows no secret.
    let json: serde_json::Value = serde_json::from_slice(&w.shares[1].to_bytes()).unwrap();
    let secret = json["share"]["core"]["x"].as_str().unwrap().to_owned();
    let pairwise = json["share"]["pairwise"].as_str().unwrap().to_owned();
    let debug = format!("{:?}", w.shares[1]);
    assert!(!debug.contains(&secret) && !debug.contains(&pairwise[..40]));
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
            DealtShare::NeedsPairwiseSetup(s) => *s,
            DealtShare::Complete(_) => panic!("ECDSA shares need their pairwise state"),
        })
        .collect();
    let (keys, roster) = common::identities(3);
    let mut parties: Vec<PairwiseSetupSession> = incomplete
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let ctx =
                SessionContext::new("import-setup", i as u16, keys[i].clone(), roster.clone())
                    .unwrap();
            PairwiseSetupSession::new(ctx, s).unwrap()
        })
        .collect();
    let shares = sim::run(&mut parties).unwrap();
    // m/44'/60'/0'/0/0 of this mnemonic is the well-known address below (MetaMask, ethers).
    let child = shares[0].derive(&[0]).unwrap();
    assert_eq!(
        eth_address(&child.public_key),
        "9858effd232b4033e47d90003d41ec34ecaeda94"
    );
    let w = Wallet::of(&keys, shares);
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
