//! The TON plugin against tonlib-core: wallet addresses for keys from tonlib-core's own test
//! mnemonics, then v5r1 and v4r2 transfers threshold-signed by a 2-of-3 Ed25519 wallet. The
//! plugin's bag of cells is read back with tonlib-core's TL-B types, the signed body is split
//! as the wallet contract splits it and the signature checked over its hash, and tonlib-core
//! builds the same external message cell from its own wallet code, data and address. A property
//! test does the same reading for generated transfers (1,024 cases; `PROPTEST_CASES` for more).

use std::str::FromStr;

use mpcw_engine::Scheme;
use mpcw_host::chains::Registry;
use mpcw_host::plugin::{wit, Error};
use mpcw_tests::{network, runtime, Wallet};
use serde_json::json;
use tonlib_core::cell::{ArcCell, BagOfCells, CellBuilder};
use tonlib_core::tlb_types::block::coins::Grams;
use tonlib_core::tlb_types::block::message::{CommonMsgInfo, ExtInMsgInfo, Message};
use tonlib_core::tlb_types::block::msg_address::{
    MsgAddrNone, MsgAddress, MsgAddressExt, MsgAddressInt,
};
use tonlib_core::tlb_types::block::state_init::StateInit;
use tonlib_core::tlb_types::primitives::either::{EitherRef, EitherRefLayout};
use tonlib_core::tlb_types::tlb::TLB;
use tonlib_core::wallet::mnemonic::{KeyPair, Mnemonic};
use tonlib_core::wallet::ton_wallet::TonWallet;
use tonlib_core::wallet::version_helper::VersionHelper;
use tonlib_core::wallet::versioned::v4::WalletExtMsgBodyV4;
use tonlib_core::wallet::versioned::v5::WalletExtMsgBodyV5;
use tonlib_core::wallet::wallet_version::WalletVersion;
use tonlib_core::TonAddress;

fn ed25519(bytes: &[u8]) -> wit::PublicKey {
    wit::PublicKey {
        scheme: wit::Scheme::Ed25519,
        bytes: bytes.to_vec(),
        view_key: None,
    }
}

fn address_of(
    runtime: &mpcw_host::plugin::Runtime,
    key: &wit::PublicKey,
    net: &str,
    kind: &str,
) -> String {
    runtime
        .addresses("ton", key, &network(net))
        .unwrap()
        .into_iter()
        .find(|a| a.kind == kind)
        .unwrap()
        .value
}

/// tonlib-core's wallet tests (src/wallet/ton_wallet.rs, `test_ton_wallet_create`): the v4r2
/// and v5r1 addresses of the keys of two mnemonics.
#[test]
fn wallet_addresses_match_tonlib_vectors() {
    let runtime = runtime();
    let v4 = Mnemonic::from_str("fancy carpet hello mandate penalty trial consider property top vicious exit rebuild tragic profit urban major total month holiday sudden rib gather media vicious", &None).unwrap().to_key_pair().unwrap();
    let key = ed25519(&v4.public_key);
    assert_eq!(
        address_of(&runtime, &key, "ton", "v4r2-bounceable"),
        "EQCDM_QGggZ3qMa_f3lRPk4_qLDnLTqdi6OkMAV2NB9r5TG3"
    );
    let v5 = Mnemonic::from_str("section garden tomato dinner season dice renew length useful spin trade intact use universe what post spike keen mandate behind concert egg doll rug", &None).unwrap().to_key_pair().unwrap();
    let key = ed25519(&v5.public_key);
    assert_eq!(
        address_of(&runtime, &key, "ton", "v5r1"),
        "UQDv2YSmlrlLH3hLNOVxC8FcQf4F9eGNs4vb2zKma4txo6i3"
    );
    // Raw and test-only forms of the same account, as tonlib-core writes them.
    let tonlib = TonWallet::new(WalletVersion::V5R1, v5.clone())
        .unwrap()
        .address;
    assert_eq!(
        address_of(&runtime, &key, "ton", "v5r1-raw"),
        tonlib.to_hex()
    );
    let testnet = TonWallet::new_with_params(WalletVersion::V5R1, v5, 0, 0x7FFFFFFD)
        .unwrap()
        .address;
    assert_eq!(
        address_of(&runtime, &key, "ton-testnet", "v5r1"),
        testnet.to_base64_url_flags(true, true)
    );
}

