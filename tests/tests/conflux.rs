//! The Conflux Core Space plugin: js-conflux-sdk's transaction vectors through the sandboxed
//! plugin, then a 2-of-3 wallet's legacy, CIP-2930 and CIP-1559 transactions and CIP-23 messages,
//! threshold-signed and checked by independent code: the `rlp` crate conflux-rust decodes with,
//! k256 recovery of the sender, and conflux-rust's `cfx-addr` for the CIP-37 address.

use k256::ecdsa::{RecoveryId, Signature as EcdsaSignature, SigningKey, VerifyingKey};
use mpcw_engine::Scheme;
use mpcw_host::chains::Registry;
use mpcw_host::plugin::{wit, Error};
use mpcw_tests::{ecdsa_key, keccak256, network, runtime, sign_keccak, unhex, Wallet};
use serde_json::json;

/// 1000 as a 32-byte ABI word.
const U256_WORD_1000: [u8; 32] = {
    let mut w = [0u8; 32];
    w[30] = 0x03;
    w[31] = 0xe8;
    w
};

/// The key of js-conflux-sdk's tests (test/transaction.test.js, test/personalMessage.test.js).
const SDK_KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// js-conflux-sdk, test/transaction.test.js: two legacy transactions on testnet (chain id 1)
/// signed with the key above, and the raw transactions and hashes the SDK produces.
#[test]
fn js_conflux_sdk_transaction_vectors() {
    let runtime = runtime();
    let secret = SigningKey::from_slice(&unhex(SDK_KEY)).unwrap();
    let key = ecdsa_key(&secret);
    let testnet = network("conflux-testnet");

    // The SDK's public key and, in personalMessage.test.js, its testnet address.
    assert_eq!(
        hex::encode(&secret.verifying_key().to_encoded_point(false).as_bytes()[1..]),
        "4646ae5047316b4230d0086c8acec687f00b1cd9d1dc634f6cb358ac0a9a8ffffe77b4dd0a4bfb95851f3b7355c781dd60f8418fc8a65d14907aff47c903a559"
    );
    let addresses = runtime.addresses("conflux", &key, &testnet).unwrap();
    assert_eq!(
        addresses[0].value,
        "cfxtest:aasm4c231py7j34fghntcfkdt2nm9xv1tu6jd3r1s7"
    );

    let cases = [
        (
            0,
            "0xf863df8001825208940123456789012345678901234567890123456789808080018001a0ef53e4af065905cb5134f7de4e9434e71656f824e3e268a9babb4f14ff808113a0407f05f44f79c1fd19262665d3efc29368e317fe5e77be27c0c1314b6a242a1e",
            Some("0x9e463f32428c7c4026575d132e8c4e5d6fe387322fce5234103e52f4ab39b053"),
        ),
        (
            127,
            "0xf863df7f01825208940123456789012345678901234567890123456789808080018001a0bde07fe87c58cf83c50a4787c637a05a521d5f8372bd8acb207504e8af2daee4a0233f41b647de5846856106a8bc0fb67ba4dc3c184d328e565547928adedc8f3c",
            None,
        ),
    ];
    for (nonce, raw, hash) in cases {
        let request = json!({
            "kind": "transaction", "nonce": nonce, "gasPrice": 1, "gas": 21000,
            "to": "0x0123456789012345678901234567890123456789", "value": 0,
            "storageLimit": 0, "epochHeight": 0, "chainId": 1,
        })
        .to_string();
        let prepared = runtime
            .prepare("conflux", &request, &key, &testnet)
            .unwrap();
        let payload = &prepared.payloads[0];
        assert_eq!(payload.hash, wit::MessageHash::Keccak256);
        let signature = sign_keccak(&secret, &payload.bytes);
        let signed = runtime
            .finalize("conflux", &request, &key, &testnet, &[signature])
            .unwrap();
        assert_eq!(signed.encoded, raw, "nonce {nonce}");
        if let Some(hash) = hash {
            assert_eq!(signed.id, hash);
        }
    }
}

