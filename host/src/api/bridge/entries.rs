//! The mini-programs' ways into a bridge request (see [`crate::bridge::entries`]):
//!
//! - `GET /v1/bridge/requests/{id}/wechat/code` (Dapp): the WeChat mini-program code, an image.
//! - `GET /v1/bridge/requests/{id}/wechat/link` (Dapp): the WeChat URL scheme.
//! - `GET /v1/bridge/requests/{id}/alipay/code` (Dapp): the Alipay mini-program code's URL and
//!   the `alipays://` link.
//! - `POST /v1/bridge/peek` (no login): which Dapp and network a token's request is for, so a
//!   mini-program opened by a code knows which Dapp to log the user in for before it uses the
//!   token. It tells no more than the web link's own query does.
//!
//! Entries are given while the request waits to be opened; a platform that refuses or fails is
//! reported as 502 with its code and message.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::api::error::ApiError;
use crate::api::extract::{token_hash, ApiJson, DappCaller};
use crate::api::views::{AlipayCodeView, PeekBridge, PeekedBridge, WechatLinkView};
use crate::bridge::entries::{entry_token, EntryRequest, PlatformError};
use crate::bridge::BridgeState;
use crate::state::{now, AppState};

impl From<PlatformError> for ApiError {
    fn from(e: PlatformError) -> Self {
        tracing::warn!(error = %e, "mini-program entry");
        let code = match e {
            PlatformError::Refused { .. } => "platform_refused",
            PlatformError::Unavailable { .. } => "platform_unavailable",
        };
        ApiError::new(StatusCode::BAD_GATEWAY, code, e.to_string())
    }
}

/// The calling Dapp's request `id`, still waiting to be opened, with its entry token.
async fn waiting(state: &AppState, dapp: &str, id: &str) -> Result<EntryRequest, ApiError> {
    let request = state
        .bridge
        .get(id)
        .await?
        .filter(|r| r.dapp == dapp)
        .ok_or_else(|| ApiError::not_found("bridge request"))?;
    if request.expires_at <= now() {
        return Err(ApiError::gone("the bridge request has expired"));
    }
    if !matches!(request.state, BridgeState::Pending) {
        return Err(ApiError::conflict(format!(
            "the bridge request is {}: it can no longer be opened",
            request.state_name()
        )));
    }
    Ok(EntryRequest {
        token: entry_token(&state.kek, &state.config.kek_id, &request.id),
        id: request.id,
        expires_at: request.expires_at,
    })
}

fn not_configured(platform: &str) -> ApiError {
    ApiError::unprocessable(
        "platform_not_configured",
        format!("{platform} mini-program entries are not configured on this server"),
    )
}

/// Seconds until `expires_at`, for caching headers.
fn max_age(expires_at: i64) -> String {
    format!("private, max-age={}", (expires_at - now()).max(0))
}

/// `GET /v1/bridge/requests/{id}/wechat/code`.
pub async fn wechat_code(
    State(state): State<Arc<AppState>>,
    DappCaller(dapp): DappCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let request = waiting(&state, &dapp, &id).await?;
    let code = state
        .entries
        .wechat_code(&request)
        .await
        .ok_or_else(|| not_configured("WeChat"))??;
    Ok((
        [
            (header::CONTENT_TYPE, code.content_type.clone()),
            (header::CACHE_CONTROL, max_age(request.expires_at)),
        ],
        code.image.clone(),
    )
        .into_response())
}

/// `GET /v1/bridge/requests/{id}/wechat/link`.
pub async fn wechat_link(
    State(state): State<Arc<AppState>>,
    DappCaller(dapp): DappCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let request = waiting(&state, &dapp, &id).await?;
    let link = state
        .entries
        .wechat_link(&request)
        .await
        .ok_or_else(|| not_configured("WeChat"))??;
    Ok((
        [(header::CACHE_CONTROL, max_age(request.expires_at))],
        Json(WechatLinkView {
            openlink: link.openlink.clone(),
            expires_at: request.expires_at,
        }),
    )
        .into_response())
}

/// `GET /v1/bridge/requests/{id}/alipay/code`.
pub async fn alipay_code(
    State(state): State<Arc<AppState>>,
    DappCaller(dapp): DappCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let request = waiting(&state, &dapp, &id).await?;
    let code = state
        .entries
        .alipay_code(&request)
        .await
        .ok_or_else(|| not_configured("Alipay"))??;
    Ok((
        [(header::CACHE_CONTROL, max_age(request.expires_at))],
        Json(AlipayCodeView {
            qr_code_url: code.qr_code_url.clone(),
            scheme: code.scheme.clone(),
            expires_at: request.expires_at,
        }),
    )
        .into_response())
}

/// `POST /v1/bridge/peek`.
pub async fn peek(
    State(state): State<Arc<AppState>>,
    ApiJson(body): ApiJson<PeekBridge>,
) -> Result<impl IntoResponse, ApiError> {
    let request = state
        .bridge
        .peek_token(&token_hash(&body.token))
        .await?
        .filter(|r| matches!(r.state, BridgeState::Pending))
        .ok_or_else(|| ApiError::gone("the bridge token is unknown or was already used"))?;
    if request.expires_at <= now() {
        return Err(ApiError::gone("the bridge request has expired"));
    }
    let dapp = state
        .dapps
        .get(&request.dapp)
        .map_err(|e| ApiError::internal("reading the Dapp registry", e))?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(PeekedBridge {
            dapp: dapp.id.clone(),
            dapp_name: dapp.name.clone(),
            network: request.network.clone(),
            action: request.action().to_owned(),
            expires_at: request.expires_at,
        }),
    ))
}
