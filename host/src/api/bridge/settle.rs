//! A bridge request's end: once its status is final, its callback event is put in the outbox
//! (once per request, however many hosts notice), and requests whose time ran out unapproved are
//! found by a sweep and announced as expired.

use std::sync::Arc;
use std::time::Duration;

use super::status::{is_final, view_of};
use crate::api::error::ApiError;
use crate::api::views::BridgeEvent;
use crate::state::{now, random_id, AppState};
use crate::store::CallbackRow;

/// How often expiries are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// If request `id` has reached its final status and has a callback URL, put its callback in
/// the outbox (a request gets one callback, however often this is called).
pub(crate) async fn settle(state: &AppState, id: &str) {
    if let Err(e) = enqueue_final(state, id).await {
        tracing::warn!(%id, error = e.message, "making a bridge callback");
    }
}

async fn enqueue_final(state: &AppState, id: &str) -> Result<(), ApiError> {
    let Some(request) = state.bridge.get(id).await? else {
        return Ok(());
    };
    let Some(url) = request.callback_url.clone() else {
        return Ok(());
    };
    let view = view_of(state, &request).await?;
    if !is_final(&view.status) {
        return Ok(());
    }
    let event = BridgeEvent {
        id: random_id("evt"),
        kind: format!("bridge.request.{}", view.status),
        created_at: now(),
        data: view,
    };
    let row = CallbackRow::pending(
        event.id.clone(),
        request.id.clone(),
        request.dapp.clone(),
        url,
        serde_json::to_string(&event).expect("events serialize"),
    );
    if state.store.insert_callback(&row).await? {
        state.outbox.wake();
    }
    Ok(())
}

/// Every second: announce and settle requests whose expiry came (each claimed by one host),
/// and forget records past their time to live.
pub async fn sweep_expiries(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let at = now();
        match state.bridge.take_expired(at).await {
            Ok(ids) => {
                for id in ids {
                    state.bridge.announce(&id).await;
                    settle(&state, &id).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "looking for expired bridge requests"),
        }
        state.bridge.sweep(at);
    }
}
