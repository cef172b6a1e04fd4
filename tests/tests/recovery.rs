//! Recovery custody on the host: the recovery share escrowed under a recovery code (the host
//! keeps a sealed blob and a verifier, and cannot open either), opened only with the proof the
//! code gives, with wrong proofs refused, recorded and limited; a recovery held back by a
//! configured delay, cancelled by a statement the device signs with its identity key, and
//! carried out once the delay has passed: the same key, a new device that signs, the lost share
//! refused. Every step is in the user's record and reaches the security webhook, signed. And a
//! copy of the whole database together with the server's KEK yields one share and a blob it
//! cannot open: not enough to sign.

use std::time::Duration;

use mpcw_engine::vault::{KdfParams, SealedBox};
use mpcw_engine::{PartyKeys, Scheme};
use mpcw_host::api::{RecoveryView, WalletView, CANCEL_RECOVERY};
use mpcw_host::device::{self, Client, DeviceFile, LocalShare, SignSpec};
use mpcw_tests::callbacks::CallbackSink;
use mpcw_tests::dapp::signer_call;
use mpcw_tests::{temp_dir, two_of_three, Host};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The recovery code (12 BIP-39 words, 128 bits) and what the device derives from it, as the
/// SDK does: the proof is SHA-256 of a domain label and the code; the host keeps its SHA-256.
const CODE: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";

fn proof_of(code: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"mpcw/escrow-proof/v1\0")
        .chain_update(code.as_bytes())
        .finalize()
        .into()
}

fn cheap() -> KdfParams {
    KdfParams {
        m_cost_kib: 8192,
        t_cost: 1,
        p_cost: 1,
    }
}

fn local(share: &device::NewShare) -> LocalShare {
    LocalShare {
        index: share.index,
        keys: share.keys.clone(),
        share: share.share.clone(),
    }
}

fn transfer() -> Value {
    json!({"kind": "transfer", "to": "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
           "lamports": "1000", "recentBlockhash": "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N"})
}

async fn sign(client: &Client, wallet: &WalletView, share: &LocalShare) -> bool {
    let spec = SignSpec {
        network: mpcw_host::chains::Registry::builtin()
            .unwrap()
            .get("solana")
            .unwrap()
            .clone(),
        request: transfer(),
        signers: vec![share.index, wallet.server_index],
        bridge: None,
    };
    device::sign(client, wallet, share, &spec, None, |_| {})
        .await
        .is_ok()
}

/// The device recovers `wallet` with `recovery`, carrying out recovery `announced`.
async fn recover_with(
    client: &Client,
    wallet: &WalletView,
    recovery: &LocalShare,
    announced: Option<&str>,
) -> Result<(WalletView, Vec<device::NewShare>), device::DeviceError> {
    device::recover_announced(client, wallet, 0, recovery, announced, |_| {}).await
}

/// `POST` of `proof` (hex) to the escrow's `open` at `path`, as `token`'s user.
async fn open_escrow(url: &str, token: &str, path: &str, proof: &str) -> (u16, Value) {
    call(
        url,
        token,
        Method::POST,
        path,
        Some(json!({ "proof": proof })),
    )
    .await
}

/// `PUT` of `body` to the escrow at `path`, as `token`'s user.
async fn put_escrow(url: &str, token: &str, path: &str, body: Value) -> (u16, Value) {
    call(url, token, Method::PUT, path, Some(body)).await
}

/// The error of a device operation that must fail, as text.
fn failure<T>(r: Result<T, device::DeviceError>) -> String {
    match r {
        Ok(_) => panic!("expected a failure"),
        Err(e) => format!("{e:?}"),
    }
}

async fn call(
    url: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    signer_call(method, url, token, path, body).await
}

/// A host with `config`, user `user` logged in, and their 2-of-3 Ed25519 wallet, whose
/// recovery share is sealed under [`CODE`] as a device seals it (not escrowed yet).
struct Setup {
    host: Host,
    url: String,
    token: String,
    client: Client,
    wallet: WalletView,
    device_share: LocalShare,
    recovery_share: LocalShare,
    /// The recovery share sealed under the code, as text.
    sealed: String,
    /// What the host keeps to check the code's proof.
    verifier: String,
}

