//! The signing bridge end to end: a Dapp posts a Solana transfer, the QR code (read back with
//! rqrr) holds the link with the single-use token, the user's signer opens it (logged in for the
//! same Dapp), sees the plugin's summary, approves it by co-signing with the server, and the
//! Dapp reads a signed transaction that Solana's SDK verifies. Also: a reused or expired token,
//! a user of another Dapp, another Dapp reading the request, a wrong secret, a rejection, and an
//! approval that signs something else.
//!
//! Callbacks: the Dapp's endpoint receives one signed event per request (`done` with the signed
//! transaction, `rejected` with the reason, `expired`), its HMAC checked with the `hmac` crate;
//! an endpoint that fails the first attempt gets the same event again after the backoff.

use std::time::Duration;

use mpcw_host::api::{BridgeCreated, BridgeEvent, BridgeView, StartSigning};
use mpcw_host::chains::Registry;
use mpcw_host::device::{self, Client, DeviceError, SignSpec};
use mpcw_tests::callbacks::CallbackSink;
use mpcw_tests::dapp::{ed25519_wallet, signer_post, user_token, Dapp};
use mpcw_tests::{temp_dir, Host};
use serde_json::{json, Value};
use solana_transaction::versioned::VersionedTransaction;

const BLOCKHASH: &str = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N";
const TO: &str = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";

