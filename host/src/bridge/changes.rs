//! Change notices for bridge requests within one process: whoever waits for request `id` (a
//! long poll, an event stream) subscribes to it and is woken when it changes. The store sends a
//! notice after every change it makes; with the Redis store, changes made by other hosts arrive
//! by pub/sub and are sent on here.
//!
//! A notice says only "look again": a waiter re-reads the request, so a notice that comes twice,
//! or late, does no harm.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

/// Per-request change notices.
#[derive(Default)]
pub struct Changes {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    senders: HashMap<String, watch::Sender<()>>,
    /// The number of senders after the last sweep of unwatched ones.
    swept_at: usize,
}

impl Changes {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A receiver that sees every change of request `id` notified from now on. Subscribe before
    /// reading the request, so that no change falls between the read and the wait.
    pub fn subscribe(&self, id: &str) -> watch::Receiver<()> {
        let mut inner = self.lock();
        // Requests nobody waits for any more are forgotten, amortised over subscriptions.
        if inner.senders.len() > 2 * inner.swept_at + 64 {
            inner.senders.retain(|_, s| s.receiver_count() > 0);
            inner.swept_at = inner.senders.len();
        }
        inner
            .senders
            .entry(id.to_owned())
            .or_insert_with(|| watch::channel(()).0)
            .subscribe()
    }

    /// Wake everyone waiting for request `id`.
    pub fn notify(&self, id: &str) {
        let mut inner = self.lock();
        if let Some(sender) = inner.senders.get(id) {
            sender.send_replace(());
            if sender.receiver_count() == 0 {
                inner.senders.remove(id);
            }
        }
    }

    /// How many requests have someone waiting (or had, until the next sweep).
    pub fn watched(&self) -> usize {
        self.lock().senders.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_notice_wakes_the_waiters_of_that_request_only() {
        let changes = Changes::default();
        let mut a = changes.subscribe("br_a");
        let mut b = changes.subscribe("br_b");
        changes.notify("br_a");
        assert!(a.has_changed().unwrap());
        assert!(!b.has_changed().unwrap());
        a.changed().await.unwrap();
        changes.notify("br_b");
        b.changed().await.unwrap();
        // Nobody waits: the notice is dropped, and so is the request's entry.
        drop((a, b));
        changes.notify("br_a");
        changes.notify("br_c");
        assert_eq!(changes.watched(), 1);
    }

    #[test]
    fn unwatched_requests_are_swept() {
        let changes = Changes::default();
        for i in 0..1000 {
            drop(changes.subscribe(&format!("br_{i}")));
        }
        assert!(changes.watched() < 200, "{}", changes.watched());
    }
}
