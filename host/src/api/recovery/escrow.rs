//! The escrowed recovery share: the device seals the wallet's recovery share under a secret
//! the host never sees and cannot guess offline (a passkey's PRF output, or a generated
//! recovery code of at least 128 bits), and leaves the sealed text here, apart from the
//! server's own shares. With it the device also leaves a *verifier*: SHA-256 of a proof it
//! derives from the same secret. A new device that knows the secret presents the proof and gets
//! the sealed text back; a wrong proof is refused, recorded, and counted against the limits per
//! user and per client, so a stolen login cannot even fetch the blob, and guesses are slow.
//!
//! - `PUT /v1/wallets/{id}/escrow`: escrow (or replace) the sealed share.
//! - `GET /v1/wallets/{id}/escrow`: how it is sealed (method, passkey credential id), not the
//!   sealed text.
//! - `POST /v1/wallets/{id}/escrow/open`: the sealed text, for the proof.
//! - `DELETE /v1/wallets/{id}/escrow`.
//!
//! A share sealed under a typed password is never escrowed: whoever holds the host's database
//! could try passwords offline, and then hold two shares. The API takes `passkey` or `code`
//! only; which secret the device used is its word, and the SDKs never seal an escrowed share
//! under anything else.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use mpcw_engine::vault::{KeySource, SealedBox};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::record;
use crate::api::client::ClientAddr;
use crate::api::error::ApiError;
use crate::api::extract::{count, ApiJson, Subject};
use crate::api::wallets::{owned_wallet, ready_key, wallet_view};
use crate::state::{now, AppState};
use crate::store::EscrowRow;

/// The largest sealed share taken, bytes. An ECDSA (DKLs23) share carries oblivious-transfer
/// state for every other party: 137 KiB at 2-of-3 and 274 KiB at 3-of-5 (engine/README.md),
/// about twice that sealed as text, growing with the parties to about 2 MiB sealed at 16.
const MAX_SEALED_BYTES: usize = 4 << 20;

/// What the recovery share is sealed under.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EscrowMethod {
    /// A passkey's WebAuthn PRF output (the passkey syncs to the user's new device).
    Passkey,
    /// A generated recovery code (12 BIP-39 words: 128 bits), written down by the user.
    Code,
}

impl EscrowMethod {
    fn name(self) -> &'static str {
        match self {
            Self::Passkey => "passkey",
            Self::Code => "code",
        }
    }

    fn parse(name: &str) -> Result<Self, ApiError> {
        match name {
            "passkey" => Ok(Self::Passkey),
            "code" => Ok(Self::Code),
            "password" => Err(ApiError::unprocessable(
                "password_not_escrowed",
                "a share sealed under a typed password is never escrowed: the host could try \
                 passwords offline. Seal it under a passkey or a recovery code, or keep it as a file",
            )),
            other => Err(invalid(format!(
                "method must be `passkey` or `code`, not {other:?}"
            ))),
        }
    }
}

/// Body of `PUT /v1/wallets/{id}/escrow`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutEscrow {
    /// `passkey` or `code` (`password` is refused with `password_not_escrowed`).
    pub method: String,
    /// The passkey's credential id (base64url), for `passkey`: a new device asks for it.
    #[serde(default)]
    pub credential_id: Option<String>,
    /// SHA-256 (64 hex digits) of the proof the device derives from the sealing secret.
    pub verifier: String,
    /// The recovery share as `DeviceSecret.seal` made it (a password-sealed box whose label
    /// names this wallet).
    pub sealed: String,
}

/// How a wallet's recovery share is escrowed (never the sealed text).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct EscrowView {
    /// The wallet.
    pub wallet: String,
    /// What it is sealed under.
    pub method: EscrowMethod,
    /// The passkey's credential id, for `passkey`.
    pub credential_id: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// Body of `POST /v1/wallets/{id}/escrow/open`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenEscrow {
    /// The proof (64 hex digits) whose SHA-256 is the verifier.
    pub proof: String,
}

/// Answer to `POST /v1/wallets/{id}/escrow/open`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OpenedEscrow {
    /// How it is escrowed.
    #[serde(flatten)]
    pub escrow: EscrowView,
    /// The sealed recovery share.
    pub sealed: String,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::unprocessable("invalid_request", message)
}