fn msg_std(a: &MsgAddress) -> (i32, Vec<u8>) {
    match a {
        MsgAddress::Int(MsgAddressInt::Std(s)) => (s.workchain, s.address.clone()),
        other => panic!("not a standard address: {other:?}"),
    }
}

/// The text of a comment body: op 0, then UTF-8 continued through references.
fn comment(body: &ArcCell) -> String {
    let mut parser = body.parser();
    assert_eq!(parser.load_u32(32).unwrap(), 0);
    let left = parser.remaining_bits();
    let mut bytes = parser.load_bits(left).unwrap();
    let mut cell = body.references().first().cloned();
    while let Some(c) = cell {
        let mut p = c.parser();
        let left = p.remaining_bits();
        bytes.extend(p.load_bits(left).unwrap());
        cell = c.references().first().cloned();
    }
    String::from_utf8(bytes).unwrap()
}

#[test]
fn threshold_signed_transfers_read_back_and_verify_with_tonlib() {
    let runtime = runtime();
    let wallet = Wallet::generate(Scheme::Ed25519, 2, 3);
    let path = Registry::builtin()
        .unwrap()
        .get("ton")
        .unwrap()
        .path()
        .unwrap();
    let key = wallet.public_key(&path);
    let net = network("ton");
    let pair = KeyPair {
        public_key: key.bytes.clone(),
        secret_key: vec![0; 64],
    };
    let to = TonAddress::from_str("EQCDM_QGggZ3qMa_f3lRPk4_qLDnLTqdi6OkMAV2NB9r5TG3").unwrap();
    let long = "长".repeat(200);

    for (version, tonlib_version, wallet_id, seqno) in [
        ("v5r1", WalletVersion::V5R1, 0x7FFFFF11, 0u32),
        ("v4r2", WalletVersion::V4R2, 0x29a9a317, 7),
    ] {
        let tonlib_wallet =
            TonWallet::new_with_params(tonlib_version, pair.clone(), 0, wallet_id).unwrap();
        let request = json!({
            "kind": "transfer", "wallet": version, "seqno": seqno, "validUntil": 1_900_000_000u32,
            "messages": [
                {"to": to.to_base64_url(), "amount": "1500000000", "comment": "mpcw 你好"},
                {"to": to.to_hex(), "amount": 1, "bounce": false, "mode": 1, "comment": long},
            ],
        })
        .to_string();
        let prepared = runtime.prepare("ton", &request, &key, &net).unwrap();
        let s = &prepared.summary;
        assert_eq!(s.amount.as_deref(), Some("1.500000001 TON"));
        assert_eq!(
            s.sender.as_deref(),
            Some(
                tonlib_wallet
                    .address
                    .to_base64_url_flags(true, false)
                    .as_str()
            )
        );
        assert_eq!(
            s.details.iter().any(|d| d.label == "Deployment"),
            seqno == 0
        );

        let signature = wallet.sign(&[0, 2], &path, &prepared.payloads[0]);
        let signed = runtime
            .finalize(
                "ton",
                &request,
                &key,
                &net,
                std::slice::from_ref(&signature),
            )
            .unwrap();
        let root = BagOfCells::parse(&signed.raw)
            .unwrap()
            .single_root()
            .unwrap();
        assert_eq!(root.as_ref().cell_hash().to_hex(), signed.id);
        let message = Message::from_cell(&root).unwrap();
        let CommonMsgInfo::ExtIn(info) = &message.info else {
            panic!("an external inbound message")
        };
        let MsgAddressInt::Std(dest) = &info.dest else {
            panic!("a standard destination")
        };
        assert_eq!(dest.address, tonlib_wallet.address.hash_part.to_vec());
        assert_eq!(message.init.is_some(), seqno == 0);

        // Split the body as the contract does and check the signature over the hash.
        let body = message.body.value.clone();
        let bits = body.bit_len();
        let mut p = body.parser();
        let (sig, signed_part) = if version == "v4r2" {
            let sig = p.load_bits(512).unwrap();
            let rest = p.load_bits(bits - 512).unwrap();
            let mut b = CellBuilder::new();
            b.store_bits(bits - 512, &rest).unwrap();
            b.store_references(body.references()).unwrap();
            (sig, b.build().unwrap())
        } else {
            let rest = p.load_bits(bits - 512).unwrap();
            let sig = p.load_bits(512).unwrap();
            let mut b = CellBuilder::new();
            b.store_bits(bits - 512, &rest).unwrap();
            b.store_references(body.references()).unwrap();
            (sig, b.build().unwrap())
        };
        assert_eq!(sig, signature.bytes);
        assert_eq!(signed_part.cell_hash().to_vec(), prepared.payloads[0].bytes);
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&key.bytes.clone().try_into().unwrap())
            .unwrap();
        vk.verify_strict(
            signed_part.cell_hash().as_slice(),
            &ed25519_dalek::Signature::from_slice(&sig).unwrap(),
        )
        .expect("the wallet contract's signature check passes");

        // tonlib-core's reading of the signed request, and its external message from the parts.
        let (msgs, modes) = if version == "v4r2" {
            let b = WalletExtMsgBodyV4::from_cell(&signed_part).unwrap();
            assert_eq!(
                (b.msg_seqno, b.valid_until, b.subwallet_id),
                (seqno, 1_900_000_000, wallet_id)
            );
            (b.msgs, b.msgs_modes)
        } else {
            let b = WalletExtMsgBodyV5::from_cell(&signed_part).unwrap();
            assert_eq!(
                (b.msg_seqno, b.valid_until, b.wallet_id),
                (seqno, 1_900_000_000, wallet_id)
            );
            // The out-action list's head is the last action (each node refers to the list
            // before it, as TVM builds c5 and ton-core serializes it); tonlib-core lists the
            // nodes from the head, so its order is the reverse of execution order.
            let (mut msgs, mut modes) = (b.msgs, b.msgs_modes);
            msgs.reverse();
            modes.reverse();
            (msgs, modes)
        };
        assert_eq!(modes, vec![3, 1]);
        // tonlib-core builds the external message from its own parts: its wallet address and
        // its code and data of the contract, with the plugin's signed body; the state init and
        // the body are references, as the plugin lays them out.
        let mut rebuilt = Message::new(
            CommonMsgInfo::ExtIn(ExtInMsgInfo {
                src: MsgAddressExt::None(MsgAddrNone {}),
                dest: tonlib_wallet.address.to_msg_address_int(),
                import_fee: Grams::new(0u32.into()),
            }),
            body.clone(),
        );
        rebuilt.body.layout = EitherRefLayout::ToRef;
        if seqno == 0 {
            let code = VersionHelper::get_code(tonlib_version).unwrap().clone();
            let data = VersionHelper::get_data(tonlib_version, &pair, wallet_id)
                .unwrap()
                .to_arc();
            rebuilt.init = Some(EitherRef {
                value: StateInit::new(code, data),
                layout: EitherRefLayout::ToRef,
            });
        }
        assert_eq!(
            rebuilt.to_cell().unwrap().cell_hash(),
            root.as_ref().cell_hash()
        );

        for (i, (cell, text)) in msgs.iter().zip(["mpcw 你好", long.as_str()]).enumerate() {
            let m = Message::from_cell(cell).unwrap();
            let CommonMsgInfo::Int(info) = &m.info else {
                panic!("an internal message")
            };
            assert_eq!(msg_std(&info.dest), (0, to.hash_part.to_vec()));
            assert_eq!(info.bounce, i == 0);
            let amount = if i == 0 { "1500000000" } else { "1" };
            assert_eq!(info.value.grams.amount.to_string(), amount);
            assert_eq!(comment(&m.body.value), text);
        }
    }
}

