//! The Monero plugin against the `monero` crate (monero-rs) and Monero's own definitions: the
//! Monero General Fund's published address and view key give the same address through the
//! plugin in the runtime; a 2-of-3 Ed25519 wallet's standard address and subaddresses equal
//! what monero-rs derives from the same spend and view keys; and a message signed by two of its
//! parties is a SigV2 signature that Monero's `verify` accepts, here re-implemented from
//! `wallet2::verify` (message hash) and `crypto::check_signature` (checked against the Monero
//! project's signature vectors), with monero-rs parsing the address.

use std::str::FromStr;

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use monero::cryptonote::subaddress::{self, Index};
use monero::{Address, Network, PrivateKey, PublicKey, ViewPair};
use mpcw_engine::Scheme;
use mpcw_host::chains::{parse, Registry};
use mpcw_host::plugin::{wit, Error};
use mpcw_tests::{network, runtime, Wallet};
use serde_json::json;
use sha3::{Digest, Keccak256};

/// The Monero General Fund's address and published private view key (getmonero.org, "Donating
/// to the Monero Project": https://www.getmonero.org/get-started/contributing/).
const GENERAL_FUND: &str = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
const GENERAL_FUND_VIEW_KEY: &str =
    "f359631075708155cc3d92a32b75a7d02a5dcf27756707b47a2b31b21c389501";

fn addresses(key: &wit::PublicKey, net: &str) -> Vec<wit::Address> {
    runtime().addresses("monero", key, &network(net)).unwrap()
}

fn find(list: &[wit::Address], kind: &str) -> String {
    list.iter().find(|a| a.kind == kind).unwrap().value.clone()
}

/// Monero's `wallet2::get_message_hash` for spend-key signatures (mode 0).
fn message_hash(address: &Address, message: &[u8]) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(b"MoneroMessageSignature\0");
    h.update(address.public_spend.as_bytes());
    h.update(address.public_view.as_bytes());
    h.update([0u8]);
    let mut n = message.len();
    while n >= 0x80 {
        h.update([(n as u8 & 0x7f) | 0x80]);
        n >>= 7;
    }
    h.update([n as u8]);
    h.update(message);
    h.finalize().into()
}

/// Monero's `crypto::check_signature`.
fn check_signature(hash: &[u8; 32], key: &[u8; 32], sig: &[u8; 64]) -> bool {
    let Some(p) = CompressedEdwardsY(*key).decompress() else {
        return false;
    };
    let c = Option::<Scalar>::from(Scalar::from_canonical_bytes(sig[..32].try_into().unwrap()));
    let r = Option::<Scalar>::from(Scalar::from_canonical_bytes(sig[32..].try_into().unwrap()));
    let (Some(c), Some(r)) = (c, r) else {
        return false;
    };
    let comm = EdwardsPoint::vartime_double_scalar_mul_basepoint(&c, &p, &r);
    if c == Scalar::ZERO || comm == EdwardsPoint::default() {
        return false;
    }
    let h = Keccak256::new()
        .chain_update(hash)
        .chain_update(key)
        .chain_update(comm.compress().as_bytes())
        .finalize();
    Scalar::from_bytes_mod_order(h.into()) == c
}

/// `wallet2::verify` for a SigV2 spend-key signature.
fn verify(address: &str, message: &[u8], signature: &str) -> bool {
    let address = Address::from_str(address).unwrap();
    let Some(encoded) = signature.strip_prefix("SigV2") else {
        return false;
    };
    let Ok(bytes) = base58_monero::decode(encoded) else {
        return false;
    };
    let Ok(sig) = <[u8; 64]>::try_from(bytes.as_slice()) else {
        return false;
    };
    let key: [u8; 32] = address.public_spend.as_bytes().try_into().unwrap();
    check_signature(&message_hash(&address, message), &key, &sig)
}

#[test]
fn the_check_accepts_moneros_own_signatures() {
    let text = include_str!("../vectors/monero-signatures.txt");
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.split_whitespace().collect();
        let hash: [u8; 32] = hex::decode(f[0]).unwrap().try_into().unwrap();
        let key: [u8; 32] = hex::decode(f[1]).unwrap().try_into().unwrap();
        let sig: [u8; 64] = hex::decode(f[3]).unwrap().try_into().unwrap();
        assert!(check_signature(&hash, &key, &sig));
        assert!(!check_signature(&[0; 32], &key, &sig));
    }
}

#[test]
fn the_general_funds_address_through_the_runtime() {
    let parsed = Address::from_str(GENERAL_FUND).unwrap();
    let key = wit::PublicKey {
        scheme: wit::Scheme::Ed25519,
        bytes: parsed.public_spend.as_bytes().to_vec(),
        view_key: Some(hex::decode(GENERAL_FUND_VIEW_KEY).unwrap()),
    };
    let list = addresses(&key, "monero");
    assert_eq!(find(&list, "standard"), GENERAL_FUND);
    // Its first subaddresses, as monero-rs derives them.
    let pair = ViewPair {
        view: PrivateKey::from_str(GENERAL_FUND_VIEW_KEY).unwrap(),
        spend: parsed.public_spend,
    };
    for minor in 1..=3 {
        let expected = subaddress::get_subaddress(&pair, Index { major: 0, minor }, None);
        assert_eq!(
            find(&list, &format!("subaddress-0-{minor}")),
            expected.to_string()
        );
    }
}

