//! The single-key (self-custody) signer: keys from the well-known all-"abandon" BIP-39 wallet
//! (its Ethereum address 0x9858…da94 at m/44'/60'/0'/0/0 as MetaMask and ethers derive it, and
//! its Solana address HAgk…Kpqk at m/44'/501'/0'/0' as Phantom and solana-keygen do), and
//! signatures checked by the curve crates' own verifiers.

use mpcw_engine::local::{generate_mnemonic, LocalKey};
use mpcw_engine::signer::{MessageHash, SignMessage};
use mpcw_engine::Scheme;
use sha3::Digest;

const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

#[test]
fn ethereum_key_matches_the_known_address_and_signs_recoverably() {
    let key =
        LocalKey::from_mnemonic(ABANDON, "", "m/44'/60'/0'/0/0", Scheme::EcdsaSecp256k1).unwrap();
    let point = key.public_key(true);
    assert_eq!(point.len(), 65);
    let address = &sha3::Keccak256::digest(&point[1..])[12..];
    assert_eq!(
        hex::encode(address),
        "9858effd232b4033e47d90003d41ec34ecaeda94"
    );

    let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&key.public_key(false)).unwrap();
    for i in 0..8u8 {
        let bytes = vec![i; 40 + i as usize];
        let message = SignMessage::new(
            Scheme::EcdsaSecp256k1,
            MessageHash::Keccak256,
            bytes.clone(),
        )
        .unwrap();
        let sig = key.sign(&message).unwrap();
        let signature = k256::ecdsa::Signature::from_slice(&sig.bytes).unwrap();
        assert!(signature.normalize_s().is_none(), "low s");
        let digest = sha3::Keccak256::digest(&bytes);
        let id = k256::ecdsa::RecoveryId::from_byte(sig.recovery_id.unwrap()).unwrap();
        let recovered =
            k256::ecdsa::VerifyingKey::recover_from_prehash(&digest, &signature, id).unwrap();
        assert_eq!(recovered, vk);
    }
    // A payload for another scheme is refused.
    assert!(key.sign(&SignMessage::Schnorr(b"x".to_vec())).is_err());
}

#[test]
fn solana_key_matches_the_known_address_and_signs() {
    let key = LocalKey::from_mnemonic(ABANDON, "", "m/44'/501'/0'/0'", Scheme::Ed25519).unwrap();
    let public = key.public_key(false);
    assert_eq!(
        bs58::encode(&public).into_string(),
        "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk"
    );
    let message = b"a solana message".to_vec();
    let sig = key.sign(&SignMessage::Schnorr(message.clone())).unwrap();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&public.try_into().unwrap()).unwrap();
    vk.verify_strict(
        &message,
        &ed25519_dalek::Signature::from_slice(&sig.bytes).unwrap(),
    )
    .unwrap();
    // SLIP-10 Ed25519 has hardened steps only.
    assert!(LocalKey::from_mnemonic(ABANDON, "", "m/44'/501'/0'/0", Scheme::Ed25519).is_err());
}

#[test]
fn bip340_key_signs_what_k256_verifies() {
    let key =
        LocalKey::from_mnemonic(ABANDON, "", "m/86'/0'/0'/0/0", Scheme::SchnorrBip340).unwrap();
    let vk = k256::schnorr::VerifyingKey::from_bytes(&key.public_key(false)).unwrap();
    let message = [7u8; 32];
    let sig = key.sign(&SignMessage::Schnorr(message.to_vec())).unwrap();
    let signature = k256::schnorr::Signature::try_from(sig.bytes.as_slice()).unwrap();
    vk.verify_raw(&message, &signature).unwrap();
    assert!(vk.verify_raw(&[8u8; 32], &signature).is_err());
}

#[test]
fn mnemonics_are_fresh_and_valid() {
    let a = generate_mnemonic(12).unwrap();
    let b = generate_mnemonic(24).unwrap();
    assert_eq!(a.split(' ').count(), 12);
    assert_eq!(b.split(' ').count(), 24);
    assert_ne!(*a, *generate_mnemonic(12).unwrap());
    assert!(LocalKey::from_mnemonic(&b, "", "m/44'/60'/0'/0/0", Scheme::EcdsaSecp256k1).is_ok());
    assert!(generate_mnemonic(13).is_err());
    // A wrong checksum word is refused.
    let bad = ABANDON.replace("about", "abandon");
    assert!(LocalKey::from_mnemonic(&bad, "", "m/44'/60'/0'/0/0", Scheme::EcdsaSecp256k1).is_err());
}
