//! Connecting a Dapp to a user's accounts through the bridge: the Dapp asks for Ethereum and
//! Solana, the user opens the request in the signer (logged in for the Dapp) and approves with
//! an ECDSA and an Ed25519 wallet; the Dapp gets the addresses the wallets show and a
//! connection. A later request naming the connection is for that user and wallet only: a
//! sender or fee payer of another account, a network the connection does not cover, an
//! unknown, revoked or expired connection and another user are each refused with a clear
//! error, and nothing is signed. A request naming it is signed with its wallet, and Solana's
//! SDK verifies the result. The user lists and revokes connections; the Dapp reads and
//! disconnects them. The same on PostgreSQL.

use std::time::Duration;

use mpcw_engine::Scheme;
use mpcw_host::api::{BridgeCreated, BridgeView};
use mpcw_host::chains::Registry;
use mpcw_host::device::{self, Client, SignSpec};
use mpcw_tests::callbacks::CallbackSink;
use mpcw_tests::dapp::{ed25519_wallet, signer_call, signer_post, user_token, Dapp};
use mpcw_tests::{temp_dir, two_of_three, Host};
use reqwest::Method;
use serde_json::{json, Value};
use solana_transaction::versioned::VersionedTransaction;

const BLOCKHASH: &str = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N";
const TO: &str = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";

fn sol_transfer(from: &str) -> Value {
    json!({"kind": "transfer", "from": from, "to": TO, "lamports": "1500000", "recentBlockhash": BLOCKHASH})
}

fn eth_transfer(from: &str) -> Value {
    json!({
        "kind": "transaction", "from": from, "nonce": 0,
        "to": "0x3535353535353535353535353535353535353535", "value": "1000000000000000",
        "gas": 21000, "maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "1000000000",
    })
}

/// The first address the host lists for `wallet` on `network`.
async fn listed_address(client: &Client, wallet: &str, network: &str) -> String {
    let listed = client.addresses(wallet).await.unwrap();
    let on = listed.iter().find(|n| n.network == network).unwrap();
    on.addresses[0].value.clone()
}

/// The Dapp creates a connect request for `networks`; `token` opens it.
async fn open_connect(shop: &Dapp, url: &str, token: &str, body: Value) -> (BridgeCreated, Value) {
    let (code, created) = shop.connect(url, body).await;
    assert_eq!(code, 201, "{created}");
    let created: BridgeCreated = serde_json::from_value(created).unwrap();
    let (code, opened) = signer_post(
        url,
        token,
        "/v1/bridge/open",
        json!({"token": created.token}),
    )
    .await;
    assert_eq!(code, 200, "{opened}");
    (created, opened)
}

