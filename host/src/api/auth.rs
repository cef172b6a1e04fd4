//! Logging in: an identity the user already has becomes a short-lived access token of the host
//! (`POST /v1/auth/oidc`, `/v1/auth/wechat`, `/v1/auth/alipay`, and `/v1/auth/dev` for local
//! use), and the keys that verify the host's tokens (`GET /.well-known/jwks.json`). The web
//! signer learns how users can log in here from `GET /v1/auth/providers`, and finishes an
//! OpenID Connect authorization code flow (with PKCE) with `POST /v1/auth/oidc/code`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

use super::error::ApiError;
use super::extract::ApiJson;
use super::views::{
    AlipayLogin, DevLogin, LoginOptions, NonceRequest, NonceView, OidcCodeLogin, OidcLogin,
    TokenView, WechatLogin,
};
use crate::auth::alipay::AlipayError;
use crate::auth::dapps::DappError;
use crate::auth::nonce::LoginNonces;
use crate::auth::oidc::OidcError;
use crate::auth::wechat::WechatError;
use crate::state::{now, AppState};

/// The Dapp a login is for, checked against the registry and the request's `Origin`: one of
/// the Dapp's own origins, or the host's (its web signer logs users in for any Dapp).
fn login_dapp(
    state: &AppState,
    headers: &HeaderMap,
    dapp: Option<&str>,
) -> Result<Option<String>, ApiError> {
    let Some(id) = dapp else {
        return Ok(None);
    };
    let own = url::Url::parse(&state.config.public_url())
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let origin = headers
        .get(header::ORIGIN)
        .map(|o| o.to_str().unwrap_or("<not text>"))
        .filter(|o| o.trim_end_matches('/') != own);
    state.dapps.check_login(id, origin).map_err(|e| match e {
        DappError::Origin { .. } => ApiError::forbidden(e.to_string()),
        _ => ApiError::unprocessable("unknown_dapp", e.to_string()),
    })?;
    Ok(Some(id.to_owned()))
}

/// The host's access token for `subject`, logged in for `dapp`.
fn token_for(
    state: &AppState,
    subject: String,
    dapp: Option<String>,
) -> Result<impl IntoResponse, ApiError> {
    let (token, expires_at) = state
        .tokens
        .mint(&subject, dapp.as_deref(), now())
        .map_err(|e| ApiError::internal("minting an access token", e))?;
    tracing::info!(%subject, dapp = dapp.as_deref().unwrap_or("-"), "logged in");
    Ok((
        StatusCode::CREATED,
        Json(TokenView {
            access_token: token.to_string(),
            subject,
            dapp,
            expires_at,
        }),
    ))
}

/// `POST /v1/auth/dev`: a token for any subject, when `dev_login` is on. Real deployments turn
/// it off and log users in through their identity provider.
pub async fn dev_login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<DevLogin>,
) -> Result<impl IntoResponse, ApiError> {
    if !state.config.dev_login_enabled() {
        return Err(ApiError::forbidden("development login is turned off"));
    }
    let dapp = login_dapp(&state, &headers, body.dapp.as_deref())?;
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
    token_for(&state, format!("dev:{subject}"), dapp)
}

/// `POST /v1/auth/oidc/nonce`: a nonce for a login for the Dapp (or none), which the page
/// passes to the identity provider and the ID token then carries.
pub async fn oidc_nonce(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NonceRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let dapp = login_dapp(&state, &headers, body.dapp.as_deref())?;
    let (nonce, expires_at) = LoginNonces::new(&state.kek).issue(dapp.as_deref(), now());
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(NonceView { nonce, expires_at }),
    ))
}

/// `POST /v1/auth/oidc`: log in with an ID token of a configured OpenID Connect provider, which
/// must carry a login nonce for the same Dapp (see [`oidc_nonce`]). The subject is
/// `oidc:<provider>:<sub>`.
pub async fn oidc_login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<OidcLogin>,
) -> Result<impl IntoResponse, ApiError> {
    let dapp = login_dapp(&state, &headers, body.dapp.as_deref())?;
    let claims = state.oidc.verify(&body.provider, &body.id_token).await;
    oidc_token(&state, &body.provider, claims, dapp)
}

