//! A Dapp and a signer as the bridge tests drive them over HTTP: the Dapp creates requests with
//! its API secret and reads their status (plain, long poll, server-sent events); the signer logs
//! in for the Dapp and opens, approves or rejects them.

use mpcw_engine::Scheme;
use mpcw_host::auth::dapps::{new_secret, DappConfig};
use mpcw_host::device::{self, Client, LocalShare};
use serde_json::{json, Value};

/// A registered Dapp.
pub struct Dapp {
    /// Its id.
    pub id: &'static str,
    /// Its API secret.
    pub secret: String,
    http: reqwest::Client,
}

impl Dapp {
    /// A Dapp with a fresh secret, and its registration (posting callbacks to `callback_url`).
    pub fn new(id: &'static str, callback_url: Option<String>) -> (Self, DappConfig) {
        let (secret, hash) = new_secret();
        let config = DappConfig {
            id: id.into(),
            name: format!("{id} Dapp"),
            allowed_origins: vec![],
            callback_url,
            api_secret_sha256: hash,
        };
        (Self::with_secret(id, &secret), config)
    }

    /// Dapp `id` calling with `secret` (right or wrong).
    pub fn with_secret(id: &'static str, secret: &str) -> Self {
        Self {
            id,
            secret: secret.to_owned(),
            http: http(),
        }
    }

    /// `POST /v1/bridge/requests` on the host at `url`: status and body.
    pub async fn create(&self, url: &str, body: Value) -> (u16, Value) {
        self.try_create(url, body).await.expect("the host answers")
    }

    /// [`Dapp::create`], with a failure to reach the host as an error.
    pub async fn try_create(&self, url: &str, body: Value) -> reqwest::Result<(u16, Value)> {
        let r = self
            .http
            .post(format!("{url}/v1/bridge/requests"))
            .basic_auth(self.id, Some(&self.secret))
            .json(&body)
            .send()
            .await?;
        Ok((r.status().as_u16(), r.json().await?))
    }

    /// `method` `path` (with a JSON `body`, if any) on the host at `url`, as this Dapp: status
    /// and body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self
            .http
            .request(method, format!("{url}{path}"))
            .basic_auth(self.id, Some(&self.secret));
        if let Some(body) = body {
            r = r.json(&body);
        }
        let r = r.send().await.expect("the host answers");
        (r.status().as_u16(), r.json().await.expect("a JSON answer"))
    }

    /// `POST /v1/bridge/connect`: status and body.
    pub async fn connect(&self, url: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, url, "/v1/bridge/connect", Some(body))
            .await
    }

    /// Its callback key, as `GET /v1/bridge/callback-key` gives it.
    pub async fn callback_key(&self, url: &str) -> Vec<u8> {
        let r = self
            .http
            .get(format!("{url}/v1/bridge/callback-key"))
            .basic_auth(self.id, Some(&self.secret))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["algorithm"], "HMAC-SHA256");
        hex::decode(body["key"].as_str().unwrap()).unwrap()
    }

    /// `GET /v1/bridge/requests/{id}?wait=…`: status and body.
    pub async fn read(&self, url: &str, id: &str, wait: u64) -> (u16, Value) {
        self.try_read(url, id, wait)
            .await
            .expect("the host answers")
    }

    /// [`Dapp::read`], with a failure to reach the host as an error.
    pub async fn try_read(&self, url: &str, id: &str, wait: u64) -> reqwest::Result<(u16, Value)> {
        let r = self
            .http
            .get(format!("{url}/v1/bridge/requests/{id}?wait={wait}"))
            .basic_auth(self.id, Some(&self.secret))
            .send()
            .await?;
        Ok((r.status().as_u16(), r.json().await?))
    }

    /// The statuses of the request's server-sent events, until the stream ends.
    pub async fn events(&self, url: &str, id: &str) -> Vec<String> {
        let mut r = self
            .http
            .get(format!("{url}/v1/bridge/requests/{id}/events"))
            .basic_auth(self.id, Some(&self.secret))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let mut text = String::new();
        while let Some(chunk) = r.chunk().await.unwrap() {
            text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
        text.split("\n\n")
            .filter(|e| e.contains("event: status"))
            .map(|e| {
                let data = e.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
                let view: Value = serde_json::from_str(data).unwrap();
                view["status"].as_str().unwrap().to_string()
            })
            .collect()
    }
}

/// An HTTP client (the host's TLS provider installed first, as reqwest is built without one)
/// that drops idle connections before the server does.
pub fn http() -> reqwest::Client {
    mpcw_host::tls::install_crypto_provider();
    reqwest::Client::builder()
        .pool_idle_timeout(mpcw_host::device::IDLE_CONNECTION)
        .build()
        .expect("an HTTP client")
}

/// An access token of `subject`, logged in (dev login) for Dapp `dapp`.
pub async fn user_token(url: &str, subject: &str, dapp: &str) -> String {
    let r: Value = http()
        .post(format!("{url}/v1/auth/dev"))
        .json(&json!({"subject": subject, "dapp": dapp}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_string()
}

/// A signer's POST of `body` to `path` with `token`: status and body.
pub async fn signer_post(url: &str, token: &str, path: &str, body: Value) -> (u16, Value) {
    signer_call(reqwest::Method::POST, url, token, path, Some(body)).await
}

/// A signer's `method` on `path` with `token` (and a JSON `body`, if any): status and body.
pub async fn signer_call(
    method: reqwest::Method,
    url: &str,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = http()
        .request(method, format!("{url}{path}"))
        .bearer_auth(token);
    if let Some(body) = body {
        r = r.json(&body);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Dapp `dapp` connects to the accounts of the user of `token` on `networks`, which the user
/// approves with `wallets`: the connection, as the Dapp reads it.
pub async fn connection(
    dapp: &Dapp,
    url: &str,
    token: &str,
    networks: &[&str],
    wallets: &[&str],
) -> Value {
    let (code, created) = dapp.connect(url, json!({ "networks": networks })).await;
    assert_eq!(code, 201, "{created}");
    let open = json!({"token": created["token"]});
    let (code, opened) = signer_post(url, token, "/v1/bridge/open", open).await;
    assert_eq!(code, 200, "{opened}");
    let path = format!(
        "/v1/bridge/requests/{}/connect",
        opened["id"].as_str().unwrap()
    );
    let (code, view) = signer_post(url, token, &path, json!({ "wallets": wallets })).await;
    assert_eq!(code, 200, "{view}");
    view["connection"].clone()
}

/// A 2-of-3 Ed25519 wallet made by DKG with the server: the device holds parties 0 and 2 (the
/// device's share is returned), the server party 1.
pub async fn ed25519_wallet(client: &Client) -> (mpcw_host::api::WalletView, LocalShare) {
    wallet_of(client, Scheme::Ed25519).await
}

/// A 2-of-3 wallet of `scheme` made by DKG with the server: the device holds parties 0 and 2
/// (the device's share is returned), the server party 1.
pub async fn wallet_of(
    client: &Client,
    scheme: Scheme,
) -> (mpcw_host::api::WalletView, LocalShare) {
    let spec = crate::two_of_three(scheme);
    let (wallet, shares) = device::create_wallet(client, &spec, |_| {}).await.unwrap();
    let new_share = shares.into_iter().next().unwrap();
    let share = LocalShare {
        index: new_share.index,
        keys: new_share.keys,
        share: new_share.share,
    };
    (wallet, share)
}