/// The Core Space address of a secp256k1 key, as the Conflux protocol specification defines it.
fn conflux_address(key: &VerifyingKey) -> [u8; 20] {
    let hash = keccak256(&key.to_encoded_point(false).as_bytes()[1..]);
    let mut out = [0u8; 20];
    out.copy_from_slice(&hash[12..]);
    out[0] = (out[0] & 0x0f) | 0x10;
    out
}

fn recover(digest: &[u8; 32], r: &[u8], s: &[u8], v: u8) -> VerifyingKey {
    let mut rs = [0u8; 64];
    rs[32 - r.len()..32].copy_from_slice(r);
    rs[64 - s.len()..].copy_from_slice(s);
    let sig = EcdsaSignature::from_slice(&rs).unwrap();
    VerifyingKey::recover_from_prehash(digest, &sig, RecoveryId::from_byte(v).unwrap()).unwrap()
}

/// A signed Core Space transaction decoded the way conflux-rust decodes it
/// (`TransactionWithSignatureSerializePart`), with the sender recovered.
struct Decoded {
    tx_type: u8,
    fields: Vec<Vec<u8>>,
    sender: [u8; 20],
}

fn decode(raw: &[u8]) -> Decoded {
    let (tx_type, body) = if raw[0] == b'c' {
        assert_eq!(
            &raw[..3],
            b"cfx",
            "typed native transactions start with \"cfx\""
        );
        (raw[3], &raw[4..])
    } else {
        (0, raw)
    };
    let outer = rlp::Rlp::new(body);
    assert_eq!(outer.item_count().unwrap(), 4, "[unsigned, v, r, s]");
    let unsigned = outer.at(0).unwrap();
    let v: u8 = outer.val_at(1).unwrap();
    let r: Vec<u8> = outer.val_at(2).unwrap();
    let s: Vec<u8> = outer.val_at(3).unwrap();
    let mut preimage = raw[..raw.len() - body.len()].to_vec();
    preimage.extend_from_slice(unsigned.as_raw());
    let key = recover(&keccak256(&preimage), &r, &s, v);
    let expected_fields = if tx_type == 0 {
        9
    } else {
        10 + (tx_type == 2) as usize
    };
    assert_eq!(unsigned.item_count().unwrap(), expected_fields);
    let fields = (0..expected_fields)
        .map(|i| {
            unsigned
                .at(i)
                .unwrap()
                .data()
                .map(<[u8]>::to_vec)
                .unwrap_or_default()
        })
        .collect();
    Decoded {
        tx_type,
        fields,
        sender: conflux_address(&key),
    }
}

fn uint(bytes: &[u8]) -> u128 {
    bytes
        .iter()
        .fold(0u128, |acc, b| (acc << 8) | u128::from(*b))
}

