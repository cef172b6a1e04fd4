//! The HTTP API, versioned under `/v1`. Every error is JSON with a stable code (see
//! [`error::ApiError`]); bodies are size-limited and every request has a deadline.

mod auth;
mod bridge;
pub mod client;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod recovery;
mod reshare;
mod sessions;
pub mod signing;
mod system;
mod transfers;
mod views;
mod wallets;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;

use crate::state::{AppState, Metrics};
use error::ApiError;

pub use bridge::{settle_failed_bridges, sweep_expiries as sweep_bridge_expiries};
pub use recovery::escrow::{EscrowMethod, EscrowView, OpenEscrow, OpenedEscrow, PutEscrow};
pub use recovery::{CancelRecovery, RecoveryView, SecurityEvent, CANCEL_RECOVERY, SECURITY_SENDER};
pub use views::*;

/// The largest body a login route takes.
pub const LOGIN_BODY_BYTES: usize = 64 << 10;

/// The API's routes over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.max_body_bytes;
    // Logins, whose bodies are small: a code, or an ID token of a few kilobytes.
    let logins = Router::new()
        .route("/v1/auth/dev", post(auth::dev_login))
        .route("/v1/auth/oidc", post(auth::oidc_login))
        .route("/v1/auth/oidc/nonce", post(auth::oidc_nonce))
        .route("/v1/auth/oidc/code", post(auth::oidc_code_login))
        .route("/v1/auth/providers", get(auth::providers))
        .route("/v1/auth/wechat", post(auth::wechat_login))
        .route("/v1/auth/alipay", post(auth::alipay_login))
        .layer(DefaultBodyLimit::max(LOGIN_BODY_BYTES));
    // What a client may ask before it has a login (or, for `bridge/open`, with a login anyone
    // can get): limited per client address.
    let per_client = Router::new()
        .route("/v1/chains", get(system::chains))
        .route("/v1/openapi.json", get(system::openapi))
        .route("/.well-known/jwks.json", get(auth::jwks))
        .route("/v1/bridge/open", post(bridge::open))
        .route("/v1/bridge/peek", post(bridge::entries::peek))
        .route("/v1/qr.svg", get(system::qr_svg))
        .route("/v1/qr.png", get(system::qr_png))
        .merge(logins)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            client::limit_per_client,
        ));
    Router::new()
        .route("/v1/health", get(system::health))
        .route("/v1/metrics", get(system::metrics))
        .merge(per_client)
        .route("/v1/wallets", post(wallets::create).get(wallets::list))
        .route("/v1/wallets/{id}", get(wallets::show))
        .route("/v1/wallets/{id}/addresses", get(wallets::addresses))
        .route("/v1/wallets/{id}/signatures", post(signing::start))
        .route("/v1/wallets/{id}/preview", post(transfers::preview))
        .route("/v1/signatures/{id}/broadcast", post(transfers::broadcast))
        .route("/v1/networks/{network}/rpc", post(transfers::rpc))
        .route("/v1/wallets/{id}/reshare", post(reshare::start))
        .route(
            "/v1/wallets/{id}/escrow",
            get(recovery::escrow::show)
                .put(recovery::escrow::put)
                .delete(recovery::escrow::remove),
        )
        .route("/v1/wallets/{id}/escrow/open", post(recovery::escrow::open))
        .route("/v1/wallets/{id}/recoveries", post(recovery::ask))
        .route(
            "/v1/wallets/{id}/recoveries/{rid}/cancel",
            post(recovery::cancel),
        )
        .route("/v1/recoveries", get(recovery::list))
        .route("/v1/signatures/{id}", get(signing::show))
        .route("/v1/bridge/requests", post(bridge::create))
        .route("/v1/bridge/requests/{id}", get(bridge::show))
        .route("/v1/bridge/requests/{id}/events", get(bridge::events))
        .route("/v1/bridge/requests/{id}/reject", post(bridge::reject))
        .route(
            "/v1/bridge/requests/{id}/wechat/code",
            get(bridge::entries::wechat_code),
        )
        .route(
            "/v1/bridge/requests/{id}/wechat/link",
            get(bridge::entries::wechat_link),
        )
        .route(
            "/v1/bridge/requests/{id}/alipay/code",
            get(bridge::entries::alipay_code),
        )
        .route("/v1/bridge/connect", post(bridge::connect::create))
        .route("/v1/bridge/rpc/{network}", post(bridge::rpc))
        .route(
            "/v1/bridge/requests/{id}/connect",
            post(bridge::connect::approve),
        )
        .route(
            "/v1/bridge/connections/{id}",
            get(bridge::connect::show).delete(bridge::connect::disconnect),
        )
        .route("/v1/connections", get(bridge::connect::list))
        .route("/v1/connections/{id}", delete(bridge::connect::revoke))
        .route("/v1/bridge/callback-key", get(bridge::callback_key))
        .route("/v1/sessions/{id}", get(sessions::show))
        .route(
            "/v1/sessions/{id}/messages",
            post(sessions::post_messages).get(sessions::fetch_messages),
        )
        .merge(signer(&state))
        .fallback(|| async { ApiError::not_found("route") })
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            deadline_and_count,
        ))
        .with_state(state)
}

/// The web signer's static files at `/signer/`, and its page at `/bridge` (the bridge's deep
/// link), when it is built.
fn signer(state: &AppState) -> Router<Arc<AppState>> {
    let Some(dir) = state.config.signer_dir() else {
        return Router::new();
    };
    let index = dir.join("index.html");
    Router::new()
        .nest_service("/signer", tower_http::services::ServeDir::new(&dir))
        .route_service("/bridge", tower_http::services::ServeFile::new(index))
}

/// Give every request the configured deadline, and count answers by class.
async fn deadline_and_count(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let limit = Duration::from_secs(state.config.request_timeout_secs);
    let response = match tokio::time::timeout(limit, next.run(request)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took too long",
        )
        .into_response(),
    };
    let m = &state.metrics;
    Metrics::inc(&m.http_requests);
    if response.status().is_client_error() {
        Metrics::inc(&m.http_client_errors);
    } else if response.status().is_server_error() {
        Metrics::inc(&m.http_server_errors);
    }
    response
}
