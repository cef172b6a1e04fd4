//! OpenID Connect login against a stub identity provider on loopback that speaks the protocol's
//! documented formats (a discovery document and a JWK set): ID tokens signed with RS256, ES256
//! and EdDSA log in; expired, not-yet-valid, future-issued, wrong-audience, wrong-issuer,
//! forged, `alg: none` and HMAC-with-the-RSA-key tokens are refused; a rotated key is fetched
//! when a token names it; an unreachable provider is a 502. The host's own access token is then
//! checked with jsonwebtoken against the keys the host publishes, and used on the API.
//!
//! The authorization code flow with PKCE (`POST /v1/auth/oidc/code`) against a provider that
//! checks the verifier (`stub_oidc`): a code logs in once and only with its verifier; a
//! redirect URI off the server's origin is refused before anything is sent.

use crate::stub_oidc;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mpcw_host::auth::oidc::OidcProvider;
use mpcw_tests::{temp_dir, Host};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Value};

const AUDIENCE: &str = "mpcw-client";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A signing key of the stub provider: its JWK and how to sign with it.
struct TestKey {
    kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

fn rsa_key(kid: &str) -> (TestKey, Vec<u8>) {
    let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
    let public_der = rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_der(&key.to_public_key())
        .unwrap()
        .as_bytes()
        .to_vec();
    let jwk = json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
        "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be())});
    let der = key.to_pkcs1_der().unwrap();
    let test_key = TestKey {
        kid: kid.into(),
        alg: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        jwk,
    };
    (test_key, public_der)
}

fn p256_key(kid: &str) -> TestKey {
    let key = p256::SecretKey::random(&mut rand_core::OsRng);
    let point =
        p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&key.public_key(), false);
    let der = p256::pkcs8::EncodePrivateKey::to_pkcs8_der(&key).unwrap();
    TestKey {
        kid: kid.into(),
        alg: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(der.as_bytes()),
        jwk: json!({"kty": "EC", "crv": "P-256", "kid": kid,
            "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())}),
    }
}

fn ed25519_key(kid: &str) -> TestKey {
    let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    TestKey {
        kid: kid.into(),
        alg: Algorithm::EdDSA,
        encoding: EncodingKey::from_ed_der(key.to_pkcs8_der().unwrap().as_bytes()),
        jwk: json!({"kty": "OKP", "crv": "Ed25519", "kid": kid,
            "x": b64(key.verifying_key().as_bytes())}),
    }
}

/// The stub provider: discovery at `/.well-known/openid-configuration`, keys at `/jwks`.
struct Stub {
    issuer: Mutex<String>,
    jwks: Mutex<Value>,
    fetches: AtomicUsize,
    down: AtomicBool,
}

async fn discovery(State(stub): State<Arc<Stub>>) -> Json<Value> {
    let issuer = stub.issuer.lock().unwrap().clone();
    Json(
        json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwks"),
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"]}),
    )
}

async fn jwks(State(stub): State<Arc<Stub>>) -> Result<Json<Value>, StatusCode> {
    stub.fetches.fetch_add(1, Ordering::SeqCst);
    if stub.down.load(Ordering::SeqCst) {
        return Err(StatusCode::SERVICE_UNAVAILABLE);
    }
    Ok(Json(stub.jwks.lock().unwrap().clone()))
}

async fn start_stub(keys: &[&TestKey]) -> (Arc<Stub>, String) {
    let stub = Arc::new(Stub {
        issuer: Mutex::new(String::new()),
        jwks: Mutex::new(json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()})),
        fetches: AtomicUsize::new(0),
        down: AtomicBool::new(false),
    });
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .with_state(stub.clone());
    let issuer = mpcw_tests::serve(app).await;
    *stub.issuer.lock().unwrap() = issuer.clone();
    (stub, issuer)
}

fn now() -> i64 {
    mpcw_host::state::now()
}

/// An ID token's claims, with the login `nonce` the page passed to the provider.
fn claims(issuer: &str, nonce: &str, sub: &str) -> Value {
    json!({"iss": issuer, "sub": sub, "aud": AUDIENCE, "iat": now(), "exp": now() + 300,
        "nonce": nonce})
}

