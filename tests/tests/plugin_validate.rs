//! Every built-in plugin checks a request before any wallet is chosen (`validate`, what the
//! bridge runs when a Dapp posts a request): good requests of each family pass, broken ones are
//! refused with a reason, and what only the wallet's key can decide (a `from` that is not the
//! wallet's) is left to `prepare`.

use mpcw_host::plugin::{wit, Error};
use mpcw_tests::{network, runtime};
use serde_json::{json, Value};

const SOLANA_TO: &str = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";
const BLOCKHASH: &str = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N";
const TON_TO: &str = "EQCDM_QGggZ3qMa_f3lRPk4_qLDnLTqdi6OkMAV2NB9r5TG3";
/// A CIP-37 test case's mainnet address.
const CFX_TO: &str = "cfx:aarc9abycue0hhzgyrr53m6cxedgccrmmyybjgh4xg";

fn evm_tx() -> Value {
    json!({
        "kind": "transaction", "nonce": "0x7", "to": "0x3535353535353535353535353535353535353535",
        "value": "1500000000000000000", "gas": 21000,
        "maxFeePerGas": "0x174876e800", "maxPriorityFeePerGas": "2000000000",
    })
}

fn cfx_tx() -> Value {
    json!({
        "kind": "transaction", "nonce": 5, "to": CFX_TO, "value": "1", "gas": 21000,
        "gasPrice": "1000000000", "storageLimit": 64, "epochHeight": 123456789, "chainId": 1029,
    })
}

/// `(plugin, network, request)` that must pass.
fn good() -> Vec<(&'static str, &'static str, Value)> {
    let mut evm_from_elsewhere = evm_tx();
    evm_from_elsewhere["from"] = json!("0x1111111111111111111111111111111111111111");
    vec![
        ("ethereum", "sepolia", evm_tx()),
        (
            "ethereum",
            "polygon",
            json!({"kind": "personal_sign", "message": "登录 mpcw"}),
        ),
        // Whose `from` it is, only the wallet can tell: `prepare` decides.
        ("ethereum", "ethereum", evm_from_elsewhere),
        ("conflux", "conflux", cfx_tx()),
        (
            "conflux",
            "conflux",
            json!({"kind": "personal_sign", "message": "hi"}),
        ),
        (
            "solana",
            "solana",
            json!({"kind": "transfer", "to": SOLANA_TO, "lamports": "1500000", "recentBlockhash": BLOCKHASH}),
        ),
        (
            "solana",
            "solana",
            json!({"kind": "message", "message": "hello"}),
        ),
        (
            "bitcoin",
            "bitcoin",
            json!({"kind": "message", "message": "hi"}),
        ),
        (
            "ton",
            "ton",
            json!({"kind": "transfer", "seqno": 1, "validUntil": 1_900_000_000u32, "messages": [{"to": TON_TO, "amount": "1000", "comment": "你好"}]}),
        ),
        (
            "monero",
            "monero",
            json!({"kind": "message", "message": "hi"}),
        ),
    ]
}

/// `(plugin, network, request, what the refusal names)` that must fail.
fn bad() -> Vec<(&'static str, &'static str, Value, &'static str)> {
    let mut wrong_chain = evm_tx();
    wrong_chain["chainId"] = json!(1);
    let mut bad_to = evm_tx();
    bad_to["to"] = json!("0x1234");
    let mut cfx_testnet_to = cfx_tx();
    cfx_testnet_to["to"] = json!("cfxtest:aarc9abycue0hhzgyrr53m6cxedgccrmmyybjgh4xg");
    vec![
        ("ethereum", "sepolia", wrong_chain, "chainId"),
        ("ethereum", "sepolia", bad_to, "to"),
        ("ethereum", "sepolia", json!({"kind": "bribe"}), "kind"),
        (
            "ethereum",
            "sepolia",
            json!({"kind": "typed_data", "typedData": {"types": {}}}),
            "typed",
        ),
        ("conflux", "conflux", cfx_testnet_to, "to"),
        (
            "solana",
            "solana",
            json!({"kind": "transfer", "to": "nope", "lamports": "1", "recentBlockhash": BLOCKHASH}),
            "to",
        ),
        (
            "solana",
            "solana",
            json!({"kind": "transfer", "to": SOLANA_TO, "lamports": "1", "recentBlockhash": BLOCKHASH, "version": 7}),
            "version",
        ),
        (
            "bitcoin",
            "bitcoin",
            json!({"kind": "psbt", "psbt": "not a psbt"}),
            "psbt",
        ),
        ("bitcoin", "bitcoin", json!({"kind": "send"}), "kind"),
        (
            "ton",
            "ton",
            json!({"kind": "transfer", "seqno": 1, "validUntil": 1, "messages": []}),
            "messages",
        ),
        (
            "ton",
            "ton",
            json!({"kind": "transfer", "seqno": 1, "validUntil": 1, "messages": [{"to": "EQ-nowhere", "amount": "1"}]}),
            "messages[0].to",
        ),
        ("monero", "monero", json!({"kind": "transfer"}), "CLSAG"),
        (
            "monero",
            "monero",
            json!({"kind": "message", "message": "hi", "extra": 1}),
            "extra",
        ),
    ]
}

#[test]
fn good_requests_pass_and_bad_ones_are_refused_before_a_wallet_is_chosen() {
    let runtime = runtime();
    for (plugin, net, request) in good() {
        runtime
            .validate(plugin, &request.to_string(), &network(net))
            .unwrap_or_else(|e| panic!("{plugin} on {net}: {request}: {e}"));
    }
    for (plugin, net, request, names) in bad() {
        match runtime.validate(plugin, &request.to_string(), &network(net)) {
            Err(Error::Rejected { message, .. }) => {
                assert!(
                    message.contains(names),
                    "{plugin}: {message} (expected {names:?})"
                )
            }
            other => panic!("{plugin} on {net}: {request}: expected a refusal, got {other:?}"),
        }
    }
}

#[test]
fn what_needs_the_key_is_left_to_prepare() {
    let runtime = runtime();
    let mut request = evm_tx();
    request["from"] = json!("0x1111111111111111111111111111111111111111");
    let net = network("sepolia");
    runtime
        .validate("ethereum", &request.to_string(), &net)
        .unwrap();
    let secret = k256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
    let key: wit::PublicKey = mpcw_tests::ecdsa_key(&secret);
    match runtime.prepare("ethereum", &request.to_string(), &key, &net) {
        Err(Error::Rejected { message, .. }) => {
            assert!(message.contains("not this wallet's address"), "{message}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}
