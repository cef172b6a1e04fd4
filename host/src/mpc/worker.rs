//! The server's party of one session, in a thread of its own: protocol steps are CPU-bound (an
//! ECDSA key's pairwise setup takes a quarter of a second per other party) and the protocol
//! types are not `Send`, so the thread builds the protocol and owns it to the end. Each step
//! (building, starting, handling a message) first takes one of the server's protocol permits
//! ([`super::Cores`]), so that however many sessions are live, protocol work takes no more than
//! the cores it is given.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Instant;

use mpcw_engine::{Authenticated, Protocol};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use super::relay::LiveSession;

/// A protocol behind a box, as the worker runs it.
pub type BoxedProtocol<O> = Box<dyn Protocol<Output = O>>;

/// Why the server's party ended without output.
#[derive(Debug, thiserror::Error)]
pub enum PartyFailure {
    /// The protocol failed (the engine's error, which may name a party at fault).
    #[error("{0}")]
    Engine(mpcw_engine::Error),
    /// The session ended before the protocol did (expired or closed).
    #[error("{0}")]
    Ended(&'static str),
}

/// Start the server's party of `session`: `make` builds the protocol inside the thread, `inbox`
/// brings the envelopes addressed to it, and the output (or why there is none) goes to `done`.
///
/// Messages that fail authentication or are misrouted are dropped and the party goes on; any
/// other error, or the session's deadline, ends it. Call it from within the server's runtime.
pub fn spawn_party<O, M>(
    session: Arc<LiveSession>,
    make: M,
    inbox: Receiver<Authenticated>,
    done: oneshot::Sender<Result<O, PartyFailure>>,
) where
    O: Send + 'static,
    M: FnOnce() -> mpcw_engine::Result<BoxedProtocol<O>> + Send + 'static,
{
    let name = format!("mpc-{}", &session.id[..session.id.len().min(8)]);
    let runtime = Handle::current();
    let spawned = std::thread::Builder::new().name(name).spawn(move || {
        let result = run(&session, make, inbox, &runtime);
        if let Err(e) = &result {
            tracing::warn!(session = %session.id, kind = session.kind, error = %e, "server party ended without output");
        }
        let _ = done.send(result);
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start a protocol thread");
    }
}

/// Run the party to its end, each step holding one of the session's protocol permits (taken
/// through `runtime`).
fn run<O, M>(
    session: &LiveSession,
    make: M,
    inbox: Receiver<Authenticated>,
    runtime: &Handle,
) -> Result<O, PartyFailure>
where
    M: FnOnce() -> mpcw_engine::Result<BoxedProtocol<O>>,
{
    let permit = session.cores().take(runtime);
    let mut party = make().map_err(PartyFailure::Engine)?;
    let first = party.start().map_err(PartyFailure::Engine)?;
    drop(permit);
    session.push_own(first);
    session.mark_started();
    loop {
        if let Some(output) = party.take_output() {
            return Ok(output);
        }
        let left = session.deadline.saturating_duration_since(Instant::now());
        let env = match inbox.recv_timeout(left) {
            Ok(env) => env,
            Err(RecvTimeoutError::Timeout) => {
                return Err(PartyFailure::Ended("the session expired"))
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PartyFailure::Ended("the session was closed"))
            }
        };
        let permit = session.cores().take(runtime);
        // The relay checked its signature against this session's roster.
        let handled = party.handle_authenticated(&env);
        drop(permit);
        match handled {
            Ok(out) => session.push_own(out),
            Err(e) if e.is_fatal() => return Err(PartyFailure::Engine(e)),
            Err(e) => {
                tracing::debug!(session = %session.id, from = env.envelope().from, error = %e, "dropped a message");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use mpcw_engine::{Envelope, PartyIndex};

    use super::*;
    use crate::mpc::{Cores, RelayLimits, Sessions};

    /// A protocol whose first step takes 30 ms of the thread and notes how many steps run at
    /// once, then finishes.
    struct Busy {
        running: Arc<AtomicUsize>,
        peak: Arc<AtomicUsize>,
        done: bool,
    }

    impl Protocol for Busy {
        type Output = ();

        fn party(&self) -> PartyIndex {
            1
        }

        fn start(&mut self) -> mpcw_engine::Result<Vec<Envelope>> {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(30));
            self.running.fetch_sub(1, Ordering::SeqCst);
            self.done = true;
            Ok(Vec::new())
        }

        fn handle(&mut self, _: &Envelope) -> mpcw_engine::Result<Vec<Envelope>> {
            Ok(Vec::new())
        }

        fn take_output(&mut self) -> Option<()> {
            std::mem::take(&mut self.done).then_some(())
        }
    }

    /// Six sessions' parties start at once on a server given one protocol core: their steps
    /// run one after another, and every party finishes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parties_compute_no_more_steps_at_once_than_the_server_has_cores() {
        let sessions = Sessions::new(RelayLimits::default(), Cores::new(1));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut finished = Vec::new();
        for i in 0..6 {
            let (tx, rx) = std::sync::mpsc::channel();
            let session = sessions.insert(LiveSession::new(
                format!("s{i}"),
                "dev:test".into(),
                "test",
                1,
                Default::default(),
                Duration::from_secs(10),
                tx,
            ));
            let (done, finish) = oneshot::channel();
            let (running, peak) = (running.clone(), peak.clone());
            spawn_party(
                session,
                move || {
                    Ok(Box::new(Busy {
                        running,
                        peak,
                        done: false,
                    }) as BoxedProtocol<()>)
                },
                rx,
                done,
            );
            finished.push(finish);
        }
        for f in finished {
            f.await
                .expect("the party reports")
                .expect("the party finishes");
        }
        assert_eq!(peak.load(Ordering::SeqCst), 1);
    }
}