#[test]
fn bad_requests_are_refused_with_a_reason() {
    let runtime = runtime();
    let key = ed25519(
        ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
            .verifying_key()
            .as_bytes(),
    );
    let net = network("ton");
    let to = "EQCDM_QGggZ3qMa_f3lRPk4_qLDnLTqdi6OkMAV2NB9r5TG3";
    let base = json!({"kind": "transfer", "seqno": 1, "validUntil": 1, "messages": [{"to": to, "amount": 1}]});
    assert!(runtime
        .prepare("ton", &base.to_string(), &key, &net)
        .is_ok());
    let with_message = |m: serde_json::Value| {
        let mut r = base.clone();
        r["messages"] = json!([m]);
        r
    };
    let mut five = base.clone();
    five["wallet"] = json!("v4r2");
    five["messages"] = json!(vec![json!({"to": to, "amount": 1}); 5]);
    let mut v3 = base.clone();
    v3["wallet"] = json!("v3r2");
    let cases = [
        (
            with_message(json!({"to": to, "amount": "100000000000000000000"})),
            "amount",
        ),
        (with_message(json!({"to": to, "amount": -1})), "amount"),
        (
            with_message(
                json!({"to": "EQCDM_QGggZ3qMa_f3lRPk4_qLDnLTqdi6OkMAV2NB9r5TG4", "amount": 1}),
            ),
            "checksum",
        ),
        (
            with_message(json!({"to": "0:1234", "amount": 1})),
            "raw address",
        ),
        (
            with_message(json!({"to": to, "amount": 1, "comment": "x".repeat(2000)})),
            "comment",
        ),
        (
            with_message(json!({"to": to, "amount": 1, "mode": 256})),
            "256",
        ),
        (five, "1 to 4"),
        (v3, "v3r2"),
        (
            json!({"kind": "transfer", "seqno": 1, "validUntil": 1, "messages": []}),
            "1 to 255",
        ),
        (json!({"kind": "stake"}), "stake"),
    ];
    for (request, expect) in cases {
        match runtime.prepare("ton", &request.to_string(), &key, &net) {
            Err(Error::Rejected { message, .. }) => {
                assert!(
                    message.contains(expect),
                    "{request}: {message:?} should mention {expect}"
                )
            }
            other => panic!("{request}: {other:?}"),
        }
    }
    // Jetton transfers: an amount over 2^120 - 1, a missing decimals, a bad jetton wallet.
    let jetton = json!({"kind": "jetton_transfer", "seqno": 1, "validUntil": 1,
        "jettonWallet": to, "to": to, "amount": "1", "decimals": 6});
    assert!(runtime
        .prepare("ton", &jetton.to_string(), &key, &net)
        .is_ok());
    for (field, value, expect) in [
        (
            "amount",
            json!("1329227995784915872903807060280344576"),
            "amount",
        ),
        ("decimals", serde_json::Value::Null, "decimals"),
        ("jettonWallet", json!("EQ"), "jettonWallet"),
        ("tonAmount", json!("x"), "tonAmount"),
    ] {
        let mut r = jetton.clone();
        if value.is_null() {
            r.as_object_mut().unwrap().remove(field);
        } else {
            r[field] = value;
        }
        match runtime.prepare("ton", &r.to_string(), &key, &net) {
            Err(Error::Rejected { message, .. }) => {
                assert!(message.contains(expect), "{field}: {message:?}")
            }
            other => panic!("{field}: {other:?}"),
        }
    }
    // A test-only address on mainnet.
    let test_only = TonAddress::from_str(to)
        .unwrap()
        .to_base64_url_flags(false, true);
    let r = with_message(json!({"to": test_only, "amount": 1}));
    match runtime.prepare("ton", &r.to_string(), &key, &net) {
        Err(Error::Rejected { message, .. }) => assert!(message.contains("test-only")),
        other => panic!("{other:?}"),
    }
    // A wrong signature.
    let request = base.to_string();
    let sig = wit::Signature {
        scheme: wit::Scheme::Ed25519,
        bytes: vec![1; 64],
        recovery_id: None,
    };
    match runtime.finalize("ton", &request, &key, &net, &[sig]) {
        Err(Error::Rejected { code, .. }) => assert_eq!(code, wit::ErrorCode::InvalidSignature),
        other => panic!("{other:?}"),
    }
}

