//! How many protocol steps the server computes at once, whatever the number of live sessions.
//!
//! Every live session has a thread of its own (see [`super::worker`]), and a step of a protocol
//! (key generation's pairwise setup, a signature's share) is CPU-bound. Without a bound, a few
//! hundred sessions driven at once would take every core, and the threads that answer HTTP
//! requests (health checks, logins, the bridge) would wait behind them. A step first takes a
//! permit from [`Cores`]; permits are handed out in the order they were asked for, so a session
//! waits behind at most the steps asked before its own.

use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Permits to compute a protocol step, shared by every session of a server.
#[derive(Clone, Debug)]
pub struct Cores {
    permits: Arc<Semaphore>,
    count: usize,
}

impl Cores {
    /// At most `count` steps at once; 0 picks one fewer than the machine's cores (at least
    /// one), so that one core is always left to the request threads.
    pub fn new(count: usize) -> Self {
        let count = if count == 0 {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(1))
                .max(1)
        } else {
            count
        };
        Self {
            permits: Arc::new(Semaphore::new(count)),
            count,
        }
    }

    /// No bound: as many steps at once as there are sessions.
    pub fn unbounded() -> Self {
        Self {
            permits: Arc::new(Semaphore::new(Semaphore::MAX_PERMITS)),
            count: Semaphore::MAX_PERMITS,
        }
    }

    /// How many steps may run at once.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Wait (blocking this thread, which must not be one of the runtime's) for a permit; the
    /// step may run while the permit lives. `runtime` is a handle of the server's runtime.
    pub fn take(&self, runtime: &Handle) -> OwnedSemaphorePermit {
        runtime
            .block_on(self.permits.clone().acquire_owned())
            .expect("the protocol semaphore is never closed")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[test]
    fn zero_leaves_a_core_to_the_request_threads() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(Cores::new(0).count(), cores.saturating_sub(1).max(1));
        assert_eq!(Cores::new(3).count(), 3);
    }

    /// Eight threads each ask for a step of 20 ms; with two permits no more than two run at
    /// once, and every one of them gets its turn.
    #[test]
    fn no_more_steps_than_permits_run_at_once() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let cores = Cores::new(2);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (cores, handle) = (cores.clone(), runtime.handle().clone());
                let (running, peak, done) = (running.clone(), peak.clone(), done.clone());
                std::thread::spawn(move || {
                    let _permit = cores.take(&handle);
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                    done.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().expect("a step thread");
        }
        assert_eq!(done.load(Ordering::SeqCst), 8);
        assert!(
            peak.load(Ordering::SeqCst) <= 2,
            "{peak:?} steps ran at once"
        );
    }
}
