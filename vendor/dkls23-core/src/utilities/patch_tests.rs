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
