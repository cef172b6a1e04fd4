//! An OpenID Connect provider on loopback for the web signer's login: discovery, a JWK set, an
//! authorization endpoint that asks the user to continue (a page with a link back, carrying a
//! single-use code) and a token endpoint that gives an ES256 ID token only for the code with
//! the right client, redirect URI and PKCE verifier (S256, RFC 7636), as providers do.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use sha2::Digest as _;

/// The client id the signer is registered with.
pub const CLIENT_ID: &str = "mpcw-web-signer";
/// The user the provider logs in.
pub const SUBJECT: &str = "alice-at-stub";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A code handed out, and what its redemption must match.
struct Grant {
    redirect_uri: String,
    challenge: String,
    nonce: String,
}

struct Inner {
    issuer: String,
    key: EncodingKey,
    jwk: Value,
    codes: Mutex<HashMap<String, Grant>>,
    /// Codes redeemed, and redemptions refused.
    redeemed: AtomicU32,
    refused: AtomicU32,
}

/// The running provider.
pub struct StubOidc {
    /// Its issuer URL.
    pub issuer: String,
    inner: Arc<Inner>,
}

impl StubOidc {
    /// Start it on a free loopback port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let secret = p256::SecretKey::random(&mut rand_core::OsRng);
        let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(
            &secret.public_key(),
            false,
        );
        let der = p256::pkcs8::EncodePrivateKey::to_pkcs8_der(&secret).unwrap();
        let inner = Arc::new(Inner {
            issuer: issuer.clone(),
            key: EncodingKey::from_ec_der(der.as_bytes()),
            jwk: json!({"kty": "EC", "crv": "P-256", "kid": "stub-1", "use": "sig", "alg": "ES256",
                "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())}),
            codes: Mutex::new(HashMap::new()),
            redeemed: AtomicU32::new(0),
            refused: AtomicU32::new(0),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { issuer, inner }
    }

    /// Codes redeemed.
    pub fn redeemed(&self) -> u32 {
        self.inner.redeemed.load(Ordering::SeqCst)
    }

    /// Redemptions refused.
    pub fn refused(&self) -> u32 {
        self.inner.refused.load(Ordering::SeqCst)
    }
}

async fn discovery(State(s): State<Arc<Inner>>) -> Json<Value> {
    Json(json!({
        "issuer": s.issuer,
        "authorization_endpoint": format!("{}/authorize", s.issuer),
        "token_endpoint": format!("{}/token", s.issuer),
        "jwks_uri": format!("{}/jwks", s.issuer),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["ES256"],
    }))
}

async fn jwks(State(s): State<Arc<Inner>>) -> Json<Value> {
    Json(json!({"keys": [s.jwk]}))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

/// The authorization endpoint: checks the request and asks the user.
async fn authorize(
    State(s): State<Arc<Inner>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let redirect_uri = get("redirect_uri");
    let bad = |why: &str| (StatusCode::BAD_REQUEST, format!("bad request: {why}")).into_response();
    if get("client_id") != CLIENT_ID {
        return bad("unknown client_id");
    }
    // The registered redirect URI: the signer's /bridge on localhost.
    if !(redirect_uri.starts_with("http://localhost:") && redirect_uri.ends_with("/bridge")) {
        return bad("redirect_uri is not registered");
    }
    if get("response_type") != "code" || !get("scope").split(' ').any(|s| s == "openid") {
        return bad("response_type must be code and scope must have openid");
    }
    if get("code_challenge_method") != "S256" || get("code_challenge").len() != 43 {
        return bad("PKCE with S256 is required");
    }
    if get("nonce").is_empty() || get("state").is_empty() {
        return bad("nonce and state are required");
    }
    let mut code = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut code);
    let code = b64(&code);
    s.codes.lock().unwrap().insert(
        code.clone(),
        Grant {
            redirect_uri: redirect_uri.clone(),
            challenge: get("code_challenge"),
            nonce: get("nonce"),
        },
    );
    let state = urlencoded(&get("state"));
    let back = format!("{redirect_uri}?code={code}&state={state}");
    let deny = format!(
        "{redirect_uri}?error=access_denied&error_description=the+user+said+no&state={state}"
    );
    Html(format!(
        "<!doctype html><meta charset=utf-8><title>Stub identity provider</title>\
         <h1>Stub identity provider</h1><p>mpcw wants to know who you are.</p>\
         <a id=consent href=\"{}\">Continue as Alice</a> <a id=deny href=\"{}\">Cancel</a>",
        escape(&back),
        escape(&deny)
    ))
    .into_response()
}

fn urlencoded(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn token_error(s: &Inner, error: &str, description: &str) -> Response {
    s.refused.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// The token endpoint: the code once, for the same client and redirect URI, with the verifier
/// whose S256 hash is the challenge.
async fn token(State(s): State<Arc<Inner>>, Form(f): Form<HashMap<String, String>>) -> Response {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    if get("grant_type") != "authorization_code" {
        return token_error(&s, "unsupported_grant_type", "authorization_code only");
    }
    if get("client_id") != CLIENT_ID {
        return token_error(&s, "invalid_client", "unknown client");
    }
    let Some(grant) = s.codes.lock().unwrap().remove(&get("code")) else {
        return token_error(&s, "invalid_grant", "unknown or used code");
    };
    if grant.redirect_uri != get("redirect_uri") {
        return token_error(&s, "invalid_grant", "redirect_uri differs");
    }
    if b64(&sha2::Sha256::digest(get("code_verifier").as_bytes())) != grant.challenge {
        return token_error(&s, "invalid_grant", "PKCE verification failed");
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = json!({"iss": s.issuer, "aud": CLIENT_ID, "sub": SUBJECT, "iat": now,
        "exp": now + 300, "nonce": grant.nonce});
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("stub-1".into());
    let id_token = jsonwebtoken::encode(&header, &claims, &s.key).unwrap();
    s.redeemed.fetch_add(1, Ordering::SeqCst);
    Json(
        json!({"access_token": "stub-access", "token_type": "Bearer", "expires_in": 300,
        "id_token": id_token}),
    )
    .into_response()
}