/// A login nonce from the host, for `dapp` (or none).
async fn login_nonce(http: &reqwest::Client, host: &Host, dapp: Option<&str>) -> String {
    let r = http
        .post(format!("{}/v1/auth/oidc/nonce", host.url))
        .json(&json!({"dapp": dapp}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let body: Value = r.json().await.unwrap();
    body["nonce"].as_str().unwrap().to_string()
}

fn sign(key: &TestKey, claims: &Value) -> String {
    let mut header = Header::new(key.alg);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

async fn login(http: &reqwest::Client, host: &Host, id_token: &str) -> (StatusCode, Value) {
    login_for(http, host, id_token, None).await
}

async fn login_for(
    http: &reqwest::Client,
    host: &Host,
    id_token: &str,
    dapp: Option<&str>,
) -> (StatusCode, Value) {
    let r = http
        .post(format!("{}/v1/auth/oidc", host.url))
        .json(&json!({"provider": "stub", "id_token": id_token, "dapp": dapp}))
        .send()
        .await
        .unwrap();
    let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
    (status, r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn id_tokens_log_in_or_are_refused_with_reasons() {
    let (rsa, rsa_public_der) = rsa_key("rsa-1");
    let ec = p256_key("ec-1");
    let ed = ed25519_key("ed-1");
    let (stub, issuer) = start_stub(&[&rsa, &ec, &ed]).await;
    let config = mpcw_host::config::Config {
        dev_login: Some(false),
        oidc: vec![OidcProvider {
            name: "stub".into(),
            issuer: issuer.clone(),
            audiences: vec![AUDIENCE.into()],
            jwks_uri: None,
            refetch_interval_secs: Some(0),
            ..Default::default()
        }],
        ..mpcw_tests::config(temp_dir("oidc"))
    };
    let host = Host::start_with(config).await;
    let http = mpcw_tests::dapp::http();
    let nonce = login_nonce(&http, &host, None).await;

    // Good logins with each algorithm.
    for (key, sub) in [(&rsa, "alice"), (&ec, "bob"), (&ed, "carol")] {
        let (status, body) = login(&http, &host, &sign(key, &claims(&issuer, &nonce, sub))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["subject"], format!("oidc:stub:{sub}"));
    }
    assert_eq!(
        stub.fetches.load(Ordering::SeqCst),
        1,
        "the key set is cached"
    );

    // Refusals, each for its reason.
    let mut expired = claims(&issuer, &nonce, "alice");
    expired["iat"] = json!(now() - 7200);
    expired["exp"] = json!(now() - 3600);
    let mut early = claims(&issuer, &nonce, "alice");
    early["nbf"] = json!(now() + 3600);
    let mut future = claims(&issuer, &nonce, "alice");
    future["iat"] = json!(now() + 3600);
    let mut audience = claims(&issuer, &nonce, "alice");
    audience["aud"] = json!("another-client");
    let wrong_issuer = claims("https://accounts.example.com", &nonce, "alice");
    let (other_rsa, _) = rsa_key("rsa-1");
    let forged = sign(&other_rsa, &claims(&issuer, &nonce, "alice"));
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(claims(&issuer, &nonce, "alice").to_string().as_bytes())
    );
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some("rsa-1".into());
    let confused = jsonwebtoken::encode(
        &hs_header,
        &claims(&issuer, &nonce, "alice"),
        &EncodingKey::from_secret(&rsa_public_der),
    )
    .unwrap();
    let mut no_sub = claims(&issuer, &nonce, "x");
    no_sub.as_object_mut().unwrap().remove("sub");
    let cases = [
        (sign(&rsa, &expired), "ExpiredSignature"),
        (sign(&ec, &early), "ImmatureSignature"),
        (sign(&ed, &future), "issued in the future"),
        (sign(&rsa, &audience), "InvalidAudience"),
        (sign(&rsa, &wrong_issuer), "InvalidIssuer"),
        (forged, "InvalidSignature"),
        (none, "not a JWT"),
        (confused, "only RS256, ES256 and EdDSA"),
        (sign(&rsa, &no_sub), "sub"),
        ("garbage".to_string(), "not a JWT"),
    ];
    for (token, reason) in cases {
        let (status, body) = login(&http, &host, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{reason}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(reason), "{reason}: {message}");
    }

    // The provider rotates to a new key; a token naming it makes the host fetch the set again.
    let rotated = ed25519_key("ed-2");
    *stub.jwks.lock().unwrap() = json!({"keys": [rotated.jwk.clone()]});
    let before = stub.fetches.load(Ordering::SeqCst);
    let (status, body) = login(
        &http,
        &host,
        &sign(&rotated, &claims(&issuer, &nonce, "dave")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(stub.fetches.load(Ordering::SeqCst), before + 1);
    // The retired key no longer logs anyone in.
    let (status, _) = login(&http, &host, &sign(&rsa, &claims(&issuer, &nonce, "alice"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // An unknown provider, and a provider whose keys cannot be fetched.
    let r = http
        .post(format!("{}/v1/auth/oidc", host.url))
        .json(&json!({"provider": "nobody", "id_token": "x.y.z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    stub.down.store(true, Ordering::SeqCst);
    let unknown_kid = ed25519_key("ed-3");
    let (status, body) = login(
        &http,
        &host,
        &sign(&unknown_kid, &claims(&issuer, &nonce, "x")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"]["code"], "provider_unavailable");
    stub.down.store(false, Ordering::SeqCst);

    // The host's access token verifies with the keys it publishes, and opens the API.
    let (_, body) = login(
        &http,
        &host,
        &sign(&rotated, &claims(&issuer, &nonce, "erin")),
    )
    .await;
    let access = body["access_token"].as_str().unwrap().to_string();
    let published: jsonwebtoken::jwk::JwkSet = http
        .get(format!("{}/.well-known/jwks.json", host.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = jsonwebtoken::decode_header(&access).unwrap().kid.unwrap();
    let jwk = published.find(&kid).expect("the signing key is published");
    let mut validation = jsonwebtoken::Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["mpcw-api"]);
    validation.set_issuer(&["mpcw"]);
    let checked = jsonwebtoken::decode::<Value>(
        &access,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap();
    assert_eq!(checked.claims["sub"], "oidc:stub:erin");
    let wallets = |token: String| {
        http.get(format!("{}/v1/wallets", host.url))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(
        wallets(access.clone()).await.unwrap().status().as_u16(),
        200
    );
    // Neither a tampered access token nor the provider's ID token opens it.
    let tampered = format!("{}x", &access[..access.len() - 1]);
    assert_eq!(wallets(tampered).await.unwrap().status().as_u16(), 401);
    let id_token = sign(&rotated, &claims(&issuer, &nonce, "erin"));
    assert_eq!(wallets(id_token).await.unwrap().status().as_u16(), 401);
    // Development login is off in this configuration.
    let r = http
        .post(format!("{}/v1/auth/dev", host.url))
        .json(&json!({"subject": "erin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    host.stop().await;
}

/// Review finding 6 (logins bound to their Dapp): an ID token obtained for one Dapp (its login
/// nonce names that Dapp) logs the user in for that Dapp only. Replayed for another Dapp, or
/// for none, and whatever `Origin` the replay claims or leaves out, it is refused; so is a token
/// without a nonce, or with a nonce the host did not make.
#[tokio::test(flavor = "multi_thread")]
async fn an_id_token_logs_in_only_for_the_dapp_it_was_obtained_for() {
    use mpcw_host::auth::dapps::{new_secret, DappConfig};
    let ed = ed25519_key("ed-1");
    let (_stub, issuer) = start_stub(&[&ed]).await;
    let dapp = |id: &str| DappConfig {
        id: id.into(),
        name: id.into(),
        allowed_origins: vec![format!("https://{id}.example.cn")],
        callback_url: None,
        api_secret_sha256: new_secret().1,
    };
    let host = Host::start_with(mpcw_host::config::Config {
        oidc: vec![OidcProvider {
            name: "stub".into(),
            issuer: issuer.clone(),
            audiences: vec![AUDIENCE.into()],
            jwks_uri: None,
            refetch_interval_secs: None,
            ..Default::default()
        }],
        dapps: vec![dapp("shop"), dapp("game")],
        ..mpcw_tests::config(temp_dir("oidc-dapps"))
    })
    .await;
    let http = mpcw_tests::dapp::http();
    let shop_nonce = login_nonce(&http, &host, Some("shop")).await;
    let seen_by_shop = sign(&ed, &claims(&issuer, &shop_nonce, "alice"));
    let (status, body) = login_for(&http, &host, &seen_by_shop, Some("shop")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["dapp"], "shop");

    for other in [Some("game"), None] {
        let (status, body) = login_for(&http, &host, &seen_by_shop, other).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{other:?}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("obtained for Dapp \"shop\""), "{message}");
    }
    // Claiming the other Dapp's origin changes nothing.
    let r = http
        .post(format!("{}/v1/auth/oidc", host.url))
        .header("origin", "https://game.example.cn")
        .json(&json!({"provider": "stub", "id_token": seen_by_shop, "dapp": "game"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let mut no_nonce = claims(&issuer, "", "alice");
    no_nonce.as_object_mut().unwrap().remove("nonce");
    let made_up = claims(&issuer, "n1.game.99999999999.00.00", "alice");
    for (claims, reason) in [
        (no_nonce, "no login nonce"),
        (made_up, "not made by this server"),
    ] {
        let (status, body) = login_for(&http, &host, &sign(&ed, &claims), Some("game")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(reason), "{message}");
    }
    host.stop().await;
}

/// A code from the stub provider's authorization endpoint for `challenge` and `nonce`, as the
/// user's continue link carries it.
async fn authorization_code(
    http: &reqwest::Client,
    issuer: &str,
    redirect_uri: &str,
    challenge: &str,
    nonce: &str,
) -> String {
    let page = http
        .get(format!("{issuer}/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", stub_oidc::CLIENT_ID),
            ("redirect_uri", redirect_uri),
            ("scope", "openid"),
            ("state", "s1"),
            ("nonce", nonce),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let code = page.split("?code=").nth(1).expect("a continue link");
    code.split('&').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_authorization_code_logs_in_once_with_its_verifier() {
    use sha2::Digest as _;
    let provider = stub_oidc::StubOidc::start().await;
    let port = mpcw_tests::free_port();
    let host = Host::start_with(mpcw_host::config::Config {
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        public_url: Some(format!("http://localhost:{port}")),
        dev_login: Some(false),
        oidc: vec![OidcProvider {
            name: "stub".into(),
            issuer: provider.issuer.clone(),
            audiences: vec![stub_oidc::CLIENT_ID.into()],
            client_id: Some(stub_oidc::CLIENT_ID.into()),
            ..Default::default()
        }],
        ..mpcw_tests::config(temp_dir("oidc-code"))
    })
    .await;
    let http = mpcw_tests::dapp::http();
    let options: Value = http
        .get(format!("{}/v1/auth/providers", host.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(options["dev_login"], false);
    assert_eq!(options["wechat"], false);
    assert_eq!(
        options["oidc"],
        json!([{"name": "stub", "label": "stub", "client_id": stub_oidc::CLIENT_ID,
            "authorization_endpoint": format!("{}/authorize", provider.issuer), "scope": "openid"}])
    );

    let redirect_uri = format!("http://localhost:{port}/bridge");
    let verifier = b64(&[7u8; 32]);
    let challenge = b64(&sha2::Sha256::digest(verifier.as_bytes()));
    let redeem = |code: String, verifier: String, redirect_uri: String| {
        let r = http.post(format!("{}/v1/auth/oidc/code", host.url)).json(
            &json!({"provider": "stub", "code": code, "code_verifier": verifier,
                "redirect_uri": redirect_uri}),
        );
        async move {
            let r = r.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let nonce = login_nonce(&http, &host, None).await;
    let code = authorization_code(&http, &provider.issuer, &redirect_uri, &challenge, &nonce).await;

    // Another verifier: the provider refuses, and the code is spent.
    let (status, body) = redeem(code.clone(), b64(&[8u8; 32]), redirect_uri.clone()).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body.to_string().contains("PKCE verification failed"),
        "{body}"
    );
    assert_eq!(provider.refused(), 1);

    // A redirect URI off the server's origin, or a malformed verifier: refused here.
    let code = authorization_code(&http, &provider.issuer, &redirect_uri, &challenge, &nonce).await;
    let (status, _) = redeem(
        code.clone(),
        verifier.clone(),
        "https://evil.example/bridge".into(),
    )
    .await;
    assert_eq!(status, 422);
    let (status, body) = redeem(code.clone(), "short".into(), redirect_uri.clone()).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(provider.refused(), 1, "nothing was sent to the provider");

    // The right verifier logs in, once.
    let (status, body) = redeem(code.clone(), verifier.clone(), redirect_uri.clone()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["subject"], format!("oidc:stub:{}", stub_oidc::SUBJECT));
    let (status, body) = redeem(code, verifier.clone(), redirect_uri.clone()).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.to_string().contains("invalid_grant"), "{body}");
    assert_eq!(provider.redeemed(), 1);
    host.stop().await;
}
