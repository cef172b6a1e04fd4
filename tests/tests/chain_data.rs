//! Chain data and broadcast against a stub node (no test reaches the internet): a Dapp
//! connected to the user's Sepolia and Solana accounts leaves out what wallets fill in (EVM
//! sender, nonce, gas and fees; Solana's recent blockhash), the host asks the node, the signer
//! sees the filled request and its summary, the user co-signs, and the host broadcasts once.
//! The stub decodes what it receives with independent libraries: alloy recovers the EVM
//! sender as the connected address, Solana's SDK verifies the transfer's signature. The
//! Dapp's page reads the chain through the server's node (reads only). A node
//! that refuses the send, answers nonsense or hangs, a request with no sender to fill in for,
//! and broadcasts no node or no transaction can take, each get a clear error; nothing is sent
//! twice.

use crate::stub_node;

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use mpcw_engine::Scheme;
use mpcw_host::api::BridgeCreated;
use mpcw_host::chains::Registry;
use mpcw_host::device::{self, Client, LocalShare, SignSpec};
use mpcw_tests::dapp::{connection, signer_post, user_token, wallet_of, Dapp};
use mpcw_tests::{temp_dir, Host};
use serde_json::{json, Value};
use stub_node::{Mode, StubNode, BALANCE, BASE_FEE, BLOCKHASH, GAS_PRICE, NONCE, TIP};

const TO_ETH: &str = "0x3535353535353535353535353535353535353535";
const TO_SOL: &str = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";

/// The Dapp's request, opened by the user: its id and what the signer sees.
async fn create_and_open(shop: &Dapp, url: &str, token: &str, body: Value) -> (String, Value) {
    let (code, created) = shop.create(url, body).await;
    assert_eq!(code, 201, "{created}");
    let created: BridgeCreated = serde_json::from_value(created).unwrap();
    let open = json!({"token": created.token});
    let (code, opened) = signer_post(url, token, "/v1/bridge/open", open).await;
    assert_eq!(code, 200, "{opened}");
    (created.id, opened)
}

/// The user approves what the signer was shown by co-signing it.
async fn approve(
    client: &Client,
    wallet: &(mpcw_host::api::WalletView, LocalShare),
    opened: &Value,
) {
    let network = opened["network"].as_str().unwrap();
    let spec = SignSpec {
        network: Registry::builtin().unwrap().get(network).unwrap().clone(),
        request: opened["request"].clone(),
        signers: vec![0, 1],
        bridge: Some(opened["id"].as_str().unwrap().to_owned()),
    };
    device::sign(client, &wallet.0, &wallet.1, &spec, None, |_| {})
        .await
        .expect("co-signed");
}

/// The request's status once it is final (or after 10 s).
async fn final_view(shop: &Dapp, url: &str, id: &str) -> Value {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, view) = shop.read(url, id, 5).await;
        let status = view["status"].as_str().unwrap_or_default();
        if matches!(status, "done" | "failed" | "rejected" | "expired") || Instant::now() > until {
            return view;
        }
    }
}