/// The host's token for a checked ID token of `provider` whose login nonce is for `dapp`: the
/// subject is `oidc:<provider>:<sub>`.
fn oidc_token(
    state: &AppState,
    provider: &str,
    claims: Result<crate::auth::oidc::IdClaims, OidcError>,
    dapp: Option<String>,
) -> Result<impl IntoResponse, ApiError> {
    let claims = claims.map_err(|e| match e {
        OidcError::UnknownProvider(_) => ApiError::unprocessable("unknown_provider", e.to_string()),
        OidcError::Rejected(m) => ApiError::unauthorized(m),
        OidcError::Unavailable(_) => provider_unavailable(provider, e),
    })?;
    LoginNonces::new(&state.kek)
        .check(claims.nonce.as_deref(), dapp.as_deref(), now())
        .map_err(|e| ApiError::unauthorized(e.to_string()))?;
    token_for(state, format!("oidc:{provider}:{}", claims.sub), dapp)
}

/// `GET /v1/auth/providers`.
pub async fn providers(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "no-cache")],
        Json(LoginOptions {
            dev_login: state.config.dev_login_enabled(),
            oidc: state.oidc.code_flows().await,
            wechat: state.wechat.is_some(),
            alipay: state.alipay.is_some(),
        }),
    )
}

/// `POST /v1/auth/oidc/code`: redeem an authorization code (with the page's PKCE verifier) at
/// the provider, and log in with the ID token it gives, which must carry a login nonce for
/// the same Dapp. The redirect URI must be on the server's own origin: the web signer's.
pub async fn oidc_code_login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<OidcCodeLogin>,
) -> Result<impl IntoResponse, ApiError> {
    let dapp = login_dapp(&state, &headers, body.dapp.as_deref())?;
    let origin = |u: &str| url::Url::parse(u).map(|u| u.origin());
    match (
        origin(&body.redirect_uri),
        origin(&state.config.public_url()),
    ) {
        (Ok(a), Ok(b)) if a == b => {}
        _ => {
            return Err(ApiError::unprocessable(
                "invalid_request",
                "redirect_uri must be on this server's origin (its web signer)",
            ))
        }
    }
    let redeem = crate::auth::oidc::code::Redeem {
        provider: &body.provider,
        code: &body.code,
        code_verifier: &body.code_verifier,
        redirect_uri: &body.redirect_uri,
    };
    let claims = state.oidc.redeem(&redeem).await;
    oidc_token(&state, &body.provider, claims, dapp)
}

/// A provider that could not be asked, or whose answer cannot be trusted: 502.
fn provider_unavailable(provider: &str, error: impl std::fmt::Display) -> ApiError {
    tracing::warn!(provider, error = %error, "identity provider unavailable");
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        "provider_unavailable",
        error.to_string(),
    )
}

fn not_configured(provider: &str) -> ApiError {
    ApiError::unprocessable(
        "unknown_provider",
        format!("{provider} login is not configured on this server"),
    )
}

/// `POST /v1/auth/wechat`: log in with the code from `wx.login()`. The subject is
/// `wechat:<app id>:<openid>`; WeChat's session key is never returned.
pub async fn wechat_login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<WechatLogin>,
) -> Result<impl IntoResponse, ApiError> {
    let dapp = login_dapp(&state, &headers, body.dapp.as_deref())?;
    let wechat = state
        .wechat
        .as_ref()
        .ok_or_else(|| not_configured("WeChat"))?;
    let user = wechat.login(&body.code).await.map_err(|e| match e {
        WechatError::Refused { .. } => ApiError::unauthorized(e.to_string()),
        WechatError::Unavailable(_) => provider_unavailable("wechat", e),
    })?;
    token_for(&state, wechat.subject(&user), dapp)
}

/// `POST /v1/auth/alipay`: log in with an Alipay auth code. The subject is
/// `alipay:<app id>:<open_id>`.
pub async fn alipay_login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AlipayLogin>,
) -> Result<impl IntoResponse, ApiError> {
    let dapp = login_dapp(&state, &headers, body.dapp.as_deref())?;
    let alipay = state
        .alipay
        .as_ref()
        .ok_or_else(|| not_configured("Alipay"))?;
    let user = alipay.login(&body.auth_code).await.map_err(|e| match e {
        AlipayError::Refused { .. } => ApiError::unauthorized(e.to_string()),
        AlipayError::Untrusted(_) | AlipayError::Unavailable(_) => {
            provider_unavailable("alipay", e)
        }
    })?;
    token_for(&state, alipay.subject(&user), dapp)
}

/// `GET /.well-known/jwks.json`: the public keys of the host's access tokens.
pub async fn jwks(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/jwk-set+json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        Json(state.tokens.jwks().clone()),
    )
}
