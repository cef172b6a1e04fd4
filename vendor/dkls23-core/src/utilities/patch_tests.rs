//! Tests of the mpcw patch (PATCHES.md at the crate's root).
//!
//! With the crate's seeded test generator (`cargo test --features insecure-rng`) every random
//! draw is the same from run to run, so the proofs made here can be compared byte for byte with
//! those the published dkls23-core 0.6.2 makes: the digest below was printed by this same test
//! run against the unpatched 0.6.2 from crates.io (the `PRINT` line in PATCHES.md says how).

use super::*;
use k256::Secp256k1;
use sha2::{Digest, Sha256};

/// Serialized proofs from fixed inputs, one after the other: an `EncProof` for each choice bit
/// and a `DLogProof`, made in one thread from the seeded generator.
fn proofs_bytes() -> Vec<u8> {
    let h = crate::utilities::hashes::tagged_hash_as_point::<Secp256k1>(b"mpcw/patch-test/h", &[]);
    let r = crate::utilities::hashes::tagged_hash_as_scalar::<Secp256k1>(b"mpcw/patch-test/r", &[]);
    let mut bytes = Vec::new();
    for bit in [false, true] {
        let proof = EncProof::<Secp256k1>::prove(b"mpcw/patch-test/enc", &h, &r, bit);
        assert!(proof.verify(b"mpcw/patch-test/enc"));
        bytes.extend(postcard::to_allocvec(&proof).unwrap());
    }
    let proof = DLogProof::<Secp256k1>::prove(&r, b"mpcw/patch-test/dlog").unwrap();
    assert!(DLogProof::verify(&proof, b"mpcw/patch-test/dlog"));
    bytes.extend(postcard::to_allocvec(&proof).unwrap());
    bytes
}

#[cfg(feature = "insecure-rng")]
#[test]
fn proofs_are_byte_for_byte_those_of_the_published_release() {
    let digest = hex::encode(Sha256::digest(proofs_bytes()));
    if std::env::var_os("PRINT").is_some() {
        println!("proofs digest: {digest}");
    }
    assert_eq!(digest, PUBLISHED_DIGEST);
}

/// Printed by `proofs_are_byte_for_byte_those_of_the_published_release` run against the
/// unpatched dkls23-core 0.6.2 from crates.io.
#[cfg(feature = "insecure-rng")]
const PUBLISHED_DIGEST: &str = "352171de4a6ccbb0c57770ddb7876e2ada5417ba8da42b5044dd352cdc02f4c3";

/// `n` encryption proofs as a base OT's receiver makes them (one `h` per session id, both choice
/// bits), with their session ids.
fn enc_proofs(n: u16) -> (Vec<EncProof<Secp256k1>>, Vec<Vec<u8>>) {
    let sids: Vec<Vec<u8>> = (0..n)
        .map(|i| [&i.to_be_bytes()[..], b"mpcw/patch-test/batch"].concat())
        .collect();
    let proofs = sids
        .iter()
        .enumerate()
        .map(|(i, sid)| {
            let h = crate::utilities::hashes::tagged_hash_as_point::<Secp256k1>(b"h", &[sid]);
            let r = crate::utilities::hashes::tagged_hash_as_scalar::<Secp256k1>(b"r", &[sid]);
            EncProof::prove(sid, &h, &r, i % 3 == 0)
        })
        .collect();
    (proofs, sids)
}

fn batch_accepts(proofs: &[EncProof<Secp256k1>], sids: &[Vec<u8>]) -> bool {
    EncProof::verify_batch(proofs.iter().zip(sids.iter().map(Vec::as_slice)))
}

type TestScalar = <Secp256k1 as elliptic_curve::CurveArithmetic>::Scalar;

#[test]
fn batch_verification_accepts_valid_proofs() {
    let (proofs, sids) = enc_proofs(16);
    assert!(proofs.iter().zip(&sids).all(|(p, sid)| p.verify(sid)));
    assert!(batch_accepts(&proofs, &sids));
    assert!(batch_accepts(&proofs[..1], &sids[..1]));
    assert!(batch_accepts(&[], &[]));
}

#[test]
fn batch_verification_refuses_a_wrong_response() {
    // Responses are not hashed into the challenge: only the equations can catch them.
    for (k, proof1) in [(0, false), (7, true), (15, false)] {
        let (mut proofs, sids) = enc_proofs(16);
        let cp = if proof1 {
            &mut proofs[k].proof1
        } else {
            &mut proofs[k].proof0
        };
        cp.challenge_response += TestScalar::ONE;
        assert!(!proofs[k].verify(&sids[k]));
        assert!(!batch_accepts(&proofs, &sids), "proof {k} tampered");
    }
}

#[test]
fn batch_verification_refuses_moved_challenges() {
    // The sum of the two challenges still matches the Fiat-Shamir challenge.
    let (mut proofs, sids) = enc_proofs(16);
    let delta = TestScalar::from(5u64);
    proofs[3].challenge0 += delta;
    proofs[3].challenge1 -= delta;
    assert!(!proofs[3].verify(&sids[3]));
    assert!(!batch_accepts(&proofs, &sids));
}

#[test]
fn batch_verification_refuses_errors_that_cancel_without_weights() {
    // Both responses of one proof moved by +d and -d: its four equations are off by d*g, d*h,
    // -d*g and -d*h, which an unweighted sum would add up to nothing.
    let (mut proofs, sids) = enc_proofs(16);
    let delta = TestScalar::from(12345u64);
    proofs[2].proof0.challenge_response += delta;
    proofs[2].proof1.challenge_response -= delta;
    assert!(!proofs[2].verify(&sids[2]));
    assert!(!batch_accepts(&proofs, &sids));
}

#[test]
fn batch_verification_checks_each_statement() {
    // A proof checked under another proof's session id fails its Fiat-Shamir challenge.
    let (proofs, mut sids) = enc_proofs(4);
    sids.swap(1, 2);
    assert!(!batch_accepts(&proofs, &sids));
}

#[test]
fn batched_base_ot_gives_the_messages_of_one_by_one() {
    use crate::utilities::ot::base::{OTReceiver, OTSender};
    let session_id = b"mpcw/patch-test/ot";
    let sender = OTSender::<Secp256k1>::init(session_id);
    let receiver = OTReceiver::init();
    let bits: Vec<bool> = (0..32).map(|i| i % 5 < 2).collect();
    let (_, proofs) = receiver
        .run_phase1_batch::<Secp256k1>(session_id, &bits)
        .unwrap();
    let (m0, m1) = sender
        .run_phase2_batch(session_id, &receiver.seed, &proofs)
        .unwrap();
    for (i, proof) in proofs.iter().enumerate() {
        let sid = [&(i as u16).to_be_bytes()[..], session_id].concat();
        let (one0, one1) = sender.run_phase2(&sid, &receiver.seed, proof).unwrap();
        assert_eq!((one0, one1), (m0[i], m1[i]));
    }
    let mut tampered = proofs.clone();
    tampered[31].proof1.challenge_response += TestScalar::ONE;
    let error = sender
        .run_phase2_batch(session_id, &receiver.seed, &tampered)
        .expect_err("a wrong response is refused");
    assert!(error.description.contains("Encryption proof failed"));
}
