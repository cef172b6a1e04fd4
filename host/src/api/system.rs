//! Health, metrics, the network list and the development login.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

use super::error::ApiError;
use super::extract::{token_hash, ApiJson};
use super::views::{DevLogin, TokenView};
use crate::state::{now, random_token, AppState};

/// `GET /v1/health`: the database answers and the plugins are loaded.
pub async fn health(State(state): State<Arc<AppState>>) -> Result<impl IntoResponse, ApiError> {
    state.store.ping().await?;
    Ok(Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "database": state.store.kind(),
        "plugins": state.runtime.plugins().len(),
        "networks": state.registry.len(),
    })))
}

/// `GET /v1/metrics`: Prometheus text.
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let text = state.metrics.render(&[
        (
            "mpcw_sessions_running",
            "Protocol sessions in progress",
            state.sessions.running() as u64,
        ),
        (
            "mpcw_paillier_primes_ready",
            "Paillier primes ready for ECDSA key generation",
            state.primes.len() as u64,
        ),
    ]);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

/// The API's OpenAPI 3.1 document, checked in as `host/openapi.json`.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// `GET /v1/openapi.json`.
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// `GET /v1/chains`: the networks and the plugin and scheme of each.
pub async fn chains(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let list: Vec<_> = state
        .registry
        .iter()
        .map(|n| {
            serde_json::json!({
                "id": n.id,
                "name": n.name,
                "plugin": n.plugin,
                "scheme": n.scheme.name(),
                "chain_id": n.chain_id,
                "symbol": n.symbol,
                "decimals": n.decimals,
                "derivation_path": n.derivation_path,
                "testnet": n.testnet,
            })
        })
        .collect();
    Json(serde_json::json!({ "networks": list }))
}

/// `POST /v1/auth/dev`: a token for any subject, when `dev_login` is on. Real deployments turn
/// it off and log users in through their identity provider.
pub async fn dev_login(
    State(state): State<Arc<AppState>>,
    ApiJson(body): ApiJson<DevLogin>,
) -> Result<impl IntoResponse, ApiError> {
    if !state.config.dev_login {
        return Err(ApiError::forbidden("development login is turned off"));
    }
    let subject = body.subject.trim();
    if subject.is_empty()
        || subject.len() > 128
        || !subject
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@:".contains(c))
    {
        return Err(ApiError::unprocessable(
            "invalid_request",
            "subject must be 1 to 128 letters, digits or -_.@:",
        ));
    }
    let subject = format!("dev:{subject}");
    let token = random_token();
    let expires_at = now() + state.config.token_ttl_secs as i64;
    state
        .store
        .insert_token(&token_hash(&token), &subject, expires_at)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenView {
            access_token: token.to_string(),
            subject,
            expires_at,
        }),
    ))
}
