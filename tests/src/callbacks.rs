//! A Dapp's callback endpoint for the tests: an HTTP server on a loopback port that records
//! every callback it receives, and checks its signature the way a Dapp would, with the `hmac`
//! crate over the received bytes (not with the host's own code).
//!
//! `POST /cb` answers 200. `POST /flaky` answers 503 to the first attempt of every event and
//! 200 to later ones, to show retries.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// One callback as received.
#[derive(Clone, Debug)]
pub struct Received {
    /// The path it was posted to.
    pub path: String,
    /// The `X-Mpcw-Event-Id` header.
    pub event_id: String,
    /// The `X-Mpcw-Timestamp` header.
    pub timestamp: String,
    /// The `X-Mpcw-Signature` header.
    pub signature: String,
    /// The body, as received.
    pub body: Vec<u8>,
    /// What the endpoint answered.
    pub answered: u16,
}

impl Received {
    /// Whether the signature is HMAC-SHA256 under `key` over `"<timestamp>.<body>"`, and the
    /// timestamp within five minutes of now.
    pub fn verifies(&self, key: &[u8]) -> bool {
        let Ok(ts) = self.timestamp.parse::<i64>() else {
            return false;
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        if (now - ts).abs() > 300 {
            return false;
        }
        let Some(given) = self
            .signature
            .strip_prefix("v1=")
            .and_then(|h| hex::decode(h).ok())
        else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(self.timestamp.as_bytes());
        mac.update(b".");
        mac.update(&self.body);
        mac.verify_slice(&given).is_ok()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON callback body")
    }
}

#[derive(Default)]
struct Log {
    received: Vec<Received>,
    failed_once: HashSet<String>,
}

/// The callback endpoint.
pub struct CallbackSink {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    log: Arc<Mutex<Log>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CallbackSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State(log): State<Arc<Mutex<Log>>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut log = log.lock().unwrap();
    let event_id = header("x-mpcw-event-id");
    let status = if uri.path() == "/flaky" && log.failed_once.insert(event_id.clone()) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    log.received.push(Received {
        path: uri.path().to_owned(),
        event_id,
        timestamp: header("x-mpcw-timestamp"),
        signature: header("x-mpcw-signature"),
        body: body.to_vec(),
        answered: status.as_u16(),
    });
    status
}

impl CallbackSink {
    /// Start the endpoint on a loopback port.
    pub async fn start() -> Self {
        let log = Arc::new(Mutex::new(Log::default()));
        let app = Router::new()
            .route("/cb", post(receive))
            .route("/flaky", post(receive))
            .with_state(log.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, log, task }
    }

    /// Every callback received so far.
    pub fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().received.clone()
    }

    /// The callbacks received so far about bridge request `id`.
    pub fn about(&self, id: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.json()["data"]["id"] == id)
            .collect()
    }

    /// Wait up to `limit` until a callback about request `id` was answered 200; all callbacks
    /// about it by then.
    pub async fn wait_for(&self, id: &str, limit: Duration) -> Vec<Received> {
        let until = tokio::time::Instant::now() + limit;
        loop {
            let about = self.about(id);
            if about.iter().any(|r| r.answered == 200) || tokio::time::Instant::now() >= until {
                return about;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
