//! The server's party of one session, in a thread of its own: protocol steps are CPU-bound (an
//! ECDSA key's pairwise setup takes a quarter of a second per other party) and the protocol
//! types are not `Send`, so the thread builds the protocol and owns it to the end.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Instant;

use mpcw_engine::{Envelope, Protocol};
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
/// other error, or the session's deadline, ends it.
pub fn spawn_party<O, M>(
    session: Arc<LiveSession>,
    make: M,
    inbox: Receiver<Envelope>,
    done: oneshot::Sender<Result<O, PartyFailure>>,
) where
    O: Send + 'static,
    M: FnOnce() -> mpcw_engine::Result<BoxedProtocol<O>> + Send + 'static,
{
    let name = format!("mpc-{}", &session.id[..session.id.len().min(8)]);
    let spawned = std::thread::Builder::new().name(name).spawn(move || {
        let result = run(&session, make, inbox);
        if let Err(e) = &result {
            tracing::warn!(session = %session.id, kind = session.kind, error = %e, "server party ended without output");
        }
        let _ = done.send(result);
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start a protocol thread");
    }
}

fn run<O, M>(session: &LiveSession, make: M, inbox: Receiver<Envelope>) -> Result<O, PartyFailure>
where
    M: FnOnce() -> mpcw_engine::Result<BoxedProtocol<O>>,
{
    let mut party = make().map_err(PartyFailure::Engine)?;
    session.push_own(party.start().map_err(PartyFailure::Engine)?);
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
        match party.handle(&env) {
            Ok(out) => session.push_own(out),
            Err(e) if e.is_fatal() => return Err(PartyFailure::Engine(e)),
            Err(e) => {
                tracing::debug!(session = %session.id, from = env.from, error = %e, "dropped a message");
            }
        }
    }
}
