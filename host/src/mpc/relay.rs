//! The message relay of live sessions.
//!
//! Each session keeps an ordered log of every envelope its parties sent (the clients' posted ones
//! and the server party's own). A party fetches what is addressed to it after the last sequence
//! number it has seen, waiting a little if nothing is there yet (long-poll). Envelopes are signed
//! and private ones encrypted by their senders, so the relay can neither read nor forge them; it
//! checks only that they claim a sender and recipients that belong to the session.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mpcw_engine::{Authenticated, Envelope, PartyIndex, Roster};
use tokio::sync::watch;

use super::cores::Cores;
use super::quota::{envelope_bytes, Budget, Exceeded, RelayLimits};

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
    /// The messages would pass one of the relay's byte limits.
    #[error("{}", over_message(*.0))]
    OverQuota(Exceeded),
}

fn over_message(which: Exceeded) -> &'static str {
    match which {
        Exceeded::Session => "the session's messages would pass its byte limit",
        Exceeded::Subject => {
            "your sessions' messages would pass your byte limit: let running ones end first"
        }
        Exceeded::Total => "the relay is full: try again shortly",
    }
}

/// Largest number of envelopes one session may hold (a 3-of-5 ECDSA key generation sends 80).
const MAX_MESSAGES: usize = 4096;

/// Most bytes of envelopes one fetch returns (at least one envelope); the rest come on the next.
pub const MAX_FETCH_BYTES: usize = 1 << 20;

/// What a session has logged.
#[derive(Default)]
struct Log {
    /// Every envelope kept, in order; position + `dropped` + 1 is its sequence number.
    envelopes: Vec<Envelope>,
    /// Bytes charged for them.
    bytes: usize,
    /// Signatures of the envelopes logged: a repeated post is dropped.
    seen: HashSet<String>,
    /// Whether the log was freed (the session ended): nothing is kept or served any more.
    freed: bool,
}

