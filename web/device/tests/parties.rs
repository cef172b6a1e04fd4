//! The device API as JavaScript drives it, with JSON strings only: three parties make a 2-of-3
//! Ed25519 wallet, the secrets are sealed and opened again (a wrong password fails), and two of
//! them sign; ed25519-dalek verifies the signature under the wallet's child key. An ECDSA wallet
//! (DKLs23) signs, recovers a lost party and refuses a suspended co-signer; k256 recovers its
//! signatures' key.

use std::collections::VecDeque;

use mpcw_device_wasm::{DeviceSecret, KeygenSpec, Party, ReshareSpec};
use mpcw_engine::vault::KdfParams;

/// Deliver every envelope to every party (each ignores what is not addressed to it) until all
/// are done.
fn run(parties: &mut [Party]) {
    try_run(parties).unwrap();
}

/// The same, with the first party's error.
fn try_run(parties: &mut [Party]) -> Result<(), String> {
    let mut queue: VecDeque<String> = VecDeque::new();
    let push = |json: String, queue: &mut VecDeque<String>| {
        let list: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
        queue.extend(list.into_iter().map(|v| v.to_string()));
    };
    for p in parties.iter_mut() {
        push(p.start().map_err(|e| e.to_string())?, &mut queue);
    }
    let mut steps = 0;
    while let Some(envelope) = queue.pop_front() {
        for p in parties.iter_mut() {
            push(p.handle(&envelope).map_err(|e| e.to_string())?, &mut queue);
        }
        steps += 1;
        assert!(steps < 10_000, "the protocol does not end");
    }
    if parties.iter().all(Party::is_done) {
        Ok(())
    } else {
        Err("the protocol stopped before its end".into())
    }
}

/// Parties `signers` (secrets) sign `message` at `path`; the signature's bytes, or the error.
fn sign(
    secrets: &[&DeviceSecret],
    roster: &str,
    signers: &[u16],
    path: &[u32],
    session: &str,
    message: &[u8],
) -> Result<[u8; 64], String> {
    signature(secrets, roster, signers, path, session, None, message).map(|(bytes, _)| bytes)
}

