//! Connections over HTTP: a Dapp asks for the user's accounts, the user approves with wallets of
//! theirs, and both may read and revoke the connection made.
//!
//! - `POST /v1/bridge/connect` (Dapp): a connect request, opened and rejected like any bridge
//!   request (its link carries `action=connect`).
//! - `POST /v1/bridge/requests/{id}/connect` (signer): approve it with the user's wallets.
//! - `GET` / `DELETE /v1/bridge/connections/{id}` (Dapp): read or revoke (disconnect).
//! - `GET /v1/connections`, `DELETE /v1/connections/{id}` (user): list or revoke.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::status::view_of;
use super::{issue, settle, Issue};
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, DappCaller, Subject};
use crate::api::views::{
    BridgeCreated, BridgeView, ConnectWallets, ConnectionView, CreateConnectRequest,
};
use crate::api::wallets::{derived_key, owned_wallet, ready_key, wallet_view};
use crate::bridge::connection::{
    Account, Connection, ConnectionError, DEFAULT_CONNECTION_TTL_SECS, MAX_CONNECTION_TTL_SECS,
    MAX_CONNECT_NETWORKS,
};
use crate::bridge::ConnectAsk;
use crate::chains::Network;
use crate::state::{now, random_id, AppState};

impl From<ConnectionError> for ApiError {
    fn from(e: ConnectionError) -> Self {
        let message = e.to_string();
        match e {
            ConnectionError::Revoked(_) => {
                ApiError::new(StatusCode::GONE, "connection_revoked", message)
            }
            ConnectionError::Expired(_) => {
                ApiError::new(StatusCode::GONE, "connection_expired", message)
            }
            ConnectionError::NotConnected(..) => {
                ApiError::unprocessable("network_not_connected", message)
            }
        }
    }
}

/// How a connection is shown at `now`.
pub(crate) fn connection_view(c: &Connection, now: i64) -> ConnectionView {
    ConnectionView {
        id: c.id.clone(),
        dapp: c.dapp.clone(),
        status: c.status(now).to_owned(),
        accounts: c.accounts.clone(),
        created_at: c.created_at,
        expires_at: c.expires_at,
        revoked_at: c.revoked_at,
    }
}

/// Dapp `dapp`'s connection `id` and its account on `network`, if it may be used now.
pub(crate) async fn usable_account(
    state: &AppState,
    dapp: &str,
    id: &str,
    network: &str,
) -> Result<(Connection, Account), ApiError> {
    let connection = state.store.connection(id, dapp).await?.ok_or_else(|| {
        ApiError::unprocessable(
            "unknown_connection",
            format!("no connection {id:?} of this Dapp"),
        )
    })?;
    let account = connection.account(network, now())?.clone();
    Ok((connection, account))
}