fn transfer() -> Value {
    json!({"kind": "transfer", "to": TO, "lamports": "1500000", "recentBlockhash": BLOCKHASH})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dapp_request_is_opened_approved_signed_and_read() {
    let sink = CallbackSink::start().await;
    let (shop, shop_config) = Dapp::new("shop", Some(format!("{}/cb", sink.url)));
    let (game, game_config) = Dapp::new("game", None);
    let shop_hash = shop_config.api_secret_sha256.clone();
    let config = mpcw_host::config::Config {
        public_url: Some("https://wallet.example.cn".into()),
        dapps: vec![shop_config, game_config],
        callback_first_retry_ms: 200,
        ..mpcw_tests::config(temp_dir("bridge"))
    };
    let host = Host::start_with(config).await;
    let url = host.url.clone();

    // The user's wallet, made for the shop.
    let alice = user_token(&url, "alice", "shop").await;
    let client = Client::new(&url).with_token(&alice);
    let (wallet, device_share) = ed25519_wallet(&client).await;

    // The Dapp asks; the QR code holds the link with the token.
    let (code, created) = shop
        .create(&url, json!({"network": "solana", "request": transfer()}))
        .await;
    assert_eq!(code, 201, "{created}");
    let created: BridgeCreated = serde_json::from_value(created).unwrap();
    assert_eq!(
        created.deep_link,
        format!(
            "https://wallet.example.cn/bridge?token={}&dapp=shop&network=solana",
            created.token
        )
    );
    // Its QR code is drawn on demand, kept by the client (privately: it holds the token).
    for (image, kind) in [("qr.png", "image/png"), ("qr.svg", "image/svg+xml")] {
        let r = mpcw_tests::dapp::http()
            .get(format!("{url}/v1/{image}"))
            .query(&[("text", &created.deep_link)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], kind);
        let cache = r.headers()["cache-control"].to_str().unwrap().to_owned();
        assert!(
            cache.contains("private") && cache.contains("max-age"),
            "{cache}"
        );
        let body = r.bytes().await.unwrap().to_vec();
        if kind == "image/png" {
            assert_eq!(mpcw_tests::read_qr(&body), created.deep_link);
        } else {
            assert!(String::from_utf8(body).unwrap().contains("<svg"));
        }
    }
    let (_, view) = shop.read(&url, &created.id, 0).await;
    assert_eq!(view["status"], "pending");

    // Nobody else reads it, a wrong secret is refused, a user of another Dapp cannot open it
    // (and does not burn the token).
    assert_eq!(game.read(&url, &created.id, 0).await.0, 404);
    let impostor = Dapp::with_secret("shop", "mpcw_sk_guess");
    assert_eq!(impostor.read(&url, &created.id, 0).await.0, 401);
    let bob = user_token(&url, "bob", "game").await;
    let open = json!({"token": created.token, "wallet": wallet.id});
    let (code, body) = signer_post(&url, &bob, "/v1/bridge/open", open.clone()).await;
    assert_eq!(code, 403, "{body}");

    // The signer opens it and sees the summary for the wallet; the token is then used up.
    let (code, opened) = signer_post(&url, &alice, "/v1/bridge/open", open.clone()).await;
    assert_eq!(code, 200, "{opened}");
    assert_eq!(opened["dapp_name"], "shop Dapp");
    let title = opened["summary"]["title"].as_str().unwrap();
    assert!(title.contains("0.0015 SOL"), "{title}");
    assert_eq!(
        signer_post(&url, &alice, "/v1/bridge/open", open).await.0,
        410
    );
    assert_eq!(shop.read(&url, &created.id, 0).await.1["status"], "opened");

    // Approving with another request is refused; approving with the request signs it.
    let other = StartSigning {
        network: "solana".into(),
        request: json!({"kind": "message", "message": "something else"}),
        signers: vec![0, 1],
        bridge: Some(created.id.clone()),
    };
    match client.start_signing(&wallet.id, &other, None).await {
        Err(DeviceError::Api { status, .. }) => assert_eq!(status, 422),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let network = Registry::builtin().unwrap().get("solana").unwrap().clone();
    let sign = SignSpec {
        network,
        request: opened["request"].clone(),
        signers: vec![0, 1],
        bridge: Some(created.id.clone()),
    };
    let signed = device::sign(&client, &wallet, &device_share, &sign, None, |_| {})
        .await
        .unwrap();
    let (_, view) = shop.read(&url, &created.id, 10).await;
    let view: BridgeView = serde_json::from_value(view).unwrap();
    assert_eq!(view.status, "done");
    let result = view.result.unwrap();
    assert_eq!(
        Some(&result.encoded),
        signed.result.as_ref().map(|r| &r.encoded)
    );
    let tx: VersionedTransaction = bincode::deserialize(&result.raw).unwrap();
    tx.verify_and_hash_message()
        .expect("Solana's SDK verifies the transaction the Dapp received");
    // The event stream of a finished request says so once and ends.
    assert_eq!(shop.events(&url, &created.id).await, ["done"]);
    // The Dapp's endpoint got one signed event with the same transaction.
    let got = sink.wait_for(&created.id, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "one callback");
    let key = shop.callback_key(&url).await;
    assert!(got[0].verifies(&key), "the HMAC verifies");
    assert!(
        !got[0].verifies(&game.callback_key(&url).await),
        "only under the Dapp's own key"
    );
    // Review finding 5: what the configuration holds (the hash of the API secret, once the
    // callback key) does not sign callbacks.
    let hash_in_config = hex::decode(&shop_hash).unwrap();
    assert!(
        !got[0].verifies(&hash_in_config),
        "the configuration alone cannot forge"
    );
    let event: BridgeEvent = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(
        (event.id.as_str(), event.kind.as_str()),
        (got[0].event_id.as_str(), "bridge.request.done")
    );
    let raw = event.data.result.unwrap().raw;
    let tx: VersionedTransaction = bincode::deserialize(&raw).unwrap();
    tx.verify_and_hash_message()
        .expect("Solana's SDK verifies the transaction the callback carried");
    let mut tampered = got[0].clone();
    tampered.body = String::from_utf8(tampered.body)
        .unwrap()
        .replace("done", "failed")
        .into_bytes();
    assert!(!tampered.verifies(&key), "a changed body does not verify");

    // A second request, rejected by the user; its callback goes to the request's own URL on
    // the registered origin, which fails the first attempt: the same event comes again.
    let (_, second) = shop
        .create(
            &url,
            json!({"network": "solana", "request": transfer(), "callback_url": format!("{}/flaky", sink.url)}),
        )
        .await;
    let (code, _) = signer_post(
        &url,
        &alice,
        "/v1/bridge/open",
        json!({"token": second["token"]}),
    )
    .await;
    assert_eq!(code, 200);
    let id = second["id"].as_str().unwrap();
    let path = format!("/v1/bridge/requests/{id}/reject");
    let (code, _) = signer_post(&url, &bob, &path, json!({})).await;
    assert_eq!(code, 403, "only the user who opened it rejects it");
    let (code, view) = signer_post(&url, &alice, &path, json!({"reason": "不是我"})).await;
    assert_eq!(code, 200, "{view}");
    let (_, view) = shop.read(&url, id, 0).await;
    assert_eq!(
        (view["status"].as_str(), view["reason"].as_str()),
        (Some("rejected"), Some("不是我"))
    );
    let got = sink.wait_for(id, Duration::from_secs(10)).await;
    let answers: Vec<u16> = got.iter().map(|r| r.answered).collect();
    assert_eq!(answers, [503, 200], "retried after a failure");
    assert!(got.iter().all(|r| r.path == "/flaky" && r.verifies(&key)));
    assert_eq!(got[0].event_id, got[1].event_id, "the same idempotency id");
    assert_eq!(got[0].body, got[1].body, "the same event");
    assert_eq!(got[1].json()["data"]["reason"], "不是我");
    // The outbox records the delivery just after the endpoint answers.
    let mut outbox = host.state.store.callback_of(id).await.unwrap().unwrap();
    for _ in 0..100 {
        if outbox.status != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        outbox = host.state.store.callback_of(id).await.unwrap().unwrap();
    }
    assert_eq!((outbox.status.as_str(), outbox.attempts), ("delivered", 2));
    let late = StartSigning {
        network: "solana".into(),
        request: transfer(),
        signers: vec![0, 1],
        bridge: Some(id.into()),
    };
    match client.start_signing(&wallet.id, &late, None).await {
        Err(DeviceError::Api { status, .. }) => assert_eq!(status, 409),
        other => panic!("expected a refusal, got {other:?}"),
    }

    // A request nobody opens in time expires; its token no longer opens it.
    let (_, third) = shop
        .create(
            &url,
            json!({"network": "solana", "request": transfer(), "ttl_secs": 2}),
        )
        .await;
    // Its event stream tells the change and ends, and the Dapp is called back.
    let statuses = shop.events(&url, third["id"].as_str().unwrap()).await;
    assert_eq!(statuses, ["pending", "expired"]);
    let got = sink
        .wait_for(third["id"].as_str().unwrap(), Duration::from_secs(10))
        .await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["type"], "bridge.request.expired");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, view) = shop.read(&url, third["id"].as_str().unwrap(), 0).await;
    assert_eq!(view["status"], "expired");
    let (code, _) = signer_post(
        &url,
        &alice,
        "/v1/bridge/open",
        json!({"token": third["token"]}),
    )
    .await;
    assert_eq!(code, 410);

    // Bad requests from the Dapp.
    for (body, why) in [
        (
            json!({"network": "nowhere", "request": transfer()}),
            "unknown_network",
        ),
        (
            json!({"network": "solana", "request": "text"}),
            "invalid_request",
        ),
        (
            json!({"network": "solana", "request": transfer(), "ttl_secs": 0}),
            "invalid_request",
        ),
        (
            json!({"network": "solana", "request": transfer(), "callback_url": "https://elsewhere.example/cb"}),
            "invalid_request",
        ),
        // The plugin refuses what it cannot sign, before any user sees it.
        (
            json!({"network": "solana", "request": {"kind": "transfer", "to": "not an address", "lamports": "1", "recentBlockhash": BLOCKHASH}}),
            "request_rejected",
        ),
        (
            json!({"network": "solana", "request": {"kind": "stake", "lamports": "1"}}),
            "request_rejected",
        ),
        (
            json!({"network": "solana", "request": {"kind": "transfer", "to": TO, "lamports": "-1", "recentBlockhash": BLOCKHASH}}),
            "request_rejected",
        ),
    ] {
        let (code, err) = shop.create(&url, body).await;
        assert_eq!((code, err["error"]["code"].as_str()), (422, Some(why)));
    }
    // A Dapp with no registered callback URL cannot name one.
    let (code, _) = game
        .create(
            &url,
            json!({"network": "solana", "request": transfer(), "callback_url": format!("{}/cb", sink.url)}),
        )
        .await;
    assert_eq!(code, 422);
    // Nothing was posted but the three events.
    assert_eq!(sink.received().len(), 4);
    host.stop().await;
}

