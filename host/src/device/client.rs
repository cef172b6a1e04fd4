//! The API as a typed client.

use std::collections::BTreeSet;

use mpcw_engine::{Envelope, PartyIndex};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::DeviceError;
use crate::api::{
    CreateWallet, CreatedWallet, DevLogin, Messages, NetworkAddresses, SessionStatus, SigningView,
    StartSigning, TokenView, WalletView,
};

/// Most envelopes the client posts at once (the server takes up to 256).
const POST_CHUNK: usize = 200;

/// Party indices as a query takes them: comma-separated.
fn party_list(parties: &BTreeSet<PartyIndex>) -> String {
    let list: Vec<String> = parties.iter().map(|p| p.to_string()).collect();
    list.join(",")
}

/// A client of one server, logged in or not.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

/// How long an idle connection is kept for reuse: less than the server's idle limit
/// (`header_read_timeout_secs`, 10 s by default), so that a request is not sent on a connection
/// the server is closing at that moment (which the client would see as a reset).
pub const IDLE_CONNECTION: std::time::Duration = std::time::Duration::from_secs(5);

impl Client {
    /// A client of the server at `base` (for example `http://127.0.0.1:8420`).
    pub fn new(base: impl Into<String>) -> Self {
        crate::tls::install_crypto_provider();
        Self {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .pool_idle_timeout(IDLE_CONNECTION)
                .build()
                .expect("HTTP client"),
            base: base.into().trim_end_matches('/').to_owned(),
            token: None,
        }
    }

