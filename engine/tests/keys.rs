//! HD derivation against the official BIP-32 vectors and an independent implementation (the
//! `bip32` crate), Shamir backup of shares, and shares sealed at rest.

mod common;

use std::str::FromStr;

use common::wallet;
use mpcw_engine::backup::{combine, split};
use mpcw_engine::hd::{derive, ExtendedPublicKey};
use mpcw_engine::vault::{KdfParams, SealedBox};
use mpcw_engine::{Error, Scheme};

fn ours(xpub: &bip32::XPub) -> ExtendedPublicKey {
    ExtendedPublicKey {
        public_key: xpub.to_bytes().to_vec(),
        chain_code: xpub.attrs().chain_code,
    }
}

/// Non-hardened steps of the official BIP-32 test vectors 1 and 2
/// (https://github.com/bitcoin/bips/blob/master/bip-0032.mediawiki#test-vectors):
/// (parent xpub, child index, child xpub).
const BIP32_PUBLIC_STEPS: &[(&str, u32, &str)] = &[
    // Vector 1, chain m/0H -> m/0H/1
    (
        "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw",
        1,
        "xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ",
    ),
    // Vector 1, chain m/0H/1/2H -> m/0H/1/2H/2
    (
        "xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsxxpG5uJh7n7epu4trkrX7x7DogT5Uv6fcLW5",
        2,
        "xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV",
    ),
    // Vector 1, chain m/0H/1/2H/2 -> m/0H/1/2H/2/1000000000
    (
        "xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV",
        1_000_000_000,
        "xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy",
    ),
    // Vector 2, chain m -> m/0
    (
        "xpub661MyMwAqRbcFW31YEwpkMuc5THy2PSt5bDMsktWQcFF8syAmRUapSCGu8ED9W6oDMSgv6Zz8idoc4a6mr8BDzTJY47LJhkJ8UB7WEGuduB",
        0,
        "xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDznezpbZb7ap6r1D3tgFxHmwMkQTPH",
    ),
];

#[test]
fn public_derivation_matches_the_official_bip32_vectors() {
    for (parent, index, child) in BIP32_PUBLIC_STEPS {
        let parent = bip32::XPub::from_str(parent).unwrap();
        let expected = bip32::XPub::from_str(child).unwrap();
        let derived = derive(Scheme::EcdsaSecp256k1, &ours(&parent), &[*index]).unwrap();
        assert_eq!(derived, ours(&expected), "child {index}");
    }
}

#[test]
fn a_dkg_key_derives_what_an_independent_bip32_implementation_derives() {
    use bip32::{ChildNumber, ExtendedKey, ExtendedKeyAttrs, Prefix};
    // ECDSA and BIP-340 keys derive alike (BIP-32 public derivation on secp256k1).
    for scheme in [Scheme::SchnorrBip340, Scheme::EcdsaSecp256k1] {
        let w = wallet(scheme, 2, 3);
        let xpub = w.shares[0].extended_public_key().unwrap();
        let key = ExtendedKey {
            prefix: Prefix::XPUB,
            attrs: ExtendedKeyAttrs {
                depth: 0,
                parent_fingerprint: [0; 4],
                child_number: ChildNumber(0),
                chain_code: xpub.chain_code,
            },
            key_bytes: xpub.public_key.clone().try_into().unwrap(),
        };
        let independent = bip32::XPub::try_from(key).unwrap();
        for path in [
            vec![0],
            vec![0, 1],
            vec![44, 60, 0, 0, 7],
            vec![2_147_483_647],
        ] {
            let mut theirs = independent.clone();
            for i in &path {
                theirs = theirs
                    .derive_child(ChildNumber::new(*i, false).unwrap())
                    .unwrap();
            }
            assert_eq!(
                w.shares[1].derive(&path).unwrap(),
                ours(&theirs),
                "{scheme} path {path:?}"
            );
        }
        assert!(
            w.shares[0].derive(&[0x8000_0000]).is_err(),
            "hardened steps are refused"
        );
    }
}

#[test]
fn shamir_backup_restores_from_any_k_parts_and_not_from_fewer() {
    let w = wallet(Scheme::Ed25519, 2, 3);
    let share = &w.shares[2];
    let parts = split(share, 3, 5).unwrap();
    assert_eq!(parts.len(), 5);
    for picked in common::subsets(5, 3) {
        let chosen: Vec<_> = picked.iter().map(|i| parts[*i as usize].clone()).collect();
        let restored = combine(&chosen).unwrap();
        assert_eq!(restored.to_bytes(), share.to_bytes());
    }
    for picked in common::subsets(5, 2) {
        let chosen: Vec<_> = picked.iter().map(|i| parts[*i as usize].clone()).collect();
        assert!(combine(&chosen).is_err(), "k-1 parts must not restore");
    }
    // A repeated part does not count twice.
    assert!(combine(&[parts[0].clone(), parts[0].clone(), parts[1].clone()]).is_err());
    // Parts of two different backups do not mix.
    let other = split(&w.shares[1], 3, 5).unwrap();
    assert!(combine(&[parts[0].clone(), parts[1].clone(), other[2].clone()]).is_err());
    // A corrupted part is detected.
    let mut bad = parts[..3].to_vec();
    let mut data = hex::decode(&bad[1].data).unwrap();
    data[5] ^= 0x40;
    bad[1].data = hex::encode(data);
    assert!(combine(&bad).is_err());
    assert!(split(share, 1, 3).is_err() && split(share, 4, 3).is_err());
}

#[test]
fn a_share_sealed_with_a_password_opens_only_with_it() {
    let w = wallet(Scheme::SchnorrBip340, 2, 3);
    let share = &w.shares[0];
    let params = KdfParams {
        m_cost_kib: 8 * 1024,
        t_cost: 1,
        p_cost: 1,
    };
    let sealed = SealedBox::seal_with_password(
        "key-share",
        &share.to_bytes(),
        "hunter2 correct".as_bytes(),
        params,
    )
    .unwrap();
    let json = serde_json::to_string(&sealed).unwrap();
    let opened = serde_json::from_str::<SealedBox>(&json)
        .unwrap()
        .open_with_password(b"hunter2 correct")
        .unwrap();
    assert_eq!(
        mpcw_engine::KeyShare::from_bytes(&opened)
            .unwrap()
            .to_bytes(),
        share.to_bytes()
    );
    assert!(matches!(
        sealed.open_with_password(b"hunter3 correct"),
        Err(Error::Decryption)
    ));
    // Debug output of a share shows no secret.
    let secret = serde_json::to_value(share).unwrap()["share"]["x"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(secret.len() >= 32);
    assert!(!format!("{share:?}").contains(&secret));
}
