//! Health, metrics and the network list.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use super::error::ApiError;
use crate::state::AppState;

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
    let text = state.metrics.render(&[(
        "mpcw_sessions_running",
        "Protocol sessions in progress",
        state.sessions.running() as u64,
    )]);
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
                "rpc_url": n.rpc_url,
                "node": state.nodes.has(&n.id),
            })
        })
        .collect();
    Json(serde_json::json!({ "networks": list }))
}

/// `?text=` of a QR code.
#[derive(serde::Deserialize)]
pub struct QrQuery {
    /// What the code says (an address, a link), up to 512 bytes.
    text: String,
}

/// A QR code is a function of its text: a client keeps it as long as it likes, but only for
/// itself (the text may be a bridge link with its token).
const QR_CACHE: &str = "private, max-age=86400, immutable";

fn qr_text(q: &QrQuery) -> Result<&str, ApiError> {
    if q.text.is_empty() || q.text.len() > 512 {
        return Err(ApiError::bad_request("text must be 1 to 512 bytes"));
    }
    Ok(&q.text)
}

/// A QR image answer: its content type and the caching header.
fn qr_image(content_type: &'static str, body: impl IntoResponse) -> axum::response::Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, QR_CACHE),
        ],
        body,
    )
        .into_response()
}

/// `GET /v1/qr.svg?text=…`: a QR code as SVG (the web signer shows addresses with it; a Dapp
/// may show its bridge link with it).
pub async fn qr_svg(
    super::extract::ApiQuery(q): super::extract::ApiQuery<QrQuery>,
) -> Result<axum::response::Response, ApiError> {
    let svg = crate::bridge::qr::svg(qr_text(&q)?)
        .map_err(|e| ApiError::internal("drawing a QR code", e))?;
    Ok(qr_image("image/svg+xml", svg))
}

/// `GET /v1/qr.png?text=…`: the same QR code as a PNG.
pub async fn qr_png(
    super::extract::ApiQuery(q): super::extract::ApiQuery<QrQuery>,
) -> Result<axum::response::Response, ApiError> {
    let png = crate::bridge::qr::png(qr_text(&q)?)
        .map_err(|e| ApiError::internal("drawing a QR code", e))?;
    Ok(qr_image("image/png", png))
}