/// Review finding 3 (event streams): one Dapp holds at most `max_event_streams_per_dapp` open
/// streams (the next gets 429 `too_many_streams`) while another Dapp is served, and a stream
/// its client closes gives its place back.
#[tokio::test(flavor = "multi_thread")]
async fn a_dapp_holds_a_bounded_number_of_event_streams() {
    let (shop, shop_config) = Dapp::new("shop", None);
    let (game, game_config) = Dapp::new("game", None);
    let host = Host::start_with(mpcw_host::config::Config {
        dapps: vec![shop_config, game_config],
        max_event_streams_per_dapp: 2,
        ..mpcw_tests::config(temp_dir("bridge-streams"))
    })
    .await;
    let url = host.url.clone();
    let request = json!({"network": "solana", "request": transfer()});
    let (_, created) = shop.create(&url, request.clone()).await;
    let shop_id = created["id"].as_str().unwrap().to_string();
    let (_, created) = game.create(&url, request).await;
    let game_id = created["id"].as_str().unwrap().to_string();
    let http = mpcw_tests::dapp::http();
    let open = |dapp: &Dapp, id: &str| {
        http.get(format!("{url}/v1/bridge/requests/{id}/events"))
            .basic_auth(dapp.id, Some(&dapp.secret))
            .send()
    };
    let first = open(&shop, &shop_id).await.unwrap();
    let second = open(&shop, &shop_id).await.unwrap();
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = open(&shop, &shop_id).await.unwrap();
    assert_eq!(third.status().as_u16(), 429);
    let body: Value = third.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_streams");
    assert_eq!(open(&game, &game_id).await.unwrap().status().as_u16(), 200);

    drop(first);
    let reopened = async {
        loop {
            let r = open(&shop, &shop_id).await.unwrap();
            if r.status().as_u16() == 200 {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let _again = tokio::time::timeout(Duration::from_secs(10), reopened)
        .await
        .expect("a closed stream gives its place back");
    // Stopping ends the streams still open rather than waiting for them.
    tokio::time::timeout(Duration::from_secs(5), host.stop())
        .await
        .expect("the server stops with streams open");
}

/// Review finding 4 (an approval abandoned half-way): the signer's approving request is dropped
/// right after the bridge request was marked approved (its client went away). The approval
/// still runs to its end: the signing starts, fails when nobody co-signs before the session's
/// deadline, and the Dapp learns `failed` and gets its callback, rather than a request stuck in
/// `signing` for ever.
#[tokio::test(flavor = "multi_thread")]
async fn an_approval_whose_client_leaves_still_settles_the_request() {
    use axum::extract::{Path, State};
    use mpcw_host::api::extract::{ApiJson, IdempotencyKey, Subject};

    let sink = CallbackSink::start().await;
    let (shop, shop_config) = Dapp::new("shop", Some(format!("{}/cb", sink.url)));
    let host = Host::start_with(mpcw_host::config::Config {
        dapps: vec![shop_config],
        session_ttl_secs: 2,
        ..mpcw_tests::config(temp_dir("bridge-abandoned"))
    })
    .await;
    let url = host.url.clone();
    let alice = user_token(&url, "alice", "shop").await;
    let client = Client::new(&url).with_token(&alice);
    let (wallet, _) = ed25519_wallet(&client).await;
    let (_, created) = shop
        .create(&url, json!({"network": "solana", "request": transfer()}))
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let open = json!({"token": created["token"], "wallet": wallet.id});
    let (code, opened) = signer_post(&url, &alice, "/v1/bridge/open", open).await;
    assert_eq!(code, 200, "{opened}");

    let approve = StartSigning {
        network: "solana".into(),
        request: opened["request"].clone(),
        signers: vec![0, 1],
        bridge: Some(id.clone()),
    };
    let handler = mpcw_host::api::signing::start(
        State(host.state.clone()),
        Subject("dapp/shop/dev:alice".into()),
        IdempotencyKey(None),
        Path(wallet.id.clone()),
        ApiJson(approve),
    );
    // Polled once (far enough to mark the request approved), then dropped.
    let left = tokio::time::timeout(Duration::ZERO, handler).await;
    assert!(left.is_err(), "the approval was still running when dropped");

    let (_, view) = shop.read(&url, &id, 0).await;
    assert_eq!(view["status"], "signing");
    let settled = async {
        loop {
            let (_, view) = shop.read(&url, &id, 25).await;
            if view["status"] != "signing" {
                return view;
            }
        }
    };
    let view = tokio::time::timeout(Duration::from_secs(30), settled)
        .await
        .expect("the request does not stay in signing");
    assert_eq!(view["status"], "failed", "{view}");
    let got = sink.wait_for(&id, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "its callback");
    assert_eq!(got[0].json()["type"], "bridge.request.failed");
    host.stop().await;
}

/// Review finding 7 (one slow Dapp delays the others): a Dapp whose callback endpoint takes two
/// seconds has a backlog of 100 due callbacks, older than another Dapp's one; the other Dapp's
/// callback is still posted at once, not after the backlog.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_dapps_callbacks_do_not_hold_back_another_dapps() {
    use axum::routing::post;
    use mpcw_host::store::CallbackRow;
    use std::sync::{Arc, Mutex};

    // One endpoint for both Dapps: `/slow` answers after two seconds, `/fast` at once and notes
    // when.
    let fast_at: Arc<Mutex<Option<std::time::Instant>>> = Arc::default();
    let noted = fast_at.clone();
    let app = axum::Router::new()
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                "ok"
            }),
        )
        .route(
            "/fast",
            post(move || async move {
                noted
                    .lock()
                    .unwrap()
                    .get_or_insert_with(std::time::Instant::now);
                "ok"
            }),
        );
    let endpoint = mpcw_tests::serve(app).await;

    let (_, slow_config) = Dapp::new("slow", None);
    let (_, fast_config) = Dapp::new("fast", None);
    let host = Host::start_with(mpcw_host::config::Config {
        dapps: vec![slow_config, fast_config],
        ..mpcw_tests::config(temp_dir("bridge-fair-callbacks"))
    })
    .await;
    let now = mpcw_host::bridge::delivery::now_ms();
    let row = |dapp: &str, n: i64, due: i64| CallbackRow {
        id: format!("evt_{dapp}{n}"),
        request_id: format!("br_{dapp}{n}"),
        dapp: dapp.into(),
        url: format!("{endpoint}/{dapp}"),
        body: "{}".into(),
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: due,
        last_error: None,
        created_at: due,
        updated_at: due,
    };
    let store = &host.state.store;
    for n in 0..100 {
        store
            .insert_callback(&row("slow", n, now - 1000 + n))
            .await
            .unwrap();
    }
    store.insert_callback(&row("fast", 0, now)).await.unwrap();
    let t0 = std::time::Instant::now();
    host.state.outbox.wake();
    let delivered = async {
        loop {
            if let Some(at) = *fast_at.lock().unwrap() {
                return at;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let at = tokio::time::timeout(Duration::from_secs(20), delivered)
        .await
        .expect("the fast Dapp's callback is delivered");
    let waited = at - t0;
    assert!(
        waited < Duration::from_millis(1500),
        "the fast Dapp waited {waited:?} behind the slow one"
    );
    host.stop().await;
}