/// The same with a hash (ECDSA): the signature's bytes and recovery id.
fn signature(
    secrets: &[&DeviceSecret],
    roster: &str,
    signers: &[u16],
    path: &[u32],
    session: &str,
    hash: Option<&str>,
    message: &[u8],
) -> Result<([u8; 64], Option<u8>), String> {
    let mut parties: Vec<Party> = secrets
        .iter()
        .map(|s| s.sign(session, roster, signers, path, hash, &hex::encode(message)))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    try_run(&mut parties)?;
    let sig: serde_json::Value = serde_json::from_str(&parties[0].signature().unwrap()).unwrap();
    let bytes = hex::decode(sig["bytes"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    Ok((bytes, sig["recovery_id"].as_u64().map(|v| v as u8)))
}

/// The roster (JSON) of `secrets` as parties `0..`, as the server would give it.
fn roster_of(secrets: &[DeviceSecret]) -> String {
    format!(
        "{{{}}}",
        secrets
            .iter()
            .enumerate()
            .map(|(i, s)| format!("\"{i}\": {}", s.public_keys()))
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// Three parties make a 2-of-3 Ed25519 wallet in session `session`: their secrets, and the
/// roster (JSON) as the server would give it.
fn ed25519_wallet(session: &str) -> (Vec<DeviceSecret>, String) {
    wallet(session, "ed25519")
}

/// Three parties make a 2-of-3 wallet of `scheme`.
fn wallet(session: &str, scheme: &str) -> (Vec<DeviceSecret>, String) {
    let mut secrets: Vec<DeviceSecret> = (0..3).map(|_| DeviceSecret::generate()).collect();
    let roster = roster_of(&secrets);
    let mut keygen: Vec<Party> = secrets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let spec = KeygenSpec {
                session,
                me: i as u16,
                roster: &roster,
                scheme,
                threshold: 2,
                parties: 3,
            };
            s.keygen(&spec).unwrap()
        })
        .collect();
    run(&mut keygen);
    for (s, p) in secrets.iter_mut().zip(keygen.iter_mut()) {
        s.accept(p).unwrap();
    }
    (secrets, roster)
}

fn light() -> KdfParams {
    KdfParams {
        m_cost_kib: 8 * 1024,
        t_cost: 1,
        p_cost: 1,
    }
}

#[test]
fn three_devices_make_a_wallet_seal_it_and_two_sign() {
    let (secrets, roster) = ed25519_wallet("dkg-1");
    let group = secrets[0].group_key().unwrap();
    assert!(secrets.iter().all(|s| s.group_key().unwrap() == group));
    assert_eq!(secrets[2].index(), Some(2));

    // Sealed and opened again; a wrong password opens nothing.
    let sealed = secrets[2]
        .seal("mpcw/device-share/w1/2", b"correct horse", light())
        .unwrap();
    assert!(DeviceSecret::open(&sealed, b"wrong horse").is_err());
    let reopened = DeviceSecret::open(&sealed, b"correct horse").unwrap();
    assert_eq!(reopened.group_key().unwrap(), group);

    // Parties 0 and 2 (the reopened one) sign a message for the child key at 0/7.
    let path = [0, 7];
    let message = b"mpcw signs in a browser";
    let signers = [0u16, 2];
    let mut signing: Vec<Party> = [&secrets[0], &reopened]
        .into_iter()
        .map(|s| {
            s.sign(
                "sign-1",
                &roster,
                &signers,
                &path,
                None,
                &hex::encode(message),
            )
            .unwrap()
        })
        .collect();
    run(&mut signing);
    let sig: serde_json::Value = serde_json::from_str(&signing[0].signature().unwrap()).unwrap();
    assert_eq!(sig["scheme"], "ed25519");
    let child: [u8; 32] = hex::decode(reopened.child_key(&path).unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let bytes: [u8; 64] = hex::decode(sig["bytes"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&child).unwrap();
    let signature = ed25519_dalek::Signature::from_bytes(&bytes);
    key.verify_strict(message, &signature)
        .expect("the threshold signature verifies under the child key");
    assert!(key.verify_strict(b"something else", &signature).is_err());
}

#[test]
fn a_refresh_keeps_the_key_and_retires_the_old_shares() {
    let (mut secrets, roster) = ed25519_wallet("dkg-2");
    let before = secrets[0].seal("before", b"pw", light()).unwrap();
    let key = secrets[0].key_info().unwrap();
    let group = secrets[0].group_key().unwrap();

    // Parties 0 and 1 deal; all three get new shares of the same key.
    let mut reshare: Vec<Party> = secrets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let spec = ReshareSpec {
                session: "refresh-1",
                me: i as u16,
                roster: &roster,
                key: &key,
                old_signers: &[0, 1],
                new_threshold: 2,
                new_parties: 3,
            };
            s.reshare(&spec).unwrap()
        })
        .collect();
    run(&mut reshare);
    for (s, p) in secrets.iter_mut().zip(reshare.iter_mut()) {
        s.accept(p).unwrap();
    }
    assert!(secrets.iter().all(|s| s.group_key().unwrap() == group));

    let path = [0, 3];
    let child: [u8; 32] = hex::decode(secrets[1].child_key(&path).unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&child).unwrap();
    let message = b"after the refresh";
    let new = sign(
        &[&secrets[1], &secrets[2]],
        &roster,
        &[1, 2],
        &path,
        "s-new",
        message,
    )
    .expect("new shares sign");
    key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&new))
        .expect("the same key signs after a refresh");
    // A share from before the refresh no longer signs with a new one.
    let old = DeviceSecret::open(&before, b"pw").unwrap();
    match sign(
        &[&old, &secrets[2]],
        &roster,
        &[0, 2],
        &path,
        "s-old",
        message,
    ) {
        Err(_) => {}
        Ok(sig) => assert!(
            key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&sig))
                .is_err(),
            "an old share must not make a valid signature"
        ),
    }
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    let s = DeviceSecret::generate();
    let spec = KeygenSpec {
        session: "dkg",
        me: 0,
        roster: "not json",
        scheme: "ed25519",
        threshold: 2,
        parties: 3,
    };
    let e = s.keygen(&spec).err().unwrap();
    assert!(e.to_string().contains("roster"), "{e}");
    let e = s.sign("s", "{}", &[0, 1], &[], None, "00").err().unwrap();
    assert!(e.to_string().contains("no share"), "{e}");
    assert!(DeviceSecret::open("{}", b"pw").is_err());
}