/// A jetton (TEP-74) transfer: tonlib-core reads the transfer body back from the internal
/// message to the jetton wallet.
#[test]
fn jetton_transfers_read_back_with_tonlib() {
    use tonlib_core::message::{JettonTransferMessage, TonMessage};

    let runtime = runtime();
    let secret = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let key = ed25519(secret.verifying_key().as_bytes());
    let net = network("ton");
    let me = TonWallet::new_with_params(
        WalletVersion::V5R1,
        KeyPair {
            public_key: key.bytes.clone(),
            secret_key: vec![0; 64],
        },
        0,
        0x7FFFFF11,
    )
    .unwrap()
    .address;
    let jetton_wallet = "EQBiMfDMivebQb052Z6yR3jHrmwNhw1kQ5bcAUOBYsK_VPuK";
    let to = TonAddress::from_str("EQCDM_QGggZ3qMa_f3lRPk4_qLDnLTqdi6OkMAV2NB9r5TG3").unwrap();
    let request = json!({
        "kind": "jetton_transfer", "seqno": 4, "validUntil": 1_900_000_000u32,
        "jettonWallet": jetton_wallet, "to": to.to_base64_url_flags(true, false),
        "amount": "2500000", "decimals": 6, "symbol": "USDT", "comment": "invoice 42",
        "queryId": 7,
    })
    .to_string();
    let prepared = runtime.prepare("ton", &request, &key, &net).unwrap();
    let s = &prepared.summary;
    assert_eq!(s.amount.as_deref(), Some("2.5 USDT"));
    assert_eq!(
        s.recipient.as_deref(),
        Some(to.to_base64_url_flags(true, false).as_str())
    );
    assert!(s.details.iter().any(|d| d.value.starts_with("0.05 TON")));

    let sig = ed25519_dalek::Signer::sign(&secret, &prepared.payloads[0].bytes);
    let signature = wit::Signature {
        scheme: wit::Scheme::Ed25519,
        bytes: sig.to_bytes().to_vec(),
        recovery_id: None,
    };
    let signed = runtime
        .finalize("ton", &request, &key, &net, &[signature])
        .unwrap();
    let root = BagOfCells::parse(&signed.raw)
        .unwrap()
        .single_root()
        .unwrap();
    let body = Message::from_cell(&root).unwrap().body.value;
    let bits = body.bit_len();
    let mut p = body.parser();
    let rest = p.load_bits(bits - 512).unwrap();
    let mut b = CellBuilder::new();
    b.store_bits(bits - 512, &rest).unwrap();
    b.store_references(body.references()).unwrap();
    let request_body = WalletExtMsgBodyV5::from_cell(&b.build().unwrap()).unwrap();
    let [internal] = request_body.msgs.as_slice() else {
        panic!("one message, to the jetton wallet")
    };
    let m = Message::from_cell(internal).unwrap();
    let CommonMsgInfo::Int(info) = &m.info else {
        panic!("an internal message")
    };
    let jw = TonAddress::from_str(jetton_wallet).unwrap();
    assert_eq!(msg_std(&info.dest), (0, jw.hash_part.to_vec()));
    assert!(info.bounce);
    assert_eq!(info.value.grams.amount.to_string(), "50000000");
    let transfer = JettonTransferMessage::parse(&m.body.value).unwrap();
    assert_eq!(transfer.query_id, 7);
    assert_eq!(transfer.amount.to_string(), "2500000");
    assert_eq!(transfer.destination, to);
    assert_eq!(transfer.response_destination, me);
    assert_eq!(transfer.forward_ton_amount.to_string(), "1");
    assert!(transfer.custom_payload.is_none());
    assert_eq!(comment(&transfer.forward_payload), "invoice 42");
}