    /// Use `token` for the requests that need one.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The server's address.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn send<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, DeviceError> {
        let req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let resp = req.send().await?;
        let status = resp.status();
        let bytes = resp.bytes().await?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| DeviceError::Protocol(format!("unexpected answer: {e}")));
        }
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        Err(DeviceError::Api {
            status: status.as_u16(),
            code: body["error"]["code"]
                .as_str()
                .unwrap_or("unknown")
                .to_owned(),
            message: body["error"]["message"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned()),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, DeviceError> {
        self.send(self.http.get(self.url(path))).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        idempotency_key: Option<&str>,
    ) -> Result<T, DeviceError> {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        self.send(req).await
    }

    /// `POST /v1/auth/dev`.
    pub async fn dev_login(&self, subject: &str) -> Result<TokenView, DeviceError> {
        self.post(
            "/v1/auth/dev",
            &DevLogin {
                subject: subject.into(),
                dapp: None,
            },
            None,
        )
        .await
    }

    /// `GET /v1/health`.
    pub async fn health(&self) -> Result<serde_json::Value, DeviceError> {
        self.get("/v1/health").await
    }

    /// `POST /v1/wallets`.
    pub async fn create_wallet(
        &self,
        body: &CreateWallet,
        idempotency_key: Option<&str>,
    ) -> Result<CreatedWallet, DeviceError> {
        self.post("/v1/wallets", body, idempotency_key).await
    }

    /// `GET /v1/wallets/{id}`.
    pub async fn wallet(&self, id: &str) -> Result<WalletView, DeviceError> {
        self.get(&format!("/v1/wallets/{id}")).await
    }

    /// `GET /v1/wallets`.
    pub async fn wallets(&self) -> Result<Vec<WalletView>, DeviceError> {
        #[derive(serde::Deserialize)]
        struct List {
            wallets: Vec<WalletView>,
        }
        Ok(self.get::<List>("/v1/wallets").await?.wallets)
    }

    /// `GET /v1/wallets/{id}/addresses`.
    pub async fn addresses(&self, id: &str) -> Result<Vec<NetworkAddresses>, DeviceError> {
        #[derive(serde::Deserialize)]
        struct List {
            networks: Vec<NetworkAddresses>,
        }
        Ok(self
            .get::<List>(&format!("/v1/wallets/{id}/addresses"))
            .await?
            .networks)
    }

    /// `POST /v1/wallets/{id}/signatures`.
    pub async fn start_signing(
        &self,
        wallet_id: &str,
        body: &StartSigning,
        idempotency_key: Option<&str>,
    ) -> Result<SigningView, DeviceError> {
        self.post(
            &format!("/v1/wallets/{wallet_id}/signatures"),
            body,
            idempotency_key,
        )
        .await
    }

    /// `POST /v1/wallets/{id}/reshare`.
    pub async fn start_reshare(
        &self,
        wallet_id: &str,
        body: &crate::api::StartReshare,
        idempotency_key: Option<&str>,
    ) -> Result<crate::api::StartedReshare, DeviceError> {
        self.post(
            &format!("/v1/wallets/{wallet_id}/reshare"),
            body,
            idempotency_key,
        )
        .await
    }

    /// `POST /v1/wallets/{id}/recoveries`: announce a recovery of the wallet (a new device).
    pub async fn announce_recovery(
        &self,
        wallet_id: &str,
    ) -> Result<crate::api::RecoveryView, DeviceError> {
        self.post(
            &format!("/v1/wallets/{wallet_id}/recoveries"),
            &serde_json::json!({}),
            None,
        )
        .await
    }

    /// `GET /v1/recoveries`: the user's record of escrow use, recoveries and refreshes.
    pub async fn recoveries(&self) -> Result<Vec<crate::api::RecoveryView>, DeviceError> {
        self.get("/v1/recoveries").await
    }

    /// `GET /v1/signatures/{id}`.
    pub async fn signing(&self, id: &str) -> Result<SigningView, DeviceError> {
        self.get(&format!("/v1/signatures/{id}")).await
    }

    /// `GET /v1/signatures/{id}?wait_ms=…`: the request once it has ended, or as it stands
    /// after `wait_ms`.
    pub async fn signing_when_ended(
        &self,
        id: &str,
        wait_ms: u64,
    ) -> Result<SigningView, DeviceError> {
        self.get(&format!("/v1/signatures/{id}?wait_ms={wait_ms}"))
            .await
    }

    /// `GET /v1/sessions/{id}`.
    pub async fn session(&self, id: &str) -> Result<SessionStatus, DeviceError> {
        self.get(&format!("/v1/sessions/{id}")).await
    }

    /// `POST /v1/sessions/{id}/messages`.
    pub async fn post_messages(
        &self,
        session: &str,
        envelopes: &[Envelope],
    ) -> Result<(), DeviceError> {
        if envelopes.is_empty() {
            return Ok(());
        }
        for chunk in envelopes.chunks(POST_CHUNK) {
            let _: serde_json::Value = self
                .post(&format!("/v1/sessions/{session}/messages"), &chunk, None)
                .await?;
        }
        Ok(())
    }

    /// `POST /v1/sessions/{id}/messages?parties=…&after=…&wait_ms=…`: post `envelopes`, then
    /// fetch for `parties` as [`fetch_messages`](Self::fetch_messages) does, in one round trip
    /// (or the posts it takes and then that one).
    pub async fn exchange(
        &self,
        session: &str,
        envelopes: &[Envelope],
        parties: &BTreeSet<PartyIndex>,
        after: u64,
        wait_ms: u64,
    ) -> Result<Messages, DeviceError> {
        let (rest, last) = match envelopes.len() {
            0 => return self.fetch_messages(session, parties, after, wait_ms).await,
            n => envelopes.split_at((n - 1) / POST_CHUNK * POST_CHUNK),
        };
        self.post_messages(session, rest).await?;
        self.post(
            &format!(
                "/v1/sessions/{session}/messages?parties={}&after={after}&wait_ms={wait_ms}",
                party_list(parties)
            ),
            &last,
            None,
        )
        .await
    }

    /// `GET /v1/sessions/{id}/messages`.
    pub async fn fetch_messages(
        &self,
        session: &str,
        parties: &BTreeSet<PartyIndex>,
        after: u64,
        wait_ms: u64,
    ) -> Result<Messages, DeviceError> {
        self.get(&format!(
            "/v1/sessions/{session}/messages?parties={}&after={after}&wait_ms={wait_ms}",
            party_list(parties)
        ))
        .await
    }

    /// Whether an error is the server saying the resource does not exist.
    pub fn is_not_found(e: &DeviceError) -> bool {
        matches!(e, DeviceError::Api { status, .. } if *status == StatusCode::NOT_FOUND.as_u16())
    }
}