/// The secp256k1 key (SEC1 hex) that an ECDSA signature over keccak-256 of `message` recovers.
fn recover(message: &[u8], (bytes, id): ([u8; 64], Option<u8>)) -> k256::ecdsa::VerifyingKey {
    use sha3::Digest;
    let sig = k256::ecdsa::Signature::from_slice(&bytes).unwrap();
    let id = k256::ecdsa::RecoveryId::from_byte(id.unwrap()).unwrap();
    k256::ecdsa::VerifyingKey::recover_from_prehash(&sha3::Keccak256::digest(message), &sig, id)
        .unwrap()
}

#[test]
fn an_ecdsa_wallet_signs_and_recovers_a_lost_party() {
    let (mut secrets, roster) = wallet("ecdsa-1", "ecdsa-secp256k1");
    let key = secrets[0].key_info().unwrap();
    let path = [0, 0];
    let child = k256::ecdsa::VerifyingKey::from_sec1_bytes(
        &hex::decode(secrets[1].child_key(&path).unwrap()).unwrap(),
    )
    .unwrap();
    let message = b"an ECDSA payload";
    let sig = signature(
        &[&secrets[0], &secrets[1]],
        &roster,
        &[0, 1],
        &path,
        "ecdsa-sign-1",
        Some("keccak256"),
        message,
    )
    .unwrap();
    assert_eq!(recover(message, sig), child);

    // Party 0 is lost: a fresh party takes its place; 1 and 2 deal, and the new parties run a
    // new pairwise oblivious-transfer setup.
    let lost = std::mem::replace(&mut secrets[0], DeviceSecret::generate());
    let roster = roster_of(&secrets);
    let mut reshare: Vec<Party> = secrets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let spec = ReshareSpec {
                session: "ecdsa-recover-1",
                me: i as u16,
                roster: &roster,
                key: &key,
                old_signers: &[1, 2],
                new_threshold: 2,
                new_parties: 3,
            };
            s.reshare(&spec).unwrap()
        })
        .collect();
    run(&mut reshare);
    for (s, p) in secrets.iter_mut().zip(reshare.iter_mut()) {
        s.accept(p).unwrap();
    }
    let sig = signature(
        &[&secrets[0], &secrets[2]],
        &roster,
        &[0, 2],
        &path,
        "ecdsa-sign-2",
        Some("keccak256"),
        message,
    )
    .unwrap();
    assert_eq!(recover(message, sig), child, "the same key after recovery");
    // The lost party's old share no longer signs with the new ones.
    assert!(signature(
        &[&lost, &secrets[2]],
        &roster,
        &[0, 2],
        &path,
        "ecdsa-sign-3",
        Some("keccak256"),
        message
    )
    .is_err());
}

#[test]
fn a_suspended_co_signer_is_refused_until_a_refresh_and_the_seal_keeps_it() {
    let (mut secrets, roster) = wallet("ecdsa-2", "ecdsa-secp256k1");
    assert_eq!(secrets[0].suspended().unwrap(), "[]");
    assert!(secrets[0]
        .suspend(1, "a multiplication check failed")
        .unwrap());
    assert!(
        !secrets[0].suspend(1, "again").unwrap(),
        "already suspended"
    );
    let sealed = secrets[0].seal("device", b"pw", light()).unwrap();
    let opened = DeviceSecret::open(&sealed, b"pw").unwrap();
    assert!(opened.suspended().unwrap().contains("multiplication"));
    let refused = opened
        .sign("s", &roster, &[0, 1], &[], Some("keccak256"), "00")
        .err()
        .expect("signing with a suspended party is refused");
    assert!(refused.to_string().contains("suspended"), "{refused}");
    // With the other party it still signs.
    let message = b"still signs with party 2";
    let sig = signature(
        &[&opened, &secrets[2]],
        &roster,
        &[0, 2],
        &[],
        "ecdsa-sign-4",
        Some("keccak256"),
        message,
    )
    .unwrap();
    let group = k256::ecdsa::VerifyingKey::from_sec1_bytes(
        &hex::decode(secrets[2].group_key().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(recover(message, sig), group);
    // Ed25519 shares have nothing to suspend.
    let (mut ed, _) = ed25519_wallet("dkg-3");
    assert!(!ed[0].suspend(1, "no").unwrap());
    secrets.clear();
}
