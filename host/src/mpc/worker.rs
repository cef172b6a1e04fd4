//! The server's party of one session, in a thread of its own: protocol steps are CPU-bound
//! (ECDSA key generation proves statements about Paillier moduli for tens of seconds) and the
//! protocol types are not `Send`, so the thread builds the protocol and owns it to the end.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Instant;

use mpcw_engine::{Envelope, Protocol};
use tokio::sync::oneshot;

use super::relay::LiveSession;

/// A protocol behind a box, as the worker runs it.
pub type BoxedProtocol<O> = Box<dyn Protocol<Output = O>>;

/// Start the server's party of `session`: `make` builds the protocol inside the thread, `inbox`
/// brings the envelopes addressed to it, and the output (or why there is none) goes to `done`.
///
/// Messages that fail authentication or are misrouted are dropped and the party goes on; any
/// other error, or the session's deadline, ends it.
pub fn spawn_party<O, M>(
    session: Arc<LiveSession>,
    make: M,
    inbox: Receiver<Envelope>,
    done: oneshot::Sender<Result<O, String>>,
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

fn run<O, M>(session: &LiveSession, make: M, inbox: Receiver<Envelope>) -> Result<O, String>
where
    M: FnOnce() -> mpcw_engine::Result<BoxedProtocol<O>>,
{
    let mut party = make().map_err(|e| e.to_string())?;
    session.push_own(party.start().map_err(|e| e.to_string())?);
    loop {
        if let Some(output) = party.take_output() {
            return Ok(output);
        }
        let left = session.deadline.saturating_duration_since(Instant::now());
        let env = match inbox.recv_timeout(left) {
            Ok(env) => env,
            Err(RecvTimeoutError::Timeout) => return Err("the session expired".into()),
            Err(RecvTimeoutError::Disconnected) => return Err("the session was closed".into()),
        };
        match party.handle(&env) {
            Ok(out) => session.push_own(out),
            Err(e) if e.is_fatal() => return Err(e.to_string()),
            Err(e) => {
                tracing::debug!(session = %session.id, from = env.from, error = %e, "dropped a message");
            }
        }
    }
}