fn approve_path(id: &str) -> String {
    format!("/v1/bridge/requests/{id}/connect")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dapp_connects_and_its_requests_are_for_the_connected_wallet_only() {
    let sink = CallbackSink::start().await;
    let (shop, shop_config) = Dapp::new("shop", Some(format!("{}/cb", sink.url)));
    let (game, game_config) = Dapp::new("game", None);
    let config = mpcw_host::config::Config {
        dapps: vec![shop_config, game_config],
        ..mpcw_tests::config(temp_dir("connect"))
    };
    let host = Host::start_with(config).await;
    let url = host.url.clone();

    let alice = user_token(&url, "alice", "shop").await;
    let client = Client::new(&url).with_token(&alice);
    let (ed_wallet, ed_share) = ed25519_wallet(&client).await;
    let (ec_wallet, _) =
        device::create_wallet(&client, &two_of_three(Scheme::EcdsaSecp256k1), |_| {})
            .await
            .unwrap();
    let eth_address = listed_address(&client, &ec_wallet.id, "ethereum").await;
    let sol_address = listed_address(&client, &ed_wallet.id, "solana").await;
    // A SOL transfer from the connected account, naming connection `cn`.
    let sol_payment = |cn: &str| json!({"network": "solana", "request": sol_transfer(&sol_address), "connection": cn});

    // Malformed connect requests.
    for (body, code) in [
        (json!({"networks": []}), "invalid_request"),
        (json!({"networks": ["solana", "solana"]}), "invalid_request"),
        (json!({"networks": ["dogecoin"]}), "unknown_network"),
        (
            json!({"networks": ["solana"], "connection_ttl_secs": 0}),
            "invalid_request",
        ),
        (
            json!({"networks": ["solana"], "wallet": "w_1"}),
            "invalid_request",
        ),
    ] {
        let (status, answer) = shop.connect(&url, body.clone()).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (422, Some(code)),
            "{body}: {answer}"
        );
    }

    // The Dapp asks for Ethereum and Solana; the signer sees what is asked and by whom.
    let (created, opened) = open_connect(
        &shop,
        &url,
        &alice,
        json!({"networks": ["ethereum", "solana"]}),
    )
    .await;
    assert!(
        created.deep_link.ends_with("&action=connect"),
        "{}",
        created.deep_link
    );
    assert_eq!(opened["action"], "connect");
    assert_eq!(opened["dapp_name"], "shop Dapp");
    assert_eq!(opened["networks"], json!(["ethereum", "solana"]));
    assert!(opened.get("summary").is_none());
    let id = created.id.clone();
    // Approving by signing is refused; wallets that do not cover every network are refused.
    let sign = json!({"network": "ethereum", "request": eth_transfer(&eth_address), "signers": [0, 1], "bridge": id});
    let (code, body) = signer_post(
        &url,
        &alice,
        &format!("/v1/wallets/{}/signatures", ec_wallet.id),
        sign,
    )
    .await;
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (422, Some("bridge_mismatch")),
        "{body}"
    );
    let (code, body) = signer_post(
        &url,
        &alice,
        &approve_path(&id),
        json!({"wallets": [ed_wallet.id]}),
    )
    .await;
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (422, Some("network_not_covered")),
        "{body}"
    );
    let (code, _) = signer_post(
        &url,
        &alice,
        &approve_path(&id),
        json!({"wallets": ["w_nobody"]}),
    )
    .await;
    assert_eq!(code, 404);
    // Another user of the Dapp cannot answer it.
    let bob = user_token(&url, "bob", "shop").await;
    let (code, _) = signer_post(
        &url,
        &bob,
        &approve_path(&id),
        json!({"wallets": [ed_wallet.id]}),
    )
    .await;
    assert_eq!(code, 403, "the request was opened by alice");

    // Alice connects both wallets: the Dapp gets the addresses the wallets show.
    let (code, view) = signer_post(
        &url,
        &alice,
        &approve_path(&id),
        json!({"wallets": [ec_wallet.id, ed_wallet.id]}),
    )
    .await;
    assert_eq!(code, 200, "{view}");
    let (code, read) = shop.read(&url, &id, 0).await;
    assert_eq!(code, 200);
    let read: BridgeView = serde_json::from_value(read).unwrap();
    assert_eq!(
        (read.status.as_str(), read.action.as_str()),
        ("done", "connect")
    );
    let connection = read.connection.expect("the connection");
    assert_eq!(connection.status, "active");
    let accounts: Vec<_> = connection
        .accounts
        .iter()
        .map(|a| (a.network.as_str(), a.address.as_str(), a.wallet_id.as_str()))
        .collect();
    assert_eq!(
        accounts,
        [
            ("ethereum", eth_address.as_str(), ec_wallet.id.as_str()),
            ("solana", sol_address.as_str(), ed_wallet.id.as_str())
        ]
    );
    let cn = connection.id.clone();
    // Answered once: a second approval is refused.
    let (code, _) = signer_post(
        &url,
        &alice,
        &approve_path(&id),
        json!({"wallets": [ed_wallet.id]}),
    )
    .await;
    assert_eq!(code, 409);
    // The Dapp's callback carries the connection too.
    let got = sink.wait_for(&id, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].verifies(&shop.callback_key(&url).await));
    let event = got[0].json();
    assert_eq!(event["type"], "bridge.request.done");
    assert_eq!(event["data"]["connection"]["id"], cn.as_str());

    // Requests naming the connection: checked against the connected wallet before they are
    // stored.
    let other_sol = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin";
    let other_eth = "0x8ba1f109551bD432803012645Ac136ddd64DBA72";
    for (network, request, code, why) in [
        (
            "solana",
            sol_transfer(other_sol),
            "request_rejected",
            "not this wallet's address",
        ),
        (
            "ethereum",
            eth_transfer(other_eth),
            "request_rejected",
            "not this wallet's address",
        ),
        (
            "polygon",
            eth_transfer(&eth_address),
            "network_not_connected",
            "no account on network polygon",
        ),
    ] {
        let (s, answer) = shop
            .create(
                &url,
                json!({"network": network, "request": request, "connection": cn}),
            )
            .await;
        assert_eq!(
            (s, answer["error"]["code"].as_str()),
            (422, Some(code)),
            "{network}: {answer}"
        );
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{network}: {message}");
    }
    let (s, answer) = shop.create(&url, sol_payment("cn_unknown")).await;
    assert_eq!(
        (s, answer["error"]["code"].as_str()),
        (422, Some("unknown_connection")),
        "{answer}"
    );
    let (s, answer) = game.create(&url, sol_payment(&cn)).await;
    assert_eq!(
        (s, answer["error"]["code"].as_str()),
        (422, Some("unknown_connection")),
        "another Dapp's: {answer}"
    );
    let (s, answer) = shop
        .create(
            &url,
            json!({"network": "ethereum", "request": eth_transfer(&eth_address), "connection": cn}),
        )
        .await;
    assert_eq!(s, 201, "{answer}");

    // A Solana transfer naming the connection: another user cannot open it (nor burn its
    // token); alice's signer is shown the connected wallet's summary and signs with it.
    let (s, created) = shop.create(&url, sol_payment(&cn)).await;
    assert_eq!(s, 201, "{created}");
    let created: BridgeCreated = serde_json::from_value(created).unwrap();
    let open = json!({"token": created.token});
    let (code, body) = signer_post(&url, &bob, "/v1/bridge/open", open.clone()).await;
    assert_eq!(code, 403, "{body}");
    let (code, opened) = signer_post(&url, &alice, "/v1/bridge/open", open).await;
    assert_eq!(code, 200, "{opened}");
    assert_eq!(opened["connection"], cn.as_str());
    assert_eq!(opened["wallet"], ed_wallet.id.as_str());
    assert_eq!(opened["summary"]["sender"], sol_address.as_str());
    let spec = SignSpec {
        network: Registry::builtin().unwrap().get("solana").unwrap().clone(),
        request: opened["request"].clone(),
        signers: vec![0, 1],
        bridge: Some(created.id.clone()),
    };
    device::sign(&client, &ed_wallet, &ed_share, &spec, None, |_| {})
        .await
        .expect("signed with the connected wallet");
    let (_, view) = shop.read(&url, &created.id, 10).await;
    let view: BridgeView = serde_json::from_value(view).unwrap();
    assert_eq!(view.status, "done");
    let tx: VersionedTransaction = bincode::deserialize(&view.result.unwrap().raw).unwrap();
    tx.verify_and_hash_message()
        .expect("Solana's SDK verifies the transaction");
    assert_eq!(tx.message.static_account_keys()[0].to_string(), sol_address);

    // A request made before the user revokes the connection is not signed after.
    let (_, pending) = shop.create(&url, sol_payment(&cn)).await;
    let pending: BridgeCreated = serde_json::from_value(pending).unwrap();
    let (code, _) = signer_post(
        &url,
        &alice,
        "/v1/bridge/open",
        json!({"token": pending.token}),
    )
    .await;
    assert_eq!(code, 200);

    // The user lists and revokes; the Dapp sees it revoked, and requests naming it are refused.
    let (code, list) = signer_call(Method::GET, &url, &alice, "/v1/connections", None).await;
    assert_eq!(code, 200);
    assert_eq!(list["connections"][0]["id"], cn.as_str());
    assert_eq!(list["connections"][0]["status"], "active");
    let (code, _) = signer_call(Method::GET, &url, &bob, "/v1/connections", None).await;
    assert_eq!(code, 200);
    let path = format!("/v1/connections/{cn}");
    let (code, _) = signer_call(Method::DELETE, &url, &bob, &path, None).await;
    assert_eq!(code, 404, "not bob's to revoke");
    let (code, revoked) = signer_call(Method::DELETE, &url, &alice, &path, None).await;
    assert_eq!(
        (code, revoked["status"].as_str()),
        (200, Some("revoked")),
        "{revoked}"
    );
    let (code, again) = signer_call(Method::DELETE, &url, &alice, &path, None).await;
    assert_eq!(
        (code, &again["revoked_at"]),
        (200, &revoked["revoked_at"]),
        "revoking twice changes nothing"
    );
    let dapp_path = format!("/v1/bridge/connections/{cn}");
    let (code, seen) = shop.call(Method::GET, &url, &dapp_path, None).await;
    assert_eq!((code, seen["status"].as_str()), (200, Some("revoked")));
    assert_eq!(game.call(Method::GET, &url, &dapp_path, None).await.0, 404);
    let (s, answer) = shop.create(&url, sol_payment(&cn)).await;
    assert_eq!(
        (s, answer["error"]["code"].as_str()),
        (410, Some("connection_revoked")),
        "{answer}"
    );
    let sign = json!({"network": "solana", "request": sol_transfer(&sol_address), "signers": [0, 1], "bridge": pending.id});
    let (code, body) = signer_post(
        &url,
        &alice,
        &format!("/v1/wallets/{}/signatures", ed_wallet.id),
        sign,
    )
    .await;
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (410, Some("connection_revoked")),
        "{body}"
    );
    assert_eq!(
        shop.read(&url, &pending.id, 0).await.1["status"],
        "opened",
        "nothing signed"
    );

    // A short connection expires; a Dapp disconnects one of its own.
    let (created, _) = open_connect(
        &shop,
        &url,
        &alice,
        json!({"networks": ["solana"], "connection_ttl_secs": 1}),
    )
    .await;
    let (code, view) = signer_post(
        &url,
        &alice,
        &approve_path(&created.id),
        json!({"wallets": [ed_wallet.id]}),
    )
    .await;
    assert_eq!(code, 200, "{view}");
    let short = view["connection"]["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (s, answer) = shop.create(&url, sol_payment(&short)).await;
    assert_eq!(
        (s, answer["error"]["code"].as_str()),
        (410, Some("connection_expired")),
        "{answer}"
    );
    let (created, _) = open_connect(&shop, &url, &alice, json!({"networks": ["solana"]})).await;
    let (_, view) = signer_post(
        &url,
        &alice,
        &approve_path(&created.id),
        json!({"wallets": [ed_wallet.id]}),
    )
    .await;
    let third = view["connection"]["id"].as_str().unwrap().to_owned();
    let third_path = format!("/v1/bridge/connections/{third}");
    assert_eq!(
        game.call(Method::DELETE, &url, &third_path, None).await.0,
        404
    );
    let (code, gone) = shop.call(Method::DELETE, &url, &third_path, None).await;
    assert_eq!((code, gone["status"].as_str()), (200, Some("revoked")));
    let (_, list) = signer_call(Method::GET, &url, &alice, "/v1/connections", None).await;
    let statuses: Vec<_> = list["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap().to_owned())
        .collect();
    // Newest first (the first two were made within the same second).
    assert_eq!(list["connections"][0]["id"], third.as_str());
    let mut statuses = statuses;
    statuses.sort();
    assert_eq!(statuses, ["expired", "revoked", "revoked"]);

    // A rejected connect request makes no connection.
    let (created, _) = open_connect(&shop, &url, &alice, json!({"networks": ["solana"]})).await;
    let reject = format!("/v1/bridge/requests/{}/reject", created.id);
    let (code, _) = signer_post(&url, &alice, &reject, json!({"reason": "not now"})).await;
    assert_eq!(code, 200);
    let (_, read) = shop.read(&url, &created.id, 0).await;
    assert_eq!(
        (read["status"].as_str(), read.get("connection")),
        (Some("rejected"), None)
    );
    host.stop().await;
}

/// Connections on PostgreSQL: made, read, listed and revoked (`scripts/test` sets
/// `MPCW_TEST_POSTGRES_URL`).
#[tokio::test(flavor = "multi_thread")]
async fn connections_live_in_postgresql_too() {
    let url = std::env::var("MPCW_TEST_POSTGRES_URL").expect(
        "MPCW_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which starts PostgreSQL",
    );
    let (shop, shop_config) = Dapp::new("shop", None);
    let config = mpcw_host::config::Config {
        dapps: vec![shop_config],
        database_url: Some(url),
        ..mpcw_tests::config(temp_dir("connect-postgres"))
    };
    let host = Host::start_with(config).await;
    let url = host.url.clone();
    let subject = format!("carol-{}", std::process::id());
    let carol = user_token(&url, &subject, "shop").await;
    let client = Client::new(&url).with_token(&carol);
    let (wallet, _) = ed25519_wallet(&client).await;
    let (created, _) = open_connect(&shop, &url, &carol, json!({"networks": ["solana"]})).await;
    let (code, view) = signer_post(
        &url,
        &carol,
        &approve_path(&created.id),
        json!({"wallets": [wallet.id]}),
    )
    .await;
    assert_eq!(code, 200, "{view}");
    let cn = view["connection"]["id"].as_str().unwrap().to_owned();
    let address = listed_address(&client, &wallet.id, "solana").await;
    assert_eq!(
        view["connection"]["accounts"][0]["address"],
        address.as_str()
    );
    let (_, list) = signer_call(Method::GET, &url, &carol, "/v1/connections", None).await;
    assert_eq!(list["connections"].as_array().unwrap().len(), 1);
    let (code, revoked) = signer_call(
        Method::DELETE,
        &url,
        &carol,
        &format!("/v1/connections/{cn}"),
        None,
    )
    .await;
    assert_eq!((code, revoked["status"].as_str()), (200, Some("revoked")));
    let (s, answer) = shop
        .create(
            &url,
            json!({"network": "solana", "request": sol_transfer(&address), "connection": cn}),
        )
        .await;
    assert_eq!(
        (s, answer["error"]["code"].as_str()),
        (410, Some("connection_revoked")),
        "{answer}"
    );
    host.stop().await;
}