#[test]
fn a_threshold_wallet_signs_a_message_monero_verifies() {
    let wallet = Wallet::generate(Scheme::Ed25519, 2, 3);
    let runtime = runtime();
    for (net, monero_net) in [
        ("monero", Network::Mainnet),
        ("monero-stagenet", Network::Stagenet),
        ("monero-testnet", Network::Testnet),
    ] {
        let (key, path) = wallet.network_key(net);
        let list = runtime.addresses("monero", &key, &network(net)).unwrap();
        // monero-rs makes the same addresses from the wallet's spend key and view key.
        let pair = ViewPair {
            view: PrivateKey::from_slice(key.view_key.as_deref().unwrap()).unwrap(),
            spend: PublicKey::from_slice(&key.bytes).unwrap(),
        };
        let standard = find(&list, "standard");
        assert_eq!(
            standard,
            Address::from_viewpair(monero_net, &pair).to_string()
        );
        let sub = subaddress::get_subaddress(&pair, Index { major: 0, minor: 2 }, Some(monero_net));
        assert_eq!(find(&list, "subaddress-0-2"), sub.to_string());

        let text = format!("登录 {net}: nonce 42");
        let request = json!({ "kind": "message", "message": text }).to_string();
        let prepared = runtime
            .prepare("monero", &request, &key, &network(net))
            .unwrap();
        assert_eq!(prepared.summary.sender.as_deref(), Some(standard.as_str()));
        let [payload] = prepared.payloads.as_slice() else {
            panic!("one payload")
        };
        assert_eq!(payload.hash, wit::MessageHash::Monero);
        assert_eq!(
            payload.bytes,
            message_hash(&Address::from_str(&standard).unwrap(), text.as_bytes())
        );
        for signers in [[0, 1], [1, 2], [0, 2]] {
            let sig = wallet.sign(&signers, &path, payload);
            let done = runtime
                .finalize("monero", &request, &key, &network(net), &[sig])
                .unwrap();
            assert_eq!(done.encoding, "text");
            assert!(done.encoded.starts_with("SigV2"), "{}", done.encoded);
            assert!(verify(&standard, text.as_bytes(), &done.encoded));
            assert!(!verify(&standard, b"another message", &done.encoded));
            let other = Address::from_viewpair(
                monero_net,
                &ViewPair {
                    view: pair.view,
                    spend: PublicKey::from_slice(&wallet.shares[0].public_key()).unwrap(),
                },
            );
            assert!(!verify(&other.to_string(), text.as_bytes(), &done.encoded));
        }
    }
}

#[test]
fn bad_requests_and_signatures_are_refused_with_reasons() {
    let wallet = Wallet::generate(Scheme::Ed25519, 2, 3);
    let runtime = runtime();
    let (key, path) = wallet.network_key("monero");
    let net = network("monero");
    let plugin_error = |r: Result<wit::Prepared, Error>| match r {
        Err(Error::Rejected { code, message, .. }) => (code, message),
        other => panic!("expected a plugin error, got {other:?}"),
    };
    let cases = [
        (
            json!({"kind": "transfer", "to": "x"}),
            wit::ErrorCode::Unsupported,
            "CLSAG",
        ),
        (
            json!({"kind": "swap"}),
            wit::ErrorCode::Unsupported,
            "kind \"swap\"",
        ),
        (
            json!({"kind": "message", "message": 7}),
            wit::ErrorCode::InvalidRequest,
            "message",
        ),
        (
            json!({"kind": "message", "message": "x", "extra": 1}),
            wit::ErrorCode::InvalidRequest,
            "extra",
        ),
        (
            json!({"kind": "message", "message": "0x1", "encoding": "hex"}),
            wit::ErrorCode::InvalidRequest,
            "message",
        ),
        (
            json!({"kind": "message", "message": "a".repeat(70_000)}),
            wit::ErrorCode::InvalidRequest,
            "at most",
        ),
    ];
    for (request, code, needle) in cases {
        let (c, m) = plugin_error(runtime.prepare("monero", &request.to_string(), &key, &net));
        assert_eq!(c, code, "{request}: {m}");
        assert!(m.contains(needle), "{request}: {m}");
    }
    let request = json!({"kind": "message", "message": "hi"}).to_string();
    // Without the view key, or on another chain's network.
    let no_view = wit::PublicKey {
        view_key: None,
        ..key.clone()
    };
    let (c, m) = plugin_error(runtime.prepare("monero", &request, &no_view, &net));
    assert_eq!(c, wit::ErrorCode::InvalidPublicKey);
    assert!(m.contains("view_key"), "{m}");
    let (c, _) = plugin_error(runtime.prepare("monero", &request, &key, &network("solana")));
    assert_eq!(c, wit::ErrorCode::UnknownNetwork);
    // A signature by the group key (not the network's child) and a forged one are refused.
    let prepared = runtime.prepare("monero", &request, &key, &net).unwrap();
    let wrong = wallet.sign(&[0, 1], &[], &prepared.payloads[0]);
    let mut forged = wallet.sign(&[0, 1], &path, &prepared.payloads[0]);
    forged.bytes[40] ^= 1;
    for sig in [wrong, forged] {
        match runtime.finalize("monero", &request, &key, &net, &[sig]) {
            Err(Error::Rejected { code, .. }) => assert_eq!(code, wit::ErrorCode::InvalidSignature),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}

#[test]
fn a_view_key_is_only_for_ed25519_networks() {
    let registry = Registry::builtin().unwrap();
    assert!(registry.get("monero").unwrap().view_key);
    assert!(!registry.get("solana").unwrap().view_key);
    let text = "id = \"x\"\nname = \"X\"\nplugin = \"monero\"\nscheme = \"ecdsa-secp256k1\"\n\
                symbol = \"X\"\ndecimals = 12\nderivation_path = \"m/0\"\nview_key = true\n";
    let e = parse("x.toml", text).unwrap_err().to_string();
    assert!(e.contains("view_key"), "{e}");
}
