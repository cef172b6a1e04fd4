//! The sans-IO interface every protocol session offers.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::transport::{Authenticated, Envelope};

/// A protocol run by one party: feed it the messages addressed to this party, send what it
/// returns, and take its output when it has one.
///
/// Errors that name a culprit ([`Error::Blame`]) or that the protocol cannot recover from end the
/// session: it then keeps nothing and answers [`Error::Finished`]. A message that fails
/// authentication or belongs elsewhere ([`Error::Unauthenticated`], [`Error::Misrouted`]) is
/// dropped and the session goes on.
pub trait Protocol {
    /// What the session produces.
    type Output;

    /// Wallet index of the party running this session.
    fn party(&self) -> crate::PartyIndex;

    /// Begin: the first messages this party sends.
    fn start(&mut self) -> Result<Vec<Envelope>>;

    /// Take one incoming message; return the messages it causes this party to send.
    fn handle(&mut self, message: &Envelope) -> Result<Vec<Envelope>>;

    /// [`Protocol::handle`] for a message whose signature was already checked
    /// ([`Envelope::authenticate`], as a relay does before passing it on): the sessions of this
    /// crate do not check it again, only that it was checked against the key their roster has
    /// for the sender. By default the message is handled as any other.
    fn handle_authenticated(&mut self, message: &Authenticated) -> Result<Vec<Envelope>> {
        self.handle(message.envelope())
    }

    /// The output, once the protocol has finished (returned once).
    fn take_output(&mut self) -> Option<Self::Output>;
}

impl<P: Protocol + ?Sized> Protocol for Box<P> {
    type Output = P::Output;

    fn party(&self) -> crate::PartyIndex {
        (**self).party()
    }

    fn start(&mut self) -> Result<Vec<Envelope>> {
        (**self).start()
    }

    fn handle(&mut self, message: &Envelope) -> Result<Vec<Envelope>> {
        (**self).handle(message)
    }

    fn handle_authenticated(&mut self, message: &Authenticated) -> Result<Vec<Envelope>> {
        (**self).handle_authenticated(message)
    }

    fn take_output(&mut self) -> Option<Self::Output> {
        (**self).take_output()
    }
}

/// Whether an error ends the session (as opposed to dropping one bad message).
pub(crate) fn is_fatal(e: &Error) -> bool {
    !matches!(e, Error::Unauthenticated { .. } | Error::Misrouted(_))
}

/// A 32-byte execution id for sub-protocol `channel` of session `session`, so that no message of
/// one execution can be replayed into another.
pub(crate) fn execution_id(session: &str, channel: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"mpcw/execution-id/v1");
    h.update((session.len() as u64).to_be_bytes());
    h.update(session.as_bytes());
    h.update((channel.len() as u64).to_be_bytes());
    h.update(channel.as_bytes());
    h.finalize().into()
}

/// Tracks whether a session is still running, and ends it on fatal errors.
#[derive(Default)]
pub(crate) struct Status {
    ended: bool,
}

impl Status {
    /// Fail if the session has ended.
    pub fn check(&self) -> Result<()> {
        if self.ended {
            Err(Error::Finished)
        } else {
            Ok(())
        }
    }

    /// Pass `r` through; a fatal error ends the session.
    pub fn record<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            if is_fatal(e) {
                self.ended = true;
            }
        }
        r
    }

    /// Mark the session as ended (its output was taken).
    pub fn end(&mut self) {
        self.ended = true;
    }
}

/// Implements [`Protocol`] and a public-only `Debug` for a session type with fields `ctx`
/// (`SessionContext`), `status` ([`Status`]) and `output` (`Option<Output>`), and methods
/// `begin(&mut self, out)` (first step), `deliver(&mut self, message, out)` (take one message) and
/// `advance(&mut self, out)` (progress after a message). Fatal errors end the session.
macro_rules! protocol_session {
    ($ty:ty, $output:ty) => {
        impl $crate::session::Protocol for $ty {
            type Output = $output;

            fn party(&self) -> $crate::PartyIndex {
                self.ctx.me()
            }

            fn start(&mut self) -> $crate::Result<Vec<$crate::Envelope>> {
                self.status.check()?;
                let mut out = Vec::new();
                let r = self.begin(&mut out);
                self.status.record(r)?;
                Ok(out)
            }

            fn handle(
                &mut self,
                message: &$crate::Envelope,
            ) -> $crate::Result<Vec<$crate::Envelope>> {
                self.take_message(&$crate::transport::Incoming::Unchecked(message))
            }

            fn handle_authenticated(
                &mut self,
                message: &$crate::transport::Authenticated,
            ) -> $crate::Result<Vec<$crate::Envelope>> {
                self.take_message(&$crate::transport::Incoming::Checked(message))
            }

            fn take_output(&mut self) -> Option<$output> {
                let out = self.output.take();
                if out.is_some() {
                    self.status.end();
                }
                out
            }
        }

        impl $ty {
            /// Take one message: deliver it, then advance; a fatal error ends the session.
            fn take_message(
                &mut self,
                message: &$crate::transport::Incoming<'_>,
            ) -> $crate::Result<Vec<$crate::Envelope>> {
                self.status.check()?;
                let mut out = Vec::new();
                let r = self.deliver(message, &mut out);
                self.status.record(r)?;
                let r = self.advance(&mut out);
                self.status.record(r)?;
                Ok(out)
            }
        }

        impl core::fmt::Debug for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("session", &self.ctx.session_id())
                    .field("party", &self.ctx.me())
                    .finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use protocol_session;
