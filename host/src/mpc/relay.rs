//! The message relay of live sessions.
//!
//! Each session keeps an ordered log of every envelope its parties sent (the clients' posted ones
//! and the server party's own). A party fetches what is addressed to it after the last sequence
//! number it has seen, waiting a little if nothing is there yet (long-poll). Envelopes are signed
//! and private ones encrypted by their senders, so the relay can neither read nor forge them; it
//! checks only that they claim a sender and recipients that belong to the session.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mpcw_engine::{Envelope, PartyIndex, Roster};
use tokio::sync::watch;

/// How a session stands.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", content = "error", rename_all = "lowercase")]
pub enum SessionState {
    /// Parties are exchanging messages.
    Running,
    /// The server's party finished and its output is stored.
    Done,
    /// The session ended without output.
    Failed(String),
}

/// Why the relay refused a message.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The envelope names another session.
    #[error("message for session {0:?} posted to another session")]
    WrongSession(String),
    /// The sender is not a client party of this session.
    #[error("party {0} cannot post to this session")]
    WrongSender(PartyIndex),
    /// The recipient is not in the session.
    #[error("party {0} is not in this session")]
    WrongRecipient(PartyIndex),
    /// The envelope is not signed by the identity key of the party it claims to come from.
    #[error("the message is not signed by party {0}'s identity key")]
    Unauthenticated(PartyIndex),
    /// The session has ended.
    #[error("the session has ended: {0}")]
    Ended(String),
    /// The session holds too many messages.
    #[error("the session has too many messages")]
    Full,
}

/// Largest number of envelopes one session may hold (a 3-of-5 ECDSA key generation needs a few
/// hundred).
const MAX_MESSAGES: usize = 4096;

/// One session in flight.
pub struct LiveSession {
    /// Session id; envelopes carry it (or it followed by `/` and a stage name).
    pub id: String,
    /// Subject allowed to use it.
    pub owner: String,
    /// What it does (`keygen`, `sign`), for status views.
    pub kind: &'static str,
    /// The server's party index.
    pub server_index: PartyIndex,
    /// Every party of the session.
    pub parties: BTreeSet<PartyIndex>,
    /// Their identity keys: the relay checks each envelope's signature.
    pub roster: Roster,
    /// When the session gives up.
    pub deadline: Instant,
    log: Mutex<Vec<Envelope>>,
    state: Mutex<SessionState>,
    version: watch::Sender<u64>,
    to_server: Mutex<Option<std::sync::mpsc::Sender<Envelope>>>,
}