#[test]
fn threshold_signed_transactions_and_messages_verify_independently() {
    let runtime = runtime();
    let wallet = Wallet::generate(Scheme::EcdsaSecp256k1, 2, 3);
    let registry = Registry::builtin().unwrap();
    let path = registry.get("conflux").unwrap().path().unwrap();
    let key = wallet.public_key(&path);
    let net = network("conflux");

    let addresses = runtime.addresses("conflux", &key, &net).unwrap();
    let base32 = addresses[0].value.clone();
    let hex_addr: [u8; 20] = unhex(&addresses[2].value).try_into().unwrap();
    assert_eq!(
        cfx_addr::cfx_addr_encode(
            &hex_addr,
            cfx_addr::Network::Main,
            cfx_addr::EncodingOptions::Simple
        )
        .unwrap(),
        base32,
        "conflux-rust's codec writes the same address"
    );
    assert_eq!(
        cfx_addr::cfx_addr_encode(
            &hex_addr,
            cfx_addr::Network::Main,
            cfx_addr::EncodingOptions::QrCode
        )
        .unwrap(),
        addresses[1].value
    );
    let group_key = VerifyingKey::from_sec1_bytes(&key.bytes).unwrap();
    assert_eq!(conflux_address(&group_key), hex_addr);

    // A recipient given in base32 on mainnet: 0x1a2f…55 of the CIP-37 test cases.
    let to = "cfx:aarc9abycue0hhzgyrr53m6cxedgccrmmyybjgh4xg";
    let to_hex = unhex("1a2f80341409639ea6a35bbcab8299066109aa55");
    let base = json!({
        "kind": "transaction", "from": base32, "nonce": 5, "to": to,
        "value": "1500000000000000000", "gas": 21000, "storageLimit": 64,
        "epochHeight": 123456789, "chainId": 1029,
    });
    let mut legacy = base.clone();
    legacy["gasPrice"] = json!("1000000000");
    let mut cip2930 = legacy.clone();
    cip2930["accessList"] = json!([{
        "address": "0x8a2f80341409639ea6a35bbcab8299066109aa55",
        "storageKeys": [format!("0x{}", "00".repeat(31) + "01")],
    }]);
    let mut cip1559 = base.clone();
    cip1559["maxFeePerGas"] = json!("2000000000");
    cip1559["maxPriorityFeePerGas"] = json!("1000000000");

    for (request, tx_type, signers) in [
        (legacy, 0u8, [0u16, 1]),
        (cip2930, 1, [1, 2]),
        (cip1559, 2, [0, 2]),
    ] {
        let request = request.to_string();
        let prepared = runtime.prepare("conflux", &request, &key, &net).unwrap();
        let summary = &prepared.summary;
        assert_eq!(summary.amount.as_deref(), Some("1.5 CFX"));
        assert_eq!(summary.recipient.as_deref(), Some(to));
        assert_eq!(summary.sender.as_deref(), Some(base32.as_str()));
        let signature = wallet.sign(&signers, &path, &prepared.payloads[0]);
        let signed = runtime
            .finalize("conflux", &request, &key, &net, &[signature])
            .unwrap();
        let d = decode(&signed.raw);
        assert_eq!(d.tx_type, tx_type);
        assert_eq!(
            d.sender, hex_addr,
            "type {tx_type}: the sender is the wallet"
        );
        // Fields after the fees: gas, to, value, storageLimit, epochHeight, chainId, data.
        let at = if tx_type == 2 { 3 } else { 2 };
        assert_eq!(uint(&d.fields[at]), 21000);
        assert_eq!(d.fields[at + 1], to_hex);
        assert_eq!(uint(&d.fields[at + 2]), 1_500_000_000_000_000_000);
        assert_eq!(uint(&d.fields[at + 3]), 64);
        assert_eq!(uint(&d.fields[at + 4]), 123_456_789);
        assert_eq!(uint(&d.fields[at + 5]), 1029);
        assert_eq!(
            signed.id,
            format!("0x{}", hex::encode(keccak256(&signed.raw)))
        );
    }

    // A CIP-23 byte-string message, recovered over the preimage CIP-23 defines.
    let text = "mpcw says hello to Conflux";
    let request = json!({"kind": "personal_sign", "message": text}).to_string();
    let prepared = runtime.prepare("conflux", &request, &key, &net).unwrap();
    let signature = wallet.sign(&[0, 1], &path, &prepared.payloads[0]);
    let signed = runtime
        .finalize("conflux", &request, &key, &net, &[signature])
        .unwrap();
    let preimage = format!("\x19Conflux Signed Message:\n{}{text}", text.len());
    let sig = &signed.raw;
    assert_eq!(sig.len(), 65);
    let signer = recover(
        &keccak256(preimage.as_bytes()),
        &sig[..32],
        &sig[32..64],
        sig[64],
    );
    assert_eq!(conflux_address(&signer), hex_addr);

    // CIP-23 typed data: the domain separator is recomputed here from CIP-23's definition.
    let typed = json!({
        "types": {
            "CIP23Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"}
            ],
            "Greeting": [{"name": "to", "type": "address"}, {"name": "text", "type": "string"}]
        },
        "primaryType": "Greeting",
        "domain": {"name": "mpcw", "version": "1", "chainId": 1029},
        "message": {"to": to, "text": "hi"}
    });
    let request = json!({"kind": "typed_data", "typedData": typed}).to_string();
    let prepared = runtime.prepare("conflux", &request, &key, &net).unwrap();
    let preimage = &prepared.payloads[0].bytes;
    let mut domain = keccak256(b"CIP23Domain(string name,string version,uint256 chainId)").to_vec();
    domain.extend(keccak256(b"mpcw"));
    domain.extend(keccak256(b"1"));
    let mut chain = [0u8; 32];
    chain[30..].copy_from_slice(&1029u16.to_be_bytes());
    domain.extend(chain);
    let mut greeting = keccak256(b"Greeting(address to,string text)").to_vec();
    greeting.extend([0u8; 12]);
    greeting.extend(&to_hex);
    greeting.extend(keccak256(b"hi"));
    let mut expected = vec![0x19, 0x01];
    expected.extend(keccak256(&domain));
    expected.extend(keccak256(&greeting));
    assert_eq!(preimage, &expected);
    let signature = wallet.sign(&[1, 2], &path, &prepared.payloads[0]);
    let signed = runtime
        .finalize("conflux", &request, &key, &net, &[signature])
        .unwrap();
    let sig = &signed.raw;
    let signer = recover(&keccak256(&expected), &sig[..32], &sig[32..64], sig[64]);
    assert_eq!(conflux_address(&signer), hex_addr);
}