/// One generated internal message: destination (workchain, account), amount in nanotons,
/// bounce flag, send mode, and an optional comment.
type GenMessage = (bool, [u8; 32], u64, bool, u8, Option<String>);

fn gen_messages() -> impl proptest::strategy::Strategy<Value = Vec<GenMessage>> {
    use proptest::prelude::*;
    proptest::collection::vec(
        (
            any::<bool>(),
            any::<[u8; 32]>(),
            1u64..u64::MAX / 4,
            any::<bool>(),
            prop_oneof![Just(0u8), Just(1), Just(2), Just(3), Just(128), Just(130)],
            proptest::option::of("\\PC{0,300}"),
        ),
        1..4,
    )
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(1024),
        ..Default::default()
    })]

    /// Generated transfers (wallet v4r2 or v5r1, any seqno and expiry, one to three messages to
    /// either workchain, any amount, bounce flag, send mode and comment), signed with a plain
    /// ed25519 key and read back with tonlib-core: the external message goes to tonlib-core's
    /// wallet address and carries the state init exactly for seqno 0, the signature verifies
    /// over the signed part whose hash is the payload, tonlib-core reads the wallet's seqno,
    /// expiry, wallet id and send modes from it, and each internal message's destination,
    /// amount, bounce flag and comment.
    #[test]
    fn generated_transfers_read_back_with_tonlib(
        seed in proptest::prelude::any::<[u8; 32]>(),
        v5 in proptest::prelude::any::<bool>(),
        seqno in proptest::prelude::any::<u32>(),
        valid_until in proptest::prelude::any::<u32>(),
        messages in gen_messages(),
    ) {
        use ed25519_dalek::Signer as _;
        let runtime = RUNTIME.get_or_init(runtime);
        let secret = ed25519_dalek::SigningKey::from_bytes(&seed);
        let key = ed25519(secret.verifying_key().as_bytes());
        let (version, tonlib_version, wallet_id) = if v5 {
            ("v5r1", WalletVersion::V5R1, 0x7FFFFF11)
        } else {
            ("v4r2", WalletVersion::V4R2, 0x29a9a317)
        };
        let request = json!({
            "kind": "transfer", "wallet": version, "seqno": seqno, "validUntil": valid_until,
            "messages": messages.iter().map(|(master, account, amount, bounce, mode, text)| {
                let mut m = json!({
                    "to": format!("{}:{}", if *master { -1 } else { 0 }, hex::encode(account)),
                    "amount": amount.to_string(), "bounce": bounce, "mode": mode,
                });
                if let Some(text) = text {
                    m["comment"] = json!(text);
                }
                m
            }).collect::<Vec<_>>(),
        })
        .to_string();
        let net = network("ton");
        let prepared = runtime.prepare("ton", &request, &key, &net).unwrap();
        let payload = &prepared.payloads[0].bytes;
        let signature = wit::Signature {
            scheme: wit::Scheme::Ed25519,
            bytes: secret.sign(payload).to_bytes().to_vec(),
            recovery_id: None,
        };
        let signed = runtime.finalize("ton", &request, &key, &net, std::slice::from_ref(&signature)).unwrap();

        let root = BagOfCells::parse(&signed.raw).unwrap().single_root().unwrap();
        let message = Message::from_cell(&root).unwrap();
        let CommonMsgInfo::ExtIn(info) = &message.info else {
            panic!("an external inbound message")
        };
        let pair = KeyPair { public_key: key.bytes.clone(), secret_key: vec![0; 64] };
        let wallet = TonWallet::new_with_params(tonlib_version, pair, 0, wallet_id).unwrap();
        let MsgAddressInt::Std(dest) = &info.dest else { panic!("a standard destination") };
        proptest::prop_assert_eq!(&dest.address, &wallet.address.hash_part.to_vec());
        proptest::prop_assert_eq!(message.init.is_some(), seqno == 0);

        let body = message.body.value.clone();
        let bits = body.bit_len();
        let mut p = body.parser();
        let (sig, signed_part) = {
            let (sig, rest) = if v5 {
                let rest = p.load_bits(bits - 512).unwrap();
                (p.load_bits(512).unwrap(), rest)
            } else {
                let sig = p.load_bits(512).unwrap();
                (sig, p.load_bits(bits - 512).unwrap())
            };
            let mut b = CellBuilder::new();
            b.store_bits(bits - 512, &rest).unwrap();
            b.store_references(body.references()).unwrap();
            (sig, b.build().unwrap())
        };
        proptest::prop_assert_eq!(&sig, &signature.bytes);
        proptest::prop_assert_eq!(&signed_part.cell_hash().to_vec(), payload);

        let (msgs, modes) = if v5 {
            let b = WalletExtMsgBodyV5::from_cell(&signed_part).unwrap();
            proptest::prop_assert_eq!((b.msg_seqno, b.valid_until, b.wallet_id), (seqno, valid_until, wallet_id));
            let (mut msgs, mut modes) = (b.msgs, b.msgs_modes);
            msgs.reverse();
            modes.reverse();
            (msgs, modes)
        } else {
            let b = WalletExtMsgBodyV4::from_cell(&signed_part).unwrap();
            proptest::prop_assert_eq!((b.msg_seqno, b.valid_until, b.subwallet_id), (seqno, valid_until, wallet_id));
            (b.msgs, b.msgs_modes)
        };
        proptest::prop_assert_eq!(modes, messages.iter().map(|m| m.4).collect::<Vec<_>>());
        proptest::prop_assert_eq!(msgs.len(), messages.len());
        for (cell, (master, account, amount, bounce, _, text)) in msgs.iter().zip(&messages) {
            let m = Message::from_cell(cell).unwrap();
            let CommonMsgInfo::Int(info) = &m.info else { panic!("an internal message") };
            proptest::prop_assert_eq!(msg_std(&info.dest), (if *master { -1 } else { 0 }, account.to_vec()));
            proptest::prop_assert_eq!(info.value.grams.amount.to_string(), amount.to_string());
            proptest::prop_assert_eq!(info.bounce, *bounce);
            proptest::prop_assert!(!info.bounced);
            match text {
                Some(text) => proptest::prop_assert_eq!(&comment(&m.body.value), text),
                None => proptest::prop_assert_eq!(m.body.value.bit_len(), 0),
            }
        }
    }
}

static RUNTIME: std::sync::OnceLock<mpcw_host::plugin::Runtime> = std::sync::OnceLock::new();
