//! Delivering bridge callbacks: a worker on every host takes due callbacks from the database's
//! outbox, claims each attempt (one host per attempt), posts it signed (see [`super::callback`]),
//! and records the outcome: delivered on a 2xx answer, else tried again after the
//! [`RetryPolicy`]'s backoff until no attempt is left. An attempt whose host stopped is taken up
//! by another host once its lease runs out, so delivery is at least once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};

use super::callback::{
    dapp_key, sign, RetryPolicy, EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use crate::state::{now, AppState, Slots};
use crate::store::CallbackRow;

/// Posts in flight at once, per host.
const MAX_IN_FLIGHT: usize = 64;
/// Posts in flight at once to one Dapp, per host: a Dapp whose endpoint is slow or down uses
/// these and no more, and the others' callbacks go on.
const MAX_IN_FLIGHT_PER_DAPP: usize = 8;
/// How many due callbacks one look at the outbox takes.
const BATCH: i64 = 64;
/// How long a claimed attempt is held before another host may take it up, milliseconds.
const LEASE_MS: i64 = 60_000;
/// How often the outbox is read when nothing wakes the worker (callbacks made by other hosts,
/// retries coming due).
const POLL: Duration = Duration::from_millis(500);
/// How long one post may take.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// The callback worker's handle: its HTTP client, its retry policy, and its wake-up call.
pub struct Outbox {
    client: reqwest::Client,
    policy: RetryPolicy,
    wake: Notify,
}

impl Outbox {
    /// An outbox that retries by `policy`.
    pub fn new(policy: RetryPolicy) -> reqwest::Result<Self> {
        crate::tls::install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(POST_TIMEOUT)
            // A callback goes to the URL the Dapp registered, not wherever that URL points.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            policy,
            wake: Notify::new(),
        })
    }

    /// A callback was added: look at the outbox now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The retry policy.
    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }
}

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Deliver callbacks until the task is dropped.
pub async fn run(state: Arc<AppState>) {
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let per_dapp = Arc::new(Slots::default());
    let finished = Arc::new(Notify::new());
    loop {
        let started = match deliver_due(&state, &permits, &per_dapp, &finished).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "reading the callback outbox");
                0
            }
        };
        let wait = match state.store.next_callback_due().await {
            Ok(Some(at)) => {
                Duration::from_millis((at - now_ms()).clamp(0, POLL.as_millis() as i64) as u64)
            }
            _ => POLL,
        };
        // Callbacks that are due but could not start (their Dapp, or this host, has all the
        // posts in flight it may) wait for a post to finish, not in a busy loop.
        let wait = if wait.is_zero() && started == 0 {
            POLL
        } else {
            wait
        };
        tokio::select! {
            _ = state.outbox.wake.notified() => {}
            _ = finished.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Claim and start the callbacks due now, Dapps taking turns, as far as the posts in flight
/// allow (in all, and per Dapp); how many were started. What is left waits for the next look.
async fn deliver_due(
    state: &Arc<AppState>,
    permits: &Arc<Semaphore>,
    per_dapp: &Arc<Slots>,
    finished: &Arc<Notify>,
) -> crate::store::Result<usize> {
    let room = permits.available_permits();
    if room == 0 {
        return Ok(0);
    }
    let due = state
        .store
        .due_callbacks(
            now_ms(),
            MAX_IN_FLIGHT_PER_DAPP as i64,
            BATCH.min(room as i64),
        )
        .await?;
    let mut started = 0;
    for row in due {
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            break;
        };
        // This Dapp has its share of posts in flight: its callback waits for the next look.
        let Some(slot) = per_dapp.take(&row.dapp, MAX_IN_FLIGHT_PER_DAPP) else {
            continue;
        };
        if !state
            .store
            .claim_callback(&row.id, row.next_attempt_at, now_ms() + LEASE_MS)
            .await?
        {
            continue;
        }
        started += 1;
        let (state, finished) = (state.clone(), finished.clone());
        tokio::spawn(async move {
            attempt(&state, &row).await;
            drop((permit, slot));
            finished.notify_one();
        });
    }
    Ok(started)
}

/// One attempt of `row`, recorded.
async fn attempt(state: &AppState, row: &CallbackRow) {
    let result = post(state, row).await;
    let at = now_ms();
    let failed = (row.attempts + 1) as u32;
    let outcome = match &result {
        Ok(()) => Ok(()),
        Err(e) => {
            let next = state
                .outbox
                .policy
                .delay_after(failed)
                .map(|d| at + d.as_millis() as i64);
            Err((e.as_str(), next))
        }
    };
    match &outcome {
        Ok(()) => tracing::info!(event = %row.id, dapp = %row.dapp, "bridge callback delivered"),
        Err((e, Some(_))) => {
            tracing::info!(event = %row.id, dapp = %row.dapp, error = %e, attempt = failed, "bridge callback failed; will retry")
        }
        Err((e, None)) => {
            tracing::warn!(event = %row.id, dapp = %row.dapp, error = %e, attempts = failed, "bridge callback failed; giving up")
        }
    }
    if let Err(e) = state.store.callback_attempted(&row.id, outcome, at).await {
        tracing::error!(event = %row.id, error = %e, "recording a callback attempt");
    }
}

/// Post `row` once, signed with its Dapp's key; `Ok` on a 2xx answer. Errors name no URL (a
/// callback URL may carry a Dapp's token).
async fn post(state: &AppState, row: &CallbackRow) -> Result<(), String> {
    let key = if row.dapp == crate::api::SECURITY_SENDER {
        // A security event, signed with the operator's webhook key.
        state
            .config
            .security_webhook_key()
            .ok()
            .flatten()
            .ok_or_else(|| "no security webhook key is configured".to_owned())?
    } else {
        state
            .dapps
            .get(&row.dapp)
            .map_err(|_| "the Dapp is no longer registered".to_owned())?;
        dapp_key(&state.kek, &state.config.kek_id, &row.dapp)
    };
    let timestamp = now();
    let response = state
        .outbox
        .client
        .post(&row.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(EVENT_ID_HEADER, &row.id)
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, sign(&key, timestamp, row.body.as_bytes()))
        .body(row.body.clone())
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered HTTP {}", response.status().as_u16()))
    }
}