fn filled_fields(opened: &Value) -> Vec<&str> {
    opened["filled"]
        .as_array()
        .map(|f| f.iter().map(|f| f["field"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

/// A host whose `networks` are served by a stub node, the Dapp `shop`, and alice logged in for
/// it with an ECDSA and an Ed25519 wallet connected to the shop on `networks`.
struct Connected {
    node: StubNode,
    shop: Dapp,
    host: Host,
    url: String,
    alice: String,
    client: Client,
    ec: (mpcw_host::api::WalletView, LocalShare),
    ed: (mpcw_host::api::WalletView, LocalShare),
    /// The connection, as the Dapp reads it.
    cn: Value,
}

async fn connected(dir: &str, networks: &[&str]) -> Connected {
    let node = StubNode::start().await;
    let (shop, shop_config) = Dapp::new("shop", None);
    let config = mpcw_host::config::Config {
        dapps: vec![shop_config],
        rpc_urls: networks
            .iter()
            .map(|n| (n.to_string(), node.url.clone()))
            .collect::<BTreeMap<_, _>>(),
        rpc_timeout_secs: 1,
        ..mpcw_tests::config(temp_dir(dir))
    };
    let host = Host::start_with(config).await;
    let url = host.url.clone();
    let alice = user_token(&url, "alice", "shop").await;
    let client = Client::new(&url).with_token(&alice);
    let ec = wallet_of(&client, Scheme::EcdsaSecp256k1).await;
    let ed = wallet_of(&client, Scheme::Ed25519).await;
    let cn = connection(&shop, &url, &alice, networks, &[&ec.0.id, &ed.0.id]).await;
    Connected {
        node,
        shop,
        host,
        url,
        alice,
        client,
        ec,
        ed,
        cn,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connected_dapp_leaves_out_chain_data_and_the_host_fills_it_in_and_broadcasts() {
    let Connected {
        node,
        shop,
        host,
        url,
        alice,
        client,
        ec,
        ed,
        cn,
    } = connected("chain-data", &["sepolia", "solana"]).await;
    let cn_id = cn["id"].as_str().unwrap();
    let eth_address = cn["accounts"][0]["address"].as_str().unwrap().to_owned();
    let sol_address = cn["accounts"][1]["address"].as_str().unwrap().to_owned();

    // An ETH payment with only the recipient and the amount: the host fills in the rest.
    let payment = json!({"kind": "transaction", "to": TO_ETH, "value": "10000000000000000"});
    let (id, opened) = create_and_open(
        &shop,
        &url,
        &alice,
        json!({"network": "sepolia", "connection": cn_id, "broadcast": true, "request": payment}),
    )
    .await;
    assert_eq!(
        filled_fields(&opened),
        [
            "from",
            "nonce",
            "gas",
            "maxPriorityFeePerGas",
            "maxFeePerGas"
        ]
    );
    let max_fee = 2 * BASE_FEE + TIP;
    let request = &opened["request"];
    assert_eq!(request["from"], eth_address.as_str());
    assert_eq!(request["nonce"], format!("{NONCE:#x}"));
    assert_eq!(request["gas"], "0x5208");
    assert_eq!(request["maxPriorityFeePerGas"], format!("{TIP:#x}"));
    assert_eq!(request["maxFeePerGas"], format!("{max_fee:#x}"));
    assert_eq!(opened["broadcast"], true);
    // The summary the user approves shows the filled fee: 21000 gas at 5.5 gwei at most.
    let fee = opened["summary"]["fee"].as_str().unwrap();
    assert!(fee.contains("0.0001155"), "{fee}");
    approve(&client, &ec, &opened).await;
    let view = final_view(&shop, &url, &id).await;
    assert_eq!(view["status"], "done", "{view}");
    let sent = node.evm_sent();
    assert_eq!(sent.len(), 1, "sent once");
    assert_eq!(
        view["broadcast"],
        json!({"state": "sent", "tx_id": sent[0].hash})
    );
    assert_eq!(
        view["result"]["id"],
        sent[0].hash.as_str(),
        "the plugin's id is the node's"
    );
    assert_eq!(
        sent[0].sender, eth_address,
        "alloy recovers the connected address"
    );
    assert_eq!(
        (
            sent[0].chain_id,
            sent[0].nonce,
            sent[0].gas,
            sent[0].max_fee,
            sent[0].max_priority_fee
        ),
        (Some(11155111), NONCE, 21000, max_fee, Some(TIP))
    );

    // The Dapp's page reads the chain through the server's node: reads only.
    let read = |network: &str, method: &str, params: Value| {
        let path = format!("/v1/bridge/rpc/{network}");
        let body = json!({"method": method, "params": params});
        let (shop, url) = (&shop, url.clone());
        async move {
            shop.call(reqwest::Method::POST, &url, &path, Some(body))
                .await
        }
    };
    let (code, answer) = read("sepolia", "eth_getBalance", json!([eth_address, "latest"])).await;
    assert_eq!(
        (code, &answer["result"]),
        (200, &json!(format!("{BALANCE:#x}")))
    );
    let (code, answer) = read("sepolia", "eth_getTransactionByHash", json!([sent[0].hash])).await;
    assert_eq!(
        (code, &answer["result"]["from"]),
        (200, &json!(eth_address))
    );
    let (code, answer) = read("sepolia", "eth_sendRawTransaction", json!(["0x00"])).await;
    assert_eq!(
        (code, answer["error"]["code"].as_str()),
        (422, Some("not_a_read")),
        "{answer}"
    );
    let (code, answer) = read("ethereum", "eth_blockNumber", json!([])).await;
    assert_eq!(
        (code, answer["error"]["code"].as_str()),
        (422, Some("no_node")),
        "{answer}"
    );
    let (code, answer) = read("sepolia", "eth_getLogs", json!([{}])).await;
    assert_eq!(code, 200, "the node's own error is a JSON-RPC error");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not found"),
        "{answer}"
    );

    // A SOL transfer without a blockhash: the node's latest one.
    let transfer = json!({"kind": "transfer", "to": TO_SOL, "lamports": "1500000"});
    let (id, opened) = create_and_open(
        &shop,
        &url,
        &alice,
        json!({"network": "solana", "connection": cn_id, "broadcast": true, "request": transfer}),
    )
    .await;
    assert_eq!(filled_fields(&opened), ["from", "recentBlockhash"]);
    assert_eq!(opened["request"]["recentBlockhash"], BLOCKHASH);
    approve(&client, &ed, &opened).await;
    let view = final_view(&shop, &url, &id).await;
    assert_eq!(view["status"], "done", "{view}");
    let sent = node.solana_sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].payer.as_str(), sent[0].blockhash.as_str()),
        (sol_address.as_str(), BLOCKHASH)
    );
    assert_eq!(view["broadcast"]["tx_id"], sent[0].signature.as_str());

    // Given a sender, nothing else is needed; a legacy transaction gets a gas price.
    let legacy = json!({"kind": "transaction", "type": "legacy", "from": eth_address, "to": TO_ETH, "value": "1"});
    let (code, created) = shop
        .create(&url, json!({"network": "sepolia", "request": legacy}))
        .await;
    assert_eq!(code, 201, "{created}");
    let (_, opened) = signer_post(
        &url,
        &alice,
        "/v1/bridge/open",
        json!({"token": created["token"], "wallet": ec.0.id}),
    )
    .await;
    assert_eq!(filled_fields(&opened), ["nonce", "gas", "gasPrice"]);
    assert_eq!(opened["request"]["gasPrice"], format!("{GAS_PRICE:#x}"));

    // The node refuses the send: the request fails with the node's words, the signed
    // transaction stays readable, and nothing is sent again.
    let (id, opened) = create_and_open(
        &shop,
        &url,
        &alice,
        json!({"network": "sepolia", "connection": cn_id, "broadcast": true, "request": payment}),
    )
    .await;
    node.set_mode(Mode::RefuseSends("nonce too low".into()));
    approve(&client, &ec, &opened).await;
    let view = final_view(&shop, &url, &id).await;
    assert_eq!(view["status"], "failed", "{view}");
    assert!(
        view["reason"].as_str().unwrap().contains("nonce too low"),
        "{view}"
    );
    assert_eq!(view["broadcast"]["state"], "not_sent");
    assert!(
        view["result"]["raw"].is_array(),
        "the signed transaction is kept"
    );
    let sends = node
        .methods()
        .iter()
        .filter(|m| *m == "eth_sendRawTransaction")
        .count();
    assert_eq!(sends, 2, "one send per request");
    node.set_mode(Mode::Normal);

    // Bad input, each with a clear error and nothing stored or signed.
    let refused = |body: Value| {
        let shop = &shop;
        let url = url.clone();
        async move { shop.create(&url, body).await }
    };
    let (code, answer) = refused(json!({"network": "sepolia", "request": payment})).await;
    assert_eq!(
        (code, answer["error"]["code"].as_str()),
        (422, Some("needs_sender")),
        "{answer}"
    );
    let (code, answer) =
        refused(json!({"network": "ethereum", "broadcast": true, "request": legacy})).await;
    assert_eq!(code, 422, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no node endpoint"),
        "{answer}"
    );
    let message = json!({"kind": "personal_sign", "message": "hi"});
    let (code, answer) =
        refused(json!({"network": "sepolia", "broadcast": true, "request": message})).await;
    assert_eq!(code, 422, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be broadcast"),
        "{answer}"
    );
    node.set_mode(Mode::Garbage);
    let body = json!({"network": "sepolia", "connection": cn_id, "request": payment});
    let (code, answer) = refused(body.clone()).await;
    assert_eq!(
        (code, answer["error"]["code"].as_str()),
        (502, Some("node_unavailable")),
        "{answer}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not JSON"),
        "{answer}"
    );
    node.set_mode(Mode::Hang);
    let started = Instant::now();
    let (code, answer) = refused(body).await;
    assert_eq!(
        (code, answer["error"]["code"].as_str()),
        (502, Some("node_unavailable")),
        "{answer}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{answer}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the node's time is bounded"
    );
    assert_eq!(node.evm_sent().len(), 1, "nothing more reached the network");
    host.stop().await;
}

/// Conflux Core, TON and Bitcoin through the stub node: a connected Dapp leaves out what the
/// host fills in (Conflux nonce, gas, storage limit, epoch and gas price; TON seqno and
/// expiry), the user co-signs, and the host broadcasts (`cfx_sendRawTransaction`, `sendBoc`,
/// Esplora's `POST /tx` for a PSBT the wallet completed). The stub reads what it gets with the
/// `rlp` crate and rust-bitcoin; a PSBT still waiting for other signers is not sent.
#[tokio::test(flavor = "multi_thread")]
async fn conflux_ton_and_bitcoin_requests_are_filled_in_and_broadcast() {
    use bitcoin::psbt::Psbt;
    use bitcoin::{absolute::LockTime, transaction::Version, Amount, OutPoint, ScriptBuf};
    use bitcoin::{Sequence, Transaction, TxIn, TxOut, Witness};
    use stub_node::{CFX_NONCE, EPOCH, STORAGE, TON_SEQNO};

    let Connected {
        node,
        shop,
        host,
        url,
        alice,
        client,
        ec,
        ed,
        cn,
    } = connected(
        "chain-data-more",
        &["conflux-testnet", "ton-testnet", "bitcoin-regtest"],
    )
    .await;
    let cn_id = cn["id"].as_str().unwrap();
    let address = |i: usize| cn["accounts"][i]["address"].as_str().unwrap().to_owned();
    let (cfx, ton, btc) = (address(0), address(1), address(2));
    let ask = |network: &str, request: Value| json!({"network": network, "connection": cn_id, "broadcast": true, "request": request});

    // Conflux Core: a transfer to itself with only the amount.
    let (id, opened) = create_and_open(
        &shop,
        &url,
        &alice,
        ask(
            "conflux-testnet",
            json!({"kind": "transaction", "to": cfx, "value": "1"}),
        ),
    )
    .await;
    assert_eq!(
        filled_fields(&opened),
        [
            "from",
            "nonce",
            "gas",
            "storageLimit",
            "epochHeight",
            "gasPrice"
        ]
    );
    approve(&client, &ec, &opened).await;
    let view = final_view(&shop, &url, &id).await;
    assert_eq!(view["status"], "done", "{view}");
    let sent = node.conflux_sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].nonce, sent[0].storage_limit, sent[0].epoch_height),
        (CFX_NONCE, STORAGE, EPOCH)
    );
    assert_eq!(view["broadcast"]["tx_id"], sent[0].hash.as_str());
    assert_eq!(
        view["result"]["id"],
        sent[0].hash.as_str(),
        "the node's hash is the plugin's"
    );

    // TON: the wallet's seqno from its get method, an expiry from the host's clock.
    let transfer = json!({"kind": "transfer", "messages": [{"to": ton, "amount": "1000"}]});
    let (id, opened) = create_and_open(&shop, &url, &alice, ask("ton-testnet", transfer)).await;
    assert_eq!(filled_fields(&opened), ["validUntil", "seqno"]);
    assert_eq!(opened["request"]["seqno"], TON_SEQNO);
    let until = opened["request"]["validUntil"].as_i64().unwrap();
    assert!(until > mpcw_host::state::now() + 600, "{until}");
    approve(&client, &ed, &opened).await;
    let view = final_view(&shop, &url, &id).await;
    assert_eq!(view["status"], "done", "{view}");
    assert_eq!(
        node.ton_sent(),
        [view["result"]["encoded"].as_str().unwrap()]
    );
    assert_eq!(view["broadcast"]["tx_id"], view["result"]["id"]);

    // Bitcoin: a PSBT spending one of the wallet's outputs; once signed, Esplora's POST /tx.
    let script = bitcoin::Address::from_str(&btc)
        .unwrap()
        .assume_checked()
        .script_pubkey();
    let utxo = TxOut {
        value: Amount::from_sat(100_000),
        script_pubkey: script.clone(),
    };
    let spend = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::new(bitcoin::Txid::from_str(&"11".repeat(32)).unwrap(), 0),
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(90_000),
            script_pubkey: script,
        }],
    };
    let mut psbt = Psbt::from_unsigned_tx(spend.clone()).unwrap();
    psbt.inputs[0].witness_utxo = Some(utxo);
    let request = json!({"kind": "psbt", "psbt": psbt.to_string()});
    let (id, opened) = create_and_open(&shop, &url, &alice, ask("bitcoin-regtest", request)).await;
    approve(&client, &ec, &opened).await;
    let view = final_view(&shop, &url, &id).await;
    assert_eq!(view["status"], "done", "{view}");
    let txid = spend.compute_txid().to_string();
    assert_eq!(
        node.bitcoin_sent(),
        std::slice::from_ref(&txid),
        "rust-bitcoin read the signed transaction"
    );
    assert_eq!(view["broadcast"]["tx_id"], txid.as_str());
    host.stop().await;
}