/// `POST /v1/bridge/connect`.
pub async fn create(
    State(state): State<Arc<AppState>>,
    DappCaller(dapp): DappCaller,
    ApiJson(body): ApiJson<CreateConnectRequest>,
) -> Result<(StatusCode, Json<BridgeCreated>), ApiError> {
    let invalid = |m: String| ApiError::unprocessable("invalid_request", m);
    if body.networks.is_empty() || body.networks.len() > MAX_CONNECT_NETWORKS {
        return Err(invalid(format!(
            "networks must name 1 to {MAX_CONNECT_NETWORKS} networks"
        )));
    }
    if body.networks.iter().collect::<BTreeSet<_>>().len() != body.networks.len() {
        return Err(invalid("networks names a network twice".into()));
    }
    for id in &body.networks {
        if state.registry.get(id).is_none() {
            return Err(ApiError::unprocessable(
                "unknown_network",
                format!("no network {id:?}"),
            ));
        }
    }
    let connection_ttl_secs = body
        .connection_ttl_secs
        .unwrap_or(DEFAULT_CONNECTION_TTL_SECS);
    if !(1..=MAX_CONNECTION_TTL_SECS).contains(&connection_ttl_secs) {
        return Err(invalid(format!(
            "connection_ttl_secs must be 1 to {MAX_CONNECTION_TTL_SECS}"
        )));
    }
    let ask = ConnectAsk {
        networks: body.networks,
        connection_ttl_secs,
    };
    let created = issue(
        &state,
        Issue {
            dapp,
            network: ask.networks[0].clone(),
            request: serde_json::to_value(&ask).expect("a connect request serializes"),
            connect: Some(ask),
            connection: None,
            filled: Vec::new(),
            broadcast: false,
            ttl_secs: body.ttl_secs,
            callback_url: body.callback_url,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// A wallet offered for a connection: its id, scheme and key.
struct Offered {
    id: String,
    scheme: String,
    key: mpcw_engine::PublicKeyInfo,
}

/// The accounts `wallets` of `owner` give on `networks`: for every network, the one wallet of
/// its scheme, at its address.
async fn accounts(
    state: &AppState,
    owner: &str,
    networks: &[String],
    wallets: &[String],
) -> Result<Vec<Account>, ApiError> {
    let invalid = |m: String| ApiError::unprocessable("invalid_request", m);
    if wallets.is_empty() || wallets.len() > MAX_CONNECT_NETWORKS {
        return Err(invalid(format!(
            "wallets must name 1 to {MAX_CONNECT_NETWORKS} wallets"
        )));
    }
    let mut offered: Vec<Offered> = Vec::new();
    for id in wallets {
        let view = wallet_view(&owned_wallet(state, id, owner).await?)?;
        if let Some(other) = offered.iter().find(|o| o.scheme == view.scheme) {
            return Err(invalid(format!(
                "wallets {} and {id} both have scheme {}: give one wallet per scheme",
                other.id, view.scheme
            )));
        }
        offered.push(Offered {
            id: id.clone(),
            key: ready_key(&view)?.clone(),
            scheme: view.scheme,
        });
    }
    let mut chosen: Vec<(Network, &Offered)> = Vec::new();
    for id in networks {
        let network = state
            .registry
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::internal("reading the registry", id))?;
        let scheme = network.scheme.name();
        let wallet = offered.iter().find(|o| o.scheme == scheme).ok_or_else(|| {
            ApiError::unprocessable(
                "network_not_covered",
                format!("network {id} needs a {scheme} wallet, and none was given"),
            )
        })?;
        chosen.push((network, wallet));
    }
    if let Some(unused) = offered
        .iter()
        .find(|o| !chosen.iter().any(|(_, w)| w.id == o.id))
    {
        return Err(invalid(format!(
            "wallet {} has the scheme of none of the networks asked for",
            unused.id
        )));
    }
    let mut out = Vec::new();
    for (network, wallet) in chosen {
        let key = derived_key(&state.derived_keys, &wallet.key, &network)?;
        let (runtime, plugin, on) = (
            state.runtime.clone(),
            network.plugin.clone(),
            network.to_wit(),
        );
        let addresses = tokio::task::spawn_blocking(move || runtime.addresses(&plugin, &key, &on))
            .await
            .map_err(|e| ApiError::internal("deriving addresses", e))??;
        let address = addresses
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::internal("deriving addresses", "the plugin gave none"))?;
        out.push(Account {
            network: network.id.clone(),
            wallet_id: wallet.id.clone(),
            address: address.value,
        });
    }
    Ok(out)
}

/// `POST /v1/bridge/requests/{id}/connect`.
pub async fn approve(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ConnectWallets>,
) -> Result<Json<BridgeView>, ApiError> {
    let request = state
        .bridge
        .get(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("bridge request"))?;
    // Refused now, before any work, if the step would be refused.
    request.clone().connected(&owner, "", now())?;
    let ask = request
        .connect
        .clone()
        .ok_or_else(|| ApiError::internal("reading a connect request", "no networks"))?;
    let accounts = accounts(&state, &owner, &ask.networks, &body.wallets).await?;
    let at = now();
    let connection = Connection {
        id: random_id("cn"),
        dapp: request.dapp.clone(),
        owner: owner.clone(),
        accounts,
        created_at: at,
        expires_at: at + ask.connection_ttl_secs as i64,
        revoked_at: None,
    };
    state.store.insert_connection(&connection).await?;
    let answered = state
        .bridge
        .update(&id, |r| r.connected(&owner, &connection.id, now()))
        .await;
    if let Err(e) = answered {
        // The request moved on meanwhile (expired, say): the connection answers nothing.
        if let Err(d) = state.store.delete_connection(&connection.id).await {
            tracing::error!(connection = %connection.id, error = %d, "forgetting a connection");
        }
        return Err(e.into());
    }
    tracing::info!(%id, connection = %connection.id, "bridge connect request approved");
    settle(&state, &id).await;
    let request = state
        .bridge
        .get(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("bridge request"))?;
    Ok(Json(view_of(&state, &request).await?))
}

/// `GET /v1/bridge/connections/{id}` (Dapp).
pub async fn show(
    State(state): State<Arc<AppState>>,
    DappCaller(dapp): DappCaller,
    Path(id): Path<String>,
) -> Result<Json<ConnectionView>, ApiError> {
    let c = state
        .store
        .connection(&id, &dapp)
        .await?
        .ok_or_else(|| ApiError::not_found("connection"))?;
    Ok(Json(connection_view(&c, now())))
}

/// `DELETE /v1/bridge/connections/{id}` (Dapp): disconnect.
pub async fn disconnect(
    State(state): State<Arc<AppState>>,
    DappCaller(dapp): DappCaller,
    Path(id): Path<String>,
) -> Result<Json<ConnectionView>, ApiError> {
    revoke_as(&state, &id, &dapp, None).await
}

/// `GET /v1/connections` (user): the caller's connections, newest first.
pub async fn list(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
) -> Result<Json<serde_json::Value>, ApiError> {
    let at = now();
    let views: Vec<_> = state
        .store
        .connections(&owner)
        .await?
        .iter()
        .map(|c| connection_view(c, at))
        .collect();
    Ok(Json(serde_json::json!({ "connections": views })))
}

/// `DELETE /v1/connections/{id}` (user).
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    Subject(owner): Subject,
    Path(id): Path<String>,
) -> Result<Json<ConnectionView>, ApiError> {
    let dapp = crate::auth::dapps::owner_dapp(&owner)
        .ok_or_else(|| ApiError::not_found("connection"))?
        .to_owned();
    revoke_as(&state, &id, &dapp, Some(&owner)).await
}

async fn revoke_as(
    state: &AppState,
    id: &str,
    dapp: &str,
    owner: Option<&str>,
) -> Result<Json<ConnectionView>, ApiError> {
    let at = now();
    let c = state
        .store
        .revoke_connection(id, dapp, owner, at)
        .await?
        .ok_or_else(|| ApiError::not_found("connection"))?;
    tracing::info!(connection = %id, by = if owner.is_some() { "user" } else { "dapp" }, "connection revoked");
    Ok(Json(connection_view(&c, at)))
}