async fn setup(config: mpcw_host::config::Config, user: &str) -> Setup {
    let host = Host::start_with(config).await;
    let url = host.url.clone();
    let token = Client::new(&url)
        .dev_login(user)
        .await
        .unwrap()
        .access_token;
    let client = Client::new(&url).with_token(token.clone());
    let (wallet, shares) = device::create_wallet(&client, &two_of_three(Scheme::Ed25519), |_| {})
        .await
        .unwrap();
    let (device_share, recovery_share) = (local(&shares[0]), local(&shares[1]));
    let sealed = DeviceFile::seal(&url, &wallet, &recovery_share, CODE.as_bytes(), cheap())
        .unwrap()
        .sealed;
    Setup {
        host,
        url,
        token,
        client,
        wallet,
        device_share,
        recovery_share,
        sealed: serde_json::to_string(&sealed).unwrap(),
        verifier: hex::encode(Sha256::digest(proof_of(CODE))),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escrow_delay_cancel_record_and_webhook() {
    let sink = CallbackSink::start().await;
    let webhook_key = [9u8; 32];
    let dir = temp_dir("recovery");
    let Setup {
        host,
        url,
        token,
        client,
        wallet,
        device_share,
        recovery_share,
        sealed: sealed_text,
        verifier,
    } = setup(
        mpcw_host::config::Config {
            recovery_delay_secs: 2,
            escrow_opens_per_hour: 4,
            security_webhook_url: Some(format!("{}/cb", sink.url)),
            security_webhook_key: Some(hex::encode(webhook_key)),
            ..mpcw_tests::config(&dir)
        },
        "dora",
    )
    .await;
    let escrow = format!("/v1/wallets/{}/escrow", wallet.id);
    let put = |method: &str, sealed: &str| json!({"method": method, "verifier": verifier, "sealed": sealed});

    // Refused: a typed password, a blob that is not a sealed box, a share of another wallet, a
    // passkey escrow without its credential; another user's wallet is not found.
    let (code, body) = put_escrow(&url, &token, &escrow, put("password", &sealed_text)).await;
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (422, Some("password_not_escrowed")),
        "{body}"
    );
    let (code, body) = put_escrow(&url, &token, &escrow, put("code", "{}")).await;
    assert_eq!(code, 422, "{body}");
    let other_wallet = WalletView {
        id: "w_other".into(),
        ..wallet.clone()
    };
    let foreign = DeviceFile::seal(
        &url,
        &other_wallet,
        &recovery_share,
        CODE.as_bytes(),
        cheap(),
    )
    .unwrap();
    let (code, body) = put_escrow(
        &url,
        &token,
        &escrow,
        put("code", &serde_json::to_string(&foreign.sealed).unwrap()),
    )
    .await;
    assert_eq!(code, 422, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not a share of wallet"));
    let (code, _) = put_escrow(&url, &token, &escrow, put("passkey", &sealed_text)).await;
    assert_eq!(code, 422);
    let eve = Client::new(&url)
        .dev_login("eve")
        .await
        .unwrap()
        .access_token;
    let (code, _) = put_escrow(&url, &eve, &escrow, put("code", &sealed_text)).await;
    assert_eq!(code, 404);

    let (code, body) = put_escrow(&url, &token, &escrow, put("code", &sealed_text)).await;
    assert_eq!(code, 200, "{body}");
    let (code, shown) = call(&url, &token, Method::GET, &escrow, None).await;
    assert_eq!(
        (code, shown["method"].as_str()),
        (200, Some("code")),
        "{shown}"
    );
    assert!(
        shown.get("sealed").is_none(),
        "reading the escrow's kind never gives the blob"
    );

    // Opening: a wrong code is refused (403, recorded); the right one gives the blob back,
    // which opens with the code; after 4 attempts in the hour, 429 with Retry-After, even with
    // the right code.
    let open = format!("{escrow}/open");
    let wrong = hex::encode(proof_of(
        "legal winner thank year wave sausage worth useful legal winner thank wrong",
    ));
    let (code, body) = open_escrow(&url, &token, &open, &wrong).await;
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (403, Some("wrong_recovery_secret")),
        "{body}"
    );
    let (code, opened) = open_escrow(&url, &token, &open, &hex::encode(proof_of(CODE))).await;
    assert_eq!(code, 200, "{opened}");
    let back: SealedBox = serde_json::from_str(opened["sealed"].as_str().unwrap()).unwrap();
    assert!(back.open_with_password(CODE.as_bytes()).is_ok());
    assert!(back.open_with_password(b"battery staple").is_err());
    for _ in 0..2 {
        let (code, _) = open_escrow(&url, &token, &open, &wrong).await;
        assert_eq!(code, 403);
    }
    let limited = reqwest::Client::new()
        .post(format!("{url}{open}"))
        .bearer_auth(&token)
        .json(&json!({"proof": hex::encode(proof_of(CODE))}))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status().as_u16(), 429);
    assert!(limited.headers().contains_key("retry-after"));

    // A new device without an announced recovery is refused while a delay is configured.
    let recovered = device::recover(&client, &wallet, 0, &recovery_share, |_| {}).await;
    let err = failure(recovered);
    assert!(err.contains("recovery_not_announced"), "{err}");

    // Announced: waiting until its time; resharing now is refused with the time left.
    let first: RecoveryView = client.announce_recovery(&wallet.id).await.unwrap();
    assert_eq!(first.status, "waiting");
    let early = recover_with(&client, &wallet, &recovery_share, Some(&first.id)).await;
    let err = failure(early);
    assert!(err.contains("recovery_waiting"), "{err}");

    // A second announcement, cancelled by the device that still holds its share; the server's
    // party, another key, or another recovery's statement cannot cancel it.
    let second = client.announce_recovery(&wallet.id).await.unwrap();
    let cancel = format!("/v1/wallets/{}/recoveries/{}/cancel", wallet.id, second.id);
    let statement = format!("{}/{}", wallet.id, second.id);
    let by = |party: u16, keys: &PartyKeys, text: &str| json!({"party": party, "signature": keys.sign_statement(CANCEL_RECOVERY, text)});
    let post_cancel = |body: Value| call(&url, &token, Method::POST, &cancel, Some(body));
    let stranger = PartyKeys::generate(&mut rand_core::OsRng);
    let (code, _) = post_cancel(by(1, &stranger, &statement)).await;
    assert_eq!(code, 422, "the server's party is not a device");
    let (code, _) = post_cancel(by(0, &stranger, &statement)).await;
    assert_eq!(code, 403);
    let other_text = format!("{}/{}", wallet.id, first.id);
    let (code, _) = post_cancel(by(0, &device_share.keys, &other_text)).await;
    assert_eq!(code, 403);
    let (code, body) = post_cancel(by(0, &device_share.keys, &statement)).await;
    assert_eq!(
        (code, body["status"].as_str()),
        (200, Some("cancelled")),
        "{body}"
    );
    let (code, _) = post_cancel(by(0, &device_share.keys, &statement)).await;
    assert_eq!(code, 409, "cancelled once");
    let late = recover_with(&client, &wallet, &recovery_share, Some(&second.id)).await;
    assert!(failure(late).contains("cancelled"));

    // After the delay the first recovery runs: same key, the new device signs, the lost
    // device's share does not; the recovery cannot be used twice.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (reshared, new_shares) = recover_with(&client, &wallet, &recovery_share, Some(&first.id))
        .await
        .expect("the recovery runs after its delay");
    let key = |w: &WalletView| w.public_key.as_ref().unwrap().public_key.clone();
    assert_eq!(key(&reshared), key(&wallet), "the same key");
    let new_device = local(&new_shares[0]);
    assert!(
        sign(&client, &reshared, &new_device).await,
        "the new device signs"
    );
    assert!(
        !sign(&client, &wallet, &device_share).await,
        "the lost share is refused"
    );
    let again = recover_with(&client, &reshared, &local(&new_shares[1]), Some(&first.id)).await;
    assert!(again.is_err(), "an announced recovery is used once");

    // A refresh is recorded too.
    device::refresh(
        &client,
        &reshared,
        &[&new_device, &local(&new_shares[1])],
        |_| {},
    )
    .await
    .unwrap();

    // The user's record, newest first.
    let (code, record) = call(&url, &token, Method::GET, "/v1/recoveries", None).await;
    assert_eq!(code, 200);
    let record: Vec<RecoveryView> = serde_json::from_value(record).unwrap();
    let seen = |kind: &str, status: &str| {
        record
            .iter()
            .filter(|r| r.kind == kind && r.status == status)
            .count()
    };
    assert_eq!(seen("escrow_saved", "done"), 1);
    assert_eq!(seen("escrow_refused", "refused"), 3);
    assert_eq!(seen("escrow_opened", "done"), 1);
    assert_eq!(seen("recovery", "done"), 1);
    assert_eq!(seen("recovery", "cancelled"), 1);
    assert_eq!(seen("refresh", "done"), 1);
    assert!(record.iter().all(|r| r.wallet == wallet.id));
    assert!(record
        .iter()
        .filter(|r| r.kind.starts_with("escrow"))
        .all(|r| r.client.as_deref() == Some("127.0.0.1")));
    let (_, eves) = call(&url, &eve, Method::GET, "/v1/recoveries", None).await;
    assert_eq!(eves, json!([]), "another user sees nothing");

    // The webhook got the same, signed with the configured key.
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    let types = loop {
        let got = sink.received();
        let types: Vec<String> = got
            .iter()
            .map(|r| r.json()["type"].as_str().unwrap().to_owned())
            .collect();
        if types.iter().any(|t| t == "recovery.refresh.done") || tokio::time::Instant::now() > until
        {
            assert!(
                got.iter().all(|r| r.verifies(&webhook_key)),
                "signed with the webhook key"
            );
            assert!(got.iter().all(|r| r.json()["user"] != json!(null)));
            break types;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for t in [
        "recovery.escrow_saved.done",
        "recovery.escrow_refused.refused",
        "recovery.escrow_opened.done",
        "recovery.recovery.waiting",
        "recovery.recovery.cancelled",
        "recovery.recovery.started",
        "recovery.recovery.done",
        "recovery.refresh.started",
        "recovery.refresh.done",
    ] {
        assert!(types.iter().any(|x| x == t), "{t} in {types:?}");
    }
    host.stop().await;
}

/// Everything the host keeps, read as an attacker with a copy of the database and the KEK
/// would: the server's share opens (it is sealed under the KEK), the escrowed blob does not
/// (not with the KEK, the verifier, or anything else in the database), neither the device's
/// nor the recovery's share appears in any column, and one share cannot sign a 2-of-3 key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_and_the_kek_are_not_enough() {
    let dir = temp_dir("recovery-copy");
    let Setup {
        host,
        url,
        token,
        wallet,
        device_share,
        recovery_share,
        sealed,
        verifier,
        ..
    } = setup(mpcw_tests::config(&dir), "fay").await;
    let body = json!({"method": "code", "verifier": verifier, "sealed": sealed});
    let (code, _) = call(
        &url,
        &token,
        Method::PUT,
        &format!("/v1/wallets/{}/escrow", wallet.id),
        Some(body),
    )
    .await;
    assert_eq!(code, 200);
    let kek = *host.state.kek;
    host.stop().await;

    // The attacker's copy: every text of every row of every table.
    let copy = dir.join("copy.db");
    for suffix in ["", "-wal", "-shm"] {
        let from = dir.join(format!("mpcw.db{suffix}"));
        if from.exists() {
            std::fs::copy(from, dir.join(format!("copy.db{suffix}"))).unwrap();
        }
    }
    let db = rusqlite_free_dump(&copy).await;
    let device_secret = hex::encode(device_share.share.to_bytes());
    let recovery_secret = hex::encode(recovery_share.share.to_bytes());
    for (what, secret) in [("device", &device_secret), ("recovery", &recovery_secret)] {
        assert!(
            !db.iter().any(|v| v.contains(secret.as_str())),
            "the {what} share is in the database"
        );
    }
    let keys_hex = hex::encode(&device_share.keys.to_secret_bytes()[..32]);
    assert!(!db.iter().any(|v| v.contains(&keys_hex)));

    // The server's share opens with the KEK; the escrow does not, whatever is tried from the copy.
    let server_sealed: Vec<SealedBox> = db
        .iter()
        .filter_map(|v| serde_json::from_str(v).ok())
        .collect();
    assert!(
        server_sealed.iter().any(|b| b.open_with_kek(&kek).is_ok()),
        "the server's share is in the copy"
    );
    let escrowed = server_sealed
        .iter()
        .find(|b| b.label.ends_with("/2"))
        .expect("the escrowed blob is in the copy");
    let mut guesses: Vec<Vec<u8>> = db.iter().map(|v| v.as_bytes().to_vec()).collect();
    guesses.extend([
        kek.to_vec(),
        hex::encode(kek).into_bytes(),
        b"".to_vec(),
        wallet.id.clone().into_bytes(),
    ]);
    for guess in &guesses {
        assert!(escrowed.open_with_password(guess).is_err());
    }
    assert!(
        escrowed.open_with_password(CODE.as_bytes()).is_ok(),
        "the code does open it"
    );

    // One share of a 2-of-3 key signs nothing: the engine refuses a signer set below the
    // threshold.
    let server_share = server_sealed
        .iter()
        .filter_map(|b| b.open_with_kek(&kek).ok())
        .find_map(|plain| mpcw_engine::KeyShare::from_bytes(&plain).ok())
        .expect("the server's share parses");
    let keys = PartyKeys::generate(&mut rand_core::OsRng);
    let ctx =
        mpcw_engine::SessionContext::new("alone", 1, keys.clone(), [(1, keys.public())].into())
            .unwrap();
    let hash = mpcw_engine::signer::MessageHash::from_name(None).unwrap();
    let message =
        mpcw_engine::signer::SignMessage::new(Scheme::Ed25519, hash, b"a message".to_vec())
            .unwrap();
    let alone = mpcw_engine::signer::signing_party(ctx, &server_share, &[1], &[], message);
    assert!(alone.is_err(), "one share signs");
}

/// Every text value of every table of the SQLite database at `path`.
async fn rusqlite_free_dump(path: &std::path::Path) -> Vec<String> {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::sqlite::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table'")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    let mut out = Vec::new();
    for t in tables {
        for row in sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM \"{t}\"")))
            .fetch_all(&mut conn)
            .await
            .unwrap()
        {
            for i in 0..row.len() {
                if let Ok(Some(v)) = row.try_get::<Option<String>, _>(i) {
                    out.push(v);
                }
            }
        }
    }
    out
}