impl std::fmt::Debug for LiveSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSession")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl LiveSession {
    /// A new running session among the parties of `roster`; `to_server` feeds the server's
    /// party.
    pub fn new(
        id: String,
        owner: String,
        kind: &'static str,
        server_index: PartyIndex,
        roster: Roster,
        ttl: Duration,
        to_server: std::sync::mpsc::Sender<Envelope>,
    ) -> Self {
        Self {
            id,
            owner,
            kind,
            server_index,
            parties: roster.keys().copied().collect(),
            roster,
            deadline: Instant::now() + ttl,
            log: Mutex::new(Vec::new()),
            state: Mutex::new(SessionState::Running),
            version: watch::channel(0).0,
            to_server: Mutex::new(Some(to_server)),
        }
    }

    /// The current state.
    pub fn state(&self) -> SessionState {
        self.state.lock().expect("state lock").clone()
    }

    fn bump(&self) {
        self.version.send_modify(|v| *v += 1);
    }

    /// End the session (the server's party finished or failed).
    pub fn finish(&self, state: SessionState) {
        *self.state.lock().expect("state lock") = state;
        self.to_server.lock().expect("lock").take();
        self.bump();
    }

    fn belongs(&self, env: &Envelope) -> bool {
        env.session == self.id
            || (env.session.len() > self.id.len()
                && env.session.starts_with(&self.id)
                && env.session.as_bytes()[self.id.len()] == b'/')
    }

    /// Take envelopes a client posted: check them, log them, hand the server's to its party.
    pub fn post(&self, envelopes: Vec<Envelope>) -> Result<usize, RelayError> {
        if let SessionState::Failed(e) = self.state() {
            return Err(RelayError::Ended(e));
        }
        for env in &envelopes {
            if !self.belongs(env) {
                return Err(RelayError::WrongSession(env.session.clone()));
            }
            if env.from == self.server_index || !self.parties.contains(&env.from) {
                return Err(RelayError::WrongSender(env.from));
            }
            if let Some(to) = env.to {
                if !self.parties.contains(&to) || to == env.from {
                    return Err(RelayError::WrongRecipient(to));
                }
            }
            let sender = &self.roster[&env.from];
            env.verify_sender(sender)
                .map_err(|_| RelayError::Unauthenticated(env.from))?;
        }
        let n = envelopes.len();
        {
            let mut log = self.log.lock().expect("log lock");
            if log.len() + n > MAX_MESSAGES {
                return Err(RelayError::Full);
            }
            let to_server = self.to_server.lock().expect("lock");
            for env in envelopes {
                if env.to.is_none() || env.to == Some(self.server_index) {
                    if let Some(tx) = to_server.as_ref() {
                        // The party has ended if this fails; the log still serves the others.
                        let _ = tx.send(env.clone());
                    }
                }
                log.push(env);
            }
        }
        self.bump();
        Ok(n)
    }

    /// Log what the server's party sent.
    pub fn push_own(&self, envelopes: Vec<Envelope>) {
        if envelopes.is_empty() {
            return;
        }
        self.log.lock().expect("log lock").extend(envelopes);
        self.bump();
    }

    /// Envelopes after sequence number `after` addressed to any of `parties`, with their
    /// sequence numbers (1-based).
    pub fn fetch(&self, parties: &BTreeSet<PartyIndex>, after: u64) -> Vec<(u64, Envelope)> {
        let log = self.log.lock().expect("log lock");
        log.iter()
            .enumerate()
            .skip(after as usize)
            .filter(|(_, env)| match env.to {
                Some(to) => parties.contains(&to),
                None => parties.iter().any(|p| *p != env.from),
            })
            .map(|(i, env)| (i as u64 + 1, env.clone()))
            .collect()
    }

    /// Like [`fetch`](Self::fetch), but wait up to `wait` for something to arrive or for the
    /// session to end.
    pub async fn wait_fetch(
        &self,
        parties: &BTreeSet<PartyIndex>,
        after: u64,
        wait: Duration,
    ) -> Vec<(u64, Envelope)> {
        let mut rx = self.version.subscribe();
        let until = tokio::time::Instant::now() + wait;
        loop {
            rx.borrow_and_update();
            let found = self.fetch(parties, after);
            if !found.is_empty() || self.state() != SessionState::Running {
                return found;
            }
            if tokio::time::timeout_at(until, rx.changed()).await.is_err() {
                return Vec::new();
            }
        }
    }
}

/// All live sessions, by id.
#[derive(Clone, Default)]
pub struct Sessions {
    inner: Arc<Mutex<HashMap<String, Arc<LiveSession>>>>,
}

impl Sessions {
    /// Add a session.
    pub fn insert(&self, session: Arc<LiveSession>) {
        self.inner
            .lock()
            .expect("sessions lock")
            .insert(session.id.clone(), session);
    }

    /// The session `id` if `owner` may use it.
    pub fn get(&self, id: &str, owner: &str) -> Option<Arc<LiveSession>> {
        self.inner
            .lock()
            .expect("sessions lock")
            .get(id)
            .filter(|s| s.owner == owner)
            .cloned()
    }

    /// Forget sessions whose deadline passed more than `grace` ago. Returns how many.
    pub fn reap(&self, grace: Duration) -> usize {
        let now = Instant::now();
        let mut map = self.inner.lock().expect("sessions lock");
        let before = map.len();
        map.retain(|_, s| s.deadline + grace > now);
        before - map.len()
    }

    /// Number of sessions `owner` has running.
    pub fn running_for(&self, owner: &str) -> usize {
        self.inner
            .lock()
            .expect("sessions lock")
            .values()
            .filter(|s| s.owner == owner && s.state() == SessionState::Running)
            .count()
    }

    /// Number of sessions still running.
    pub fn running(&self) -> usize {
        self.inner
            .lock()
            .expect("sessions lock")
            .values()
            .filter(|s| s.state() == SessionState::Running)
            .count()
    }
}