fn invalid(result: Result<wit::Prepared, Error>) -> String {
    match result {
        Err(Error::Rejected { message, .. }) => message,
        other => panic!("expected a plugin error, got {other:?}"),
    }
}

#[test]
fn bad_requests_are_refused_with_a_reason() {
    let runtime = runtime();
    let secret = SigningKey::from_slice(&unhex(SDK_KEY)).unwrap();
    let key = ecdsa_key(&secret);
    let net = network("conflux");
    let ok = json!({
        "kind": "transaction", "nonce": 0, "gasPrice": 1, "gas": 21000,
        "to": "cfx:aarc9abycue0hhzgyrr53m6cxedgccrmmyybjgh4xg",
        "storageLimit": 0, "epochHeight": 0,
    });
    assert!(runtime
        .prepare("conflux", &ok.to_string(), &key, &net)
        .is_ok());
    let with = |field: &str, value: serde_json::Value| {
        let mut r = ok.clone();
        r[field] = value;
        r
    };
    let cases = [
        (
            with("nonce", json!("0x1".to_string() + &"0".repeat(64))),
            "nonce",
        ),
        (
            with("storageLimit", json!("18446744073709551616")),
            "storageLimit",
        ),
        (with("epochHeight", json!(-1)), "epochHeight"),
        (with("gas", json!(20999)), "21000"),
        (with("gasPrice", json!(true)), "gasPrice"),
        (with("chainId", json!(1)), "chainId"),
        // The same address on testnet, and a one-letter typo.
        (
            with(
                "to",
                json!("cfxtest:aarc9abycue0hhzgyrr53m6cxedgccrmmy8m50bu1p"),
            ),
            "network 1",
        ),
        (
            with(
                "to",
                json!("cfx:aarc9abycue0hhzgyrr53m6cxedgccrmmyybjgh4xh"),
            ),
            "checksum",
        ),
        (
            with("to", json!("0x2a2f80341409639ea6a35bbcab8299066109aa55")),
            "type nibble",
        ),
        (
            with(
                "from",
                json!("cfx:aarc9abycue0hhzgyrr53m6cxedgccrmmyybjgh4xg"),
            ),
            "not this wallet",
        ),
        (
            with("data", json!(format!("0x{}", "00".repeat(200_000)))),
            "bytes",
        ),
        (with("type", json!("cip7702")), "cip7702"),
        (with("maxFeePerGas", json!(1)), "gasPrice"),
        (with("surprise", json!(1)), "surprise"),
        (json!({"kind": "sign_everything"}), "sign_everything"),
    ];
    for (request, expect) in cases {
        let message = invalid(runtime.prepare("conflux", &request.to_string(), &key, &net));
        assert!(
            message.contains(expect),
            "{request}: {message:?} should mention {expect}"
        );
    }

    // A CRC-20 transfer and an unlimited approval are put in words, with base32 addresses.
    let mut data = vec![0xa9, 0x05, 0x9c, 0xbb];
    data.extend([0u8; 12]);
    data.extend(unhex("1a2f80341409639ea6a35bbcab8299066109aa55"));
    data.extend(U256_WORD_1000);
    let token = with("to", json!("0x8a2f80341409639ea6a35bbcab8299066109aa55"));
    let mut transfer = token.clone();
    transfer["data"] = json!(format!("0x{}", hex::encode(&data)));
    let s = runtime
        .prepare("conflux", &transfer.to_string(), &key, &net)
        .unwrap()
        .summary;
    assert_eq!(s.title, "Token transfer on Conflux");
    let call = s.contract_call.unwrap();
    assert!(
        call.contains("CRC-20 transfer of 1000 base units"),
        "{call}"
    );
    assert!(
        call.ends_with("cfx:aarc9abycue0hhzgyrr53m6cxedgccrmmyybjgh4xg"),
        "{call}"
    );
    data[..4].copy_from_slice(&[0x09, 0x5e, 0xa7, 0xb3]);
    data[36..].copy_from_slice(&[0xff; 32]);
    let mut approve = token;
    approve["data"] = json!(format!("0x{}", hex::encode(&data)));
    let s = runtime
        .prepare("conflux", &approve.to_string(), &key, &net)
        .unwrap()
        .summary;
    assert!(s
        .warnings
        .iter()
        .any(|w| w.starts_with("Unlimited approval")));

    // Unknown networks: no chain id, a prefix that is not the chain id's, a chain id over 32 bits.
    let mut no_id = net.clone();
    no_id.chain_id = None;
    let mut wrong_prefix = net.clone();
    wrong_prefix.address_prefix = Some("cfxtest".into());
    let mut huge = net.clone();
    huge.chain_id = Some(1 << 40);
    huge.address_prefix = None;
    for n in [no_id, wrong_prefix, huge] {
        match runtime.prepare("conflux", &ok.to_string(), &key, &n) {
            Err(Error::Rejected { code, .. }) => assert_eq!(code, wit::ErrorCode::UnknownNetwork),
            other => panic!("{n:?}: {other:?}"),
        }
    }

    // CIP-23 typed data without a chain id is refused.
    let typed = json!({"kind": "typed_data", "typedData": {
        "types": {"M": [{"name": "a", "type": "uint8"}]},
        "primaryType": "M", "domain": {"name": "x"}, "message": {"a": 1}
    }});
    assert!(
        invalid(runtime.prepare("conflux", &typed.to_string(), &key, &net)).contains("chainId")
    );

    // A signature by another key, two signatures, a high s.
    let request = ok.to_string();
    let payload = &runtime
        .prepare("conflux", &request, &key, &net)
        .unwrap()
        .payloads[0];
    let other = SigningKey::from_slice(&[7u8; 32]).unwrap();
    let good = sign_keccak(&secret, &payload.bytes);
    let mut high_s = good.clone();
    let sig = EcdsaSignature::from_slice(&good.bytes).unwrap();
    let (r, s) = sig.split_scalars();
    high_s.bytes = EcdsaSignature::from_scalars(r, -*s)
        .unwrap()
        .to_bytes()
        .to_vec();
    for sigs in [
        vec![sign_keccak(&other, &payload.bytes)],
        vec![good.clone(), good.clone()],
        vec![high_s],
        vec![],
    ] {
        match runtime.finalize("conflux", &request, &key, &net, &sigs) {
            Err(Error::Rejected { code, .. }) => assert_eq!(code, wit::ErrorCode::InvalidSignature),
            other => panic!("{other:?}"),
        }
    }
}