/// One page of a fetch.
#[derive(Debug, Default)]
pub struct Fetched {
    /// Envelopes with their sequence numbers (1-based).
    pub messages: Vec<(u64, Envelope)>,
    /// Whether more envelopes for the same parties follow the last one returned.
    pub more: bool,
}

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
    log: Mutex<Log>,
    state: Mutex<SessionState>,
    /// When it ended, if it has.
    ended: Mutex<Option<Instant>>,
    /// Client parties that have fetched everything of the finished session.
    caught_up: Mutex<BTreeSet<PartyIndex>>,
    budget: Arc<Budget>,
    cores: Cores,
    /// The relay's count of running sessions, and whether this one is in it.
    running: Arc<Mutex<Running>>,
    counted: AtomicBool,
    /// Whether the server's party has taken its first step (and logged what it sent).
    started: AtomicBool,
    version: watch::Sender<u64>,
    to_server: Mutex<Option<std::sync::mpsc::Sender<Authenticated>>>,
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
        to_server: std::sync::mpsc::Sender<Authenticated>,
    ) -> Self {
        Self {
            id,
            owner,
            kind,
            server_index,
            parties: roster.keys().copied().collect(),
            roster,
            deadline: Instant::now() + ttl,
            log: Mutex::new(Log::default()),
            state: Mutex::new(SessionState::Running),
            ended: Mutex::new(None),
            caught_up: Mutex::new(BTreeSet::new()),
            budget: Arc::new(Budget::new(RelayLimits::default())),
            cores: Cores::unbounded(),
            running: Arc::default(),
            counted: AtomicBool::new(false),
            started: AtomicBool::new(false),
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

    /// End the session (the server's party finished or failed). A failed session's log is
    /// freed at once; a finished one's once every client party has fetched all of it (a fetch
    /// that finds nothing more), or when the session is forgotten, shortly after.
    pub fn finish(&self, state: SessionState) {
        let failed = matches!(state, SessionState::Failed(_));
        let ended = state != SessionState::Running;
        *self.state.lock().expect("state lock") = state;
        if ended {
            self.uncount();
        }
        self.ended
            .lock()
            .expect("ended lock")
            .get_or_insert_with(Instant::now);
        self.to_server.lock().expect("lock").take();
        if failed {
            self.free();
        }
        self.bump();
    }

    /// Take the session out of the relay's running count, once.
    fn uncount(&self) {
        if self.counted.swap(false, Ordering::AcqRel) {
            self.running
                .lock()
                .expect("running lock")
                .remove(&self.owner);
        }
    }

    /// The permits its server party's steps take.
    pub fn cores(&self) -> &Cores {
        &self.cores
    }

    /// When the session ended, if it has.
    pub fn ended_at(&self) -> Option<Instant> {
        *self.ended.lock().expect("ended lock")
    }

    /// Drop every logged envelope and give their bytes back.
    fn free(&self) {
        let mut log = self.log.lock().expect("log lock");
        log.freed = true;
        let bytes = std::mem::take(&mut log.bytes);
        log.envelopes = Vec::new();
        log.seen = HashSet::new();
        drop(log);
        self.budget.release(&self.owner, bytes);
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
        let n = envelopes.len();
        let mut checked = Vec::with_capacity(n);
        for env in envelopes {
            if !self.belongs(&env) {
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
            let from = env.from;
            // Checked once: the server's party takes it as checked against this roster's key.
            let env = env
                .authenticate(&self.roster[&from])
                .map_err(|_| RelayError::Unauthenticated(from))?;
            checked.push(env);
        }
        {
            let mut log = self.log.lock().expect("log lock");
            if log.freed {
                return Err(RelayError::Ended("its messages are gone".into()));
            }
            // A repeated envelope (a client retrying a post whose answer it lost) is dropped.
            let mut fresh = Vec::with_capacity(n);
            let mut in_post = HashSet::new();
            for env in checked {
                let signature = &env.envelope().signature;
                if !log.seen.contains(signature) && in_post.insert(signature.clone()) {
                    fresh.push(env);
                }
            }
            if log.envelopes.len() + fresh.len() > MAX_MESSAGES {
                return Err(RelayError::Full);
            }
            let bytes: usize = fresh.iter().map(|env| envelope_bytes(env.envelope())).sum();
            self.budget
                .charge(&self.owner, log.bytes, bytes)
                .map_err(RelayError::OverQuota)?;
            log.bytes += bytes;
            let to_server = self.to_server.lock().expect("lock");
            for env in fresh {
                let to = env.envelope().to;
                if to.is_none() || to == Some(self.server_index) {
                    if let Some(tx) = to_server.as_ref() {
                        // The party has ended if this fails; the log still serves the others.
                        let _ = tx.send(env.clone());
                    }
                }
                let env = env.into_envelope();
                log.seen.insert(env.signature.clone());
                log.envelopes.push(env);
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
        {
            let mut log = self.log.lock().expect("log lock");
            if log.freed {
                return;
            }
            let bytes: usize = envelopes.iter().map(envelope_bytes).sum();
            self.budget.charge_anyway(&self.owner, bytes);
            log.bytes += bytes;
            for env in envelopes {
                log.seen.insert(env.signature.clone());
                log.envelopes.push(env);
            }
        }
        self.bump();
    }

    /// Envelopes after sequence number `after` addressed to any of `parties`, with their
    /// sequence numbers (1-based), up to [`MAX_FETCH_BYTES`] (but at least one).
    pub fn fetch(&self, parties: &BTreeSet<PartyIndex>, after: u64) -> Fetched {
        let log = self.log.lock().expect("log lock");
        let mut page = Fetched::default();
        let mut bytes = 0;
        let addressed = log
            .envelopes
            .iter()
            .enumerate()
            .skip(usize::try_from(after).unwrap_or(usize::MAX))
            .filter(|(_, env)| match env.to {
                Some(to) => parties.contains(&to),
                None => parties.iter().any(|p| *p != env.from),
            });
        for (i, env) in addressed {
            let size = envelope_bytes(env);
            if !page.messages.is_empty() && bytes + size > MAX_FETCH_BYTES {
                page.more = true;
                break;
            }
            bytes += size;
            page.messages.push((i as u64 + 1, env.clone()));
        }
        page
    }

    /// Free the log of an ended session now, without waiting for every client party to fetch
    /// the rest: for a signing whose outcome its owner has read, nobody needs the messages that
    /// made it. A running session is left as it is.
    pub fn release_if_ended(&self) {
        if self.state() != SessionState::Running {
            self.free();
        }
    }

    /// Note that the server's party has taken its first step: what it sent then is logged.
    pub fn mark_started(&self) {
        self.started.store(true, Ordering::Release);
        self.bump();
    }

    /// Wait up to `wait`, checking again at every change to the session, until `check` has an
    /// answer; `None` if none came in time.
    async fn wait_until<T>(
        &self,
        wait: Duration,
        mut check: impl FnMut() -> Option<T>,
    ) -> Option<T> {
        let mut rx = self.version.subscribe();
        let until = tokio::time::Instant::now() + wait;
        loop {
            rx.borrow_and_update();
            if let Some(answer) = check() {
                return Some(answer);
            }
            if tokio::time::timeout_at(until, rx.changed()).await.is_err() {
                return None;
            }
        }
    }

    /// What the server's party sent `parties` in its first step: wait up to `wait` for that
    /// step, then [`fetch`](Self::fetch) from the start. Nothing if the step did not come in
    /// time or the session ended without it.
    pub async fn first_messages(&self, parties: &BTreeSet<PartyIndex>, wait: Duration) -> Fetched {
        self.wait_until(wait, || {
            if self.started.load(Ordering::Acquire) {
                Some(self.fetch(parties, 0))
            } else {
                (self.state() != SessionState::Running).then(Fetched::default)
            }
        })
        .await
        .unwrap_or_default()
    }

    /// Wait up to `wait` for the session to end; its state then.
    pub async fn wait_ended(&self, wait: Duration) -> SessionState {
        self.wait_until(wait, || {
            let state = self.state();
            (state != SessionState::Running).then_some(state)
        })
        .await
        .unwrap_or_else(|| self.state())
    }

    /// Like [`fetch`](Self::fetch), but wait up to `wait` for something to arrive or for the
    /// session to end.
    pub async fn wait_fetch(
        &self,
        parties: &BTreeSet<PartyIndex>,
        after: u64,
        wait: Duration,
    ) -> Fetched {
        self.wait_until(wait, || {
            let found = self.fetch(parties, after);
            let state = self.state();
            if found.messages.is_empty() && state == SessionState::Done {
                self.caught_up(parties);
            }
            (!found.messages.is_empty() || state != SessionState::Running).then_some(found)
        })
        .await
        .unwrap_or_default()
    }

    /// `parties` asked a finished session for more and found nothing: they have it all. Once
    /// every client party has, the log is freed.
    fn caught_up(&self, parties: &BTreeSet<PartyIndex>) {
        let mut caught_up = self.caught_up.lock().expect("caught-up lock");
        caught_up.extend(parties);
        let all = self
            .parties
            .iter()
            .all(|p| *p == self.server_index || caught_up.contains(p));
        drop(caught_up);
        if all {
            self.free();
        }
    }
}

impl Drop for LiveSession {
    fn drop(&mut self) {
        let bytes = self.log.get_mut().map(|l| l.bytes).unwrap_or(0);
        self.budget.release(&self.owner, bytes);
    }
}

/// How long a session that ended stays visible (its status, its finished log) before it is
/// forgotten and its memory freed.
pub const ENDED_GRACE: Duration = Duration::from_secs(60);

/// All live sessions, by id, and the memory their logs hold.
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Mutex<HashMap<String, Arc<LiveSession>>>>,
    budget: Arc<Budget>,
    cores: Cores,
    running: Arc<Mutex<Running>>,
}

/// How many sessions are running, in all and per subject, kept as sessions start and end: the
/// room check before every signature reads it instead of walking every session the relay
/// still holds.
#[derive(Debug, Default)]
struct Running {
    total: usize,
    by_owner: HashMap<String, usize>,
}

impl Running {
    fn add(&mut self, owner: &str) {
        self.total += 1;
        *self.by_owner.entry(owner.to_owned()).or_default() += 1;
    }

    fn remove(&mut self, owner: &str) {
        self.total -= 1;
        if let Some(n) = self.by_owner.get_mut(owner) {
            *n -= 1;
            if *n == 0 {
                self.by_owner.remove(owner);
            }
        }
    }
}

impl Default for Sessions {
    fn default() -> Self {
        Self::new(RelayLimits::default(), Cores::new(0))
    }
}

impl Sessions {
    /// No sessions yet; their logs may hold up to `limits`, and their server parties compute
    /// with `cores`.
    pub fn new(limits: RelayLimits, cores: Cores) -> Self {
        Self {
            inner: Arc::default(),
            budget: Arc::new(Budget::new(limits)),
            cores,
            running: Arc::default(),
        }
    }

    /// Add a session; its log is charged to this relay's budget, and its server party's steps
    /// take this relay's cores.
    pub fn insert(&self, mut session: LiveSession) -> Arc<LiveSession> {
        session.budget = self.budget.clone();
        session.cores = self.cores.clone();
        session.running = self.running.clone();
        if session.state() == SessionState::Running {
            session.counted = AtomicBool::new(true);
            self.running
                .lock()
                .expect("running lock")
                .add(&session.owner);
        }
        let session = Arc::new(session);
        self.inner
            .lock()
            .expect("sessions lock")
            .insert(session.id.clone(), session.clone());
        session
    }

    /// Bytes every session's log holds.
    pub fn bytes(&self) -> usize {
        self.budget.total()
    }

    /// Bytes the logs of `owner`'s sessions hold.
    pub fn bytes_of(&self, owner: &str) -> usize {
        self.budget.of_subject(owner)
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

    /// Forget sessions that ended more than [`ENDED_GRACE`] ago, and those whose deadline
    /// passed more than `grace` ago. Returns how many.
    pub fn reap(&self, grace: Duration) -> usize {
        let now = Instant::now();
        let mut map = self.inner.lock().expect("sessions lock");
        let before = map.len();
        map.retain(|_, s| {
            let ended_long_ago = s.ended_at().is_some_and(|at| at + ENDED_GRACE <= now);
            let keep = !ended_long_ago && s.deadline + grace > now;
            if !keep {
                s.uncount();
            }
            keep
        });
        before - map.len()
    }

    /// Number of sessions `owner` has running.
    pub fn running_for(&self, owner: &str) -> usize {
        let running = self.running.lock().expect("running lock");
        running.by_owner.get(owner).copied().unwrap_or(0)
    }

    /// Number of sessions still running.
    pub fn running(&self) -> usize {
        self.running.lock().expect("running lock").total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, owner: &str, ttl: Duration) -> LiveSession {
        let (tx, _) = std::sync::mpsc::channel();
        LiveSession::new(
            id.into(),
            owner.into(),
            "sign",
            1,
            Roster::default(),
            ttl,
            tx,
        )
    }

    /// The running counts follow sessions as they start, end (done or failed, once however
    /// often they are ended) and are forgotten while still running.
    #[test]
    fn running_counts_follow_sessions_in_all_and_per_subject() {
        let sessions = Sessions::default();
        let a1 = sessions.insert(session("a1", "alice", Duration::from_secs(60)));
        let a2 = sessions.insert(session("a2", "alice", Duration::from_secs(60)));
        let b1 = sessions.insert(session("b1", "bob", Duration::ZERO));
        assert_eq!(sessions.running(), 3);
        assert_eq!(sessions.running_for("alice"), 2);
        assert_eq!(sessions.running_for("bob"), 1);
        assert_eq!(sessions.running_for("carol"), 0);

        a1.finish(SessionState::Done);
        a1.finish(SessionState::Failed("again".into()));
        assert_eq!((sessions.running(), sessions.running_for("alice")), (2, 1));

        // Bob's session is past its deadline: forgotten while running, then ended late.
        assert_eq!(sessions.reap(Duration::ZERO), 1);
        assert_eq!((sessions.running(), sessions.running_for("bob")), (1, 0));
        b1.finish(SessionState::Failed("the session expired".into()));
        assert_eq!(sessions.running(), 1);

        a2.finish(SessionState::Failed("a cheat".into()));
        assert_eq!((sessions.running(), sessions.running_for("alice")), (0, 0));
    }
}
