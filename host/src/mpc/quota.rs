//! Memory the relay may hold: bytes per session, per subject and in all.
//!
//! Every envelope a session logs is charged here, by its owner, until the session's log is freed
//! (when it fails, or when it is forgotten a little after it ends). A post that would pass a limit
//! is refused as a whole, so a client can neither grow one session nor open many to take the
//! server's memory.

use std::collections::HashMap;
use std::sync::Mutex;

use mpcw_engine::transport::Payload;
use mpcw_engine::Envelope;

/// Byte limits of the relay (0: no limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelayLimits {
    /// Bytes one session's log may hold.
    pub session_bytes: usize,
    /// Bytes the sessions of one subject may hold together.
    pub subject_bytes: usize,
    /// Bytes every session together may hold.
    pub total_bytes: usize,
}

impl Default for RelayLimits {
    /// 64 MiB a session (a 16-party ECDSA key generation, the largest the engine allows, logs
    /// about 46 MB; a 3-of-5 one 3.8 MB), 128 MiB a subject, 1 GiB in all.
    fn default() -> Self {
        Self {
            session_bytes: 64 << 20,
            subject_bytes: 128 << 20,
            total_bytes: 1 << 30,
        }
    }
}

/// Which limit a post would pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exceeded {
    /// The session's own.
    Session,
    /// The subject's.
    Subject,
    /// The server's.
    Total,
}

/// Bytes an envelope takes in the relay's memory: its strings and a fixed overhead.
pub fn envelope_bytes(env: &Envelope) -> usize {
    let payload = match &env.payload {
        Payload::Plain { data } => data.len(),
        Payload::Sealed { nonce, data } => nonce.len() + data.len(),
    };
    env.session.len() + env.channel.len() + env.signature.len() + payload + 96
}

#[derive(Default)]
struct Used {
    total: usize,
    by_subject: HashMap<String, usize>,
}

/// The bytes every session holds, against the limits.
pub struct Budget {
    limits: RelayLimits,
    used: Mutex<Used>,
}

impl Budget {
    /// A budget with `limits`.
    pub fn new(limits: RelayLimits) -> Self {
        Self {
            limits,
            used: Mutex::new(Used::default()),
        }
    }

    /// Charge `bytes` to `subject`, whose session already holds `session_used`, unless a limit
    /// would be passed.
    pub fn charge(&self, subject: &str, session_used: usize, bytes: usize) -> Result<(), Exceeded> {
        let over = |limit: usize, used: usize| limit > 0 && used.saturating_add(bytes) > limit;
        if over(self.limits.session_bytes, session_used) {
            return Err(Exceeded::Session);
        }
        let mut used = self.used.lock().expect("relay budget lock");
        let of_subject = used.by_subject.get(subject).copied().unwrap_or(0);
        if over(self.limits.subject_bytes, of_subject) {
            return Err(Exceeded::Subject);
        }
        if over(self.limits.total_bytes, used.total) {
            return Err(Exceeded::Total);
        }
        self.force(&mut used, subject, bytes);
        Ok(())
    }

    /// Charge `bytes` to `subject` whatever the limits (the server party's own messages, which
    /// the protocol bounds).
    pub fn charge_anyway(&self, subject: &str, bytes: usize) {
        let mut used = self.used.lock().expect("relay budget lock");
        self.force(&mut used, subject, bytes);
    }

    fn force(&self, used: &mut Used, subject: &str, bytes: usize) {
        used.total += bytes;
        *used.by_subject.entry(subject.to_owned()).or_insert(0) += bytes;
    }

    /// Give back `bytes` charged to `subject`.
    pub fn release(&self, subject: &str, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let mut used = self.used.lock().expect("relay budget lock");
        used.total = used.total.saturating_sub(bytes);
        if let Some(n) = used.by_subject.get_mut(subject) {
            *n = n.saturating_sub(bytes);
            if *n == 0 {
                used.by_subject.remove(subject);
            }
        }
    }

    /// Bytes held in all.
    pub fn total(&self) -> usize {
        self.used.lock().expect("relay budget lock").total
    }

    /// Bytes held by `subject`'s sessions.
    pub fn of_subject(&self, subject: &str) -> usize {
        self.used
            .lock()
            .expect("relay budget lock")
            .by_subject
            .get(subject)
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> RelayLimits {
        RelayLimits {
            session_bytes: 100,
            subject_bytes: 150,
            total_bytes: 200,
        }
    }

    #[test]
    fn each_limit_refuses_what_would_pass_it_and_release_makes_room() {
        let b = Budget::new(limits());
        assert_eq!(b.charge("a", 50, 51), Err(Exceeded::Session));
        b.charge("a", 0, 100).unwrap();
        assert_eq!(b.charge("a", 0, 51), Err(Exceeded::Subject));
        b.charge("a", 0, 50).unwrap();
        b.charge("b", 0, 50).unwrap();
        assert_eq!(b.charge("c", 0, 1), Err(Exceeded::Total));
        b.release("a", 100);
        b.charge("c", 0, 1).unwrap();
        assert_eq!((b.of_subject("a"), b.total()), (50, 101));
        b.release("a", 50);
        b.release("b", 50);
        b.release("c", 1);
        assert_eq!(b.total(), 0);
    }

    #[test]
    fn zero_means_no_limit() {
        let b = Budget::new(RelayLimits {
            session_bytes: 0,
            subject_bytes: 0,
            total_bytes: 0,
        });
        b.charge("a", usize::MAX / 4, usize::MAX / 4).unwrap();
    }
}