fn view(row: &EscrowRow) -> Result<EscrowView, ApiError> {
    Ok(EscrowView {
        wallet: row.wallet_id.clone(),
        method: EscrowMethod::parse(&row.method)
            .map_err(|e| ApiError::internal("reading an escrow", e.message))?,
        credential_id: row.credential_id.clone(),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn hex32(what: &str, text: &str) -> Result<[u8; 32], ApiError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut out)
        .map_err(|_| invalid(format!("{what} must be 64 hex digits")))?;
    Ok(out)
}

/// The escrow of `owner`'s wallet `wallet_id`, or 404 (for another owner's wallet too).
async fn stored(state: &AppState, wallet_id: &str, owner: &str) -> Result<EscrowRow, ApiError> {
    owned_wallet(state, wallet_id, owner).await?;
    state
        .store
        .escrow(wallet_id, owner)
        .await?
        .ok_or_else(|| ApiError::not_found("escrow"))
}

/// `PUT /v1/wallets/{id}/escrow`.
pub async fn put(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    ClientAddr(client): ClientAddr,
    Path(wallet_id): Path<String>,
    ApiJson(body): ApiJson<PutEscrow>,
) -> Result<Json<EscrowView>, ApiError> {
    let method = EscrowMethod::parse(&body.method)?;
    match (method, &body.credential_id) {
        (EscrowMethod::Passkey, None) => {
            return Err(invalid(
                "a passkey escrow needs the passkey's credential_id",
            ))
        }
        (EscrowMethod::Code, Some(_)) => return Err(invalid("a code escrow has no credential_id")),
        (_, Some(id)) if id.is_empty() || id.len() > 1024 => {
            return Err(invalid("credential_id must be 1 to 1024 characters"))
        }
        _ => {}
    }
    hex32("verifier", &body.verifier)?;
    if body.sealed.len() > MAX_SEALED_BYTES {
        return Err(invalid(format!(
            "sealed is larger than {MAX_SEALED_BYTES} bytes"
        )));
    }
    let sealed: SealedBox = serde_json::from_str(&body.sealed)
        .map_err(|e| invalid(format!("sealed is not a sealed box: {e}")))?;
    if !matches!(sealed.key, KeySource::Argon2id { .. }) {
        return Err(invalid(
            "sealed must be sealed by the device, under its secret",
        ));
    }
    let row = owned_wallet(&state, &wallet_id, &owner).await?;
    let wallet = wallet_view(&row)?;
    ready_key(&wallet)?;
    let recovery_label = format!("mpcw/device-share/{wallet_id}/");
    if !sealed.label.starts_with(&recovery_label) {
        return Err(invalid(format!(
            "sealed holds {:?}, not a share of wallet {wallet_id}",
            sealed.label
        )));
    }
    let at = now();
    let created_at = match state.store.escrow(&wallet_id, &owner).await? {
        Some(old) => old.created_at,
        None => at,
    };
    let escrow = EscrowRow {
        wallet_id: wallet_id.clone(),
        owner: owner.clone(),
        method: method.name().to_owned(),
        credential_id: body.credential_id,
        verifier: body.verifier.trim().to_ascii_lowercase(),
        sealed: body.sealed,
        created_at,
        updated_at: at,
    };
    state.store.put_escrow(&escrow).await?;
    record(
        &state,
        &owner,
        &wallet_id,
        ("escrow_saved", "done"),
        client,
        None,
    )
    .await?;
    Ok(Json(view(&escrow)?))
}

/// `GET /v1/wallets/{id}/escrow`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    Path(wallet_id): Path<String>,
) -> Result<Json<EscrowView>, ApiError> {
    Ok(Json(view(&stored(&state, &wallet_id, &owner).await?)?))
}

/// `DELETE /v1/wallets/{id}/escrow`.
pub async fn remove(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    Path(wallet_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    owned_wallet(&state, &wallet_id, &owner).await?;
    if state.store.delete_escrow(&wallet_id, &owner).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("escrow"))
    }
}

/// `POST /v1/wallets/{id}/escrow/open`: every attempt counts against the user's and the
/// client's limits, right or wrong.
pub async fn open(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    ClientAddr(client): ClientAddr,
    Path(wallet_id): Path<String>,
    ApiJson(body): ApiJson<OpenEscrow>,
) -> Result<Json<OpenedEscrow>, ApiError> {
    if let Some(limiter) = &state.escrow_limiter {
        count(limiter, &format!("user:{owner}"))?;
        if let Some(ip) = client {
            count(limiter, &format!("client:{ip}"))?;
        }
    }
    let proof = hex32("proof", &body.proof)?;
    let row = stored(&state, &wallet_id, &owner).await?;
    let verifier = hex32("the stored verifier", &row.verifier)
        .map_err(|e| ApiError::internal("reading an escrow", e.message))?;
    let given: [u8; 32] = Sha256::digest(proof).into();
    if !bool::from(given.ct_eq(&verifier)) {
        record(
            &state,
            &owner,
            &wallet_id,
            ("escrow_refused", "refused"),
            client,
            None,
        )
        .await?;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_recovery_secret",
            "the passkey or recovery code does not open this wallet's escrow",
        ));
    }
    record(
        &state,
        &owner,
        &wallet_id,
        ("escrow_opened", "done"),
        client,
        None,
    )
    .await?;
    Ok(Json(OpenedEscrow {
        escrow: view(&row)?,
        sealed: row.sealed,
    }))
}
