//! Runs one `round_based` protocol as a message-in, messages-out state machine.
//!
//! The protocol crates define each protocol as an async function over abstract channels. A
//! [`Driver`] wraps it in `round_based`'s synchronous state machine, maps the protocol's own
//! party numbering (signers are renumbered `0..t`) to wallet indices, serializes messages into
//! authenticated [`Envelope`]s, and turns protocol failures into errors that name the culprit.
//!
//! A protocol in flight lives in memory only (it is a suspended computation); what it produces
//! (shares, signatures) is serializable. A party that restarts mid-protocol starts a new session.

use std::collections::VecDeque;

use round_based::state_machine::{ProceedResult, StateMachine};
use round_based::{Incoming, MessageDestination, MessageType};
use serde::{de::DeserializeOwned, Serialize};

use crate::error::{Error, PartyIndex, Result};
use crate::transport::{Envelope, SessionContext};

/// What one step of an erased state machine asks for.
enum Want<T> {
    Send(Option<u16>, Vec<u8>),
    Message,
    Yield,
    Done(core::result::Result<T, ProtocolFailure>),
}

/// A protocol's error, kept as text plus the protocol-local indices it blames.
struct ProtocolFailure {
    text: String,
    blamed: Vec<u16>,
}

/// A `round_based` state machine with its message type erased to bytes.
trait ErasedMachine<T> {
    fn step(&mut self) -> Want<T>;
    fn feed(&mut self, id: u64, sender: u16, broadcast: bool, body: &[u8]) -> Result<(), String>;
}

struct Typed<S>(S);

impl<S, M, T, E> ErasedMachine<T> for Typed<S>
where
    S: StateMachine<Output = core::result::Result<T, E>, Msg = M>,
    M: Serialize + DeserializeOwned,
    E: core::fmt::Debug + core::fmt::Display,
{
    fn step(&mut self) -> Want<T> {
        match self.0.proceed() {
            ProceedResult::SendMsg(out) => {
                let to = match out.recipient {
                    MessageDestination::AllParties => None,
                    MessageDestination::OneParty(k) => Some(k),
                };
                match serde_json::to_vec(&out.msg) {
                    Ok(body) => Want::Send(to, body),
                    Err(e) => Want::Done(Err(ProtocolFailure {
                        text: format!("cannot encode message: {e}"),
                        blamed: vec![],
                    })),
                }
            }
            ProceedResult::NeedsOneMoreMessage => Want::Message,
            ProceedResult::Yielded => Want::Yield,
            ProceedResult::Output(Ok(v)) => Want::Done(Ok(v)),
            ProceedResult::Output(Err(e)) => Want::Done(Err(ProtocolFailure {
                blamed: blamed_in(&format!("{e:?}")),
                text: e.to_string(),
            })),
            ProceedResult::Error(e) => Want::Done(Err(ProtocolFailure {
                text: e.to_string(),
                blamed: vec![],
            })),
        }
    }

    fn feed(&mut self, id: u64, sender: u16, broadcast: bool, body: &[u8]) -> Result<(), String> {
        let msg: M = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let msg_type = if broadcast {
            MessageType::Broadcast
        } else {
            MessageType::P2P
        };
        self.0
            .received_msg(Incoming {
                id,
                sender,
                msg_type,
                msg,
            })
            .map_err(|_| "state machine refused the message".to_owned())
    }
}

struct Pending {
    from: PartyIndex,
    sender: u16,
    broadcast: bool,
    body: Vec<u8>,
}

/// Drives one protocol instance for one party; `T` is what it outputs.
pub(crate) struct Driver<T> {
    channel: &'static str,
    /// Wallet index of each protocol-local party index.
    members: Vec<PartyIndex>,
    machine: Option<Box<dyn ErasedMachine<T>>>,
    inbox: VecDeque<Pending>,
    wants_message: bool,
    next_id: u64,
    output: Option<T>,
}

impl<T: 'static> Driver<T> {
    /// Wrap `machine`, whose party `k` is wallet party `members[k]`, on `channel`.
    pub fn new<S, M, E>(channel: &'static str, members: Vec<PartyIndex>, machine: S) -> Self
    where
        S: StateMachine<Output = core::result::Result<T, E>, Msg = M> + 'static,
        M: Serialize + DeserializeOwned + 'static,
        E: core::fmt::Debug + core::fmt::Display + 'static,
    {
        Self {
            channel,
            members,
            machine: Some(Box::new(Typed(machine))),
            inbox: VecDeque::new(),
            wants_message: false,
            next_id: 0,
            output: None,
        }
    }

    /// The channel this driver's envelopes carry.
    pub fn channel(&self) -> &'static str {
        self.channel
    }

    /// Take the output once the protocol is done.
    pub fn take_output(&mut self) -> Option<T> {
        self.output.take()
    }

    /// Queue an opened message from wallet party `from`.
    pub fn deliver(&mut self, from: PartyIndex, broadcast: bool, body: Vec<u8>) -> Result<()> {
        let sender = self
            .members
            .iter()
            .position(|p| *p == from)
            .ok_or_else(|| {
                Error::Misrouted(format!("party {from} takes no part in {}", self.channel))
            })? as u16;
        self.inbox.push_back(Pending {
            from,
            sender,
            broadcast,
            body,
        });
        Ok(())
    }

    /// Advance the protocol as far as it goes with the messages at hand; append what it sends.
    pub fn pump(&mut self, ctx: &SessionContext, out: &mut Vec<Envelope>) -> Result<()> {
        loop {
            let Some(machine) = self.machine.as_mut() else {
                return Ok(());
            };
            if self.wants_message {
                let Some(next) = self.inbox.pop_front() else {
                    return Ok(());
                };
                let id = self.next_id;
                self.next_id += 1;
                if let Err(e) = machine.feed(id, next.sender, next.broadcast, &next.body) {
                    self.machine = None;
                    return Err(Error::blame(
                        next.from,
                        format!("undecodable {} message: {e}", self.channel),
                    ));
                }
                self.wants_message = false;
            }
            match machine.step() {
                Want::Send(to, body) => {
                    let to = match to {
                        None => None,
                        Some(k) => Some(*self.members.get(usize::from(k)).ok_or_else(|| {
                            Error::Protocol(format!("protocol addressed unknown party {k}"))
                        })?),
                    };
                    out.push(ctx.seal(self.channel, to, &body)?);
                }
                Want::Message => self.wants_message = true,
                Want::Yield => {}
                Want::Done(result) => {
                    self.machine = None;
                    return match result {
                        Ok(v) => {
                            self.output = Some(v);
                            Ok(())
                        }
                        Err(failure) => Err(self.failure(failure)),
                    };
                }
            }
        }
    }

    fn failure(&self, failure: ProtocolFailure) -> Error {
        let parties: Vec<PartyIndex> = failure
            .blamed
            .iter()
            .filter_map(|k| self.members.get(usize::from(*k)).copied())
            .collect();
        let reason = format!("{}: {}", self.channel, failure.text);
        if parties.is_empty() {
            Error::Protocol(reason)
        } else {
            Error::Blame { parties, reason }
        }
    }
}

/// Protocol-local indices of the parties blamed in a protocol error's debug text.
///
/// The protocol crates report the culprits of an abort inside their error values
/// (`AbortBlame { faulty_party: k, .. }`, `parties: [k, ..]`) without exposing those types; this
/// reads them back out. The crates are pinned to exact versions and tests cover each form.
fn blamed_in(text: &str) -> Vec<u16> {
    let mut found = Vec::new();
    let mut push = |k: u16| {
        if !found.contains(&k) {
            found.push(k)
        }
    };
    for (pos, _) in text.match_indices("faulty_party: ") {
        let digits: String = text[pos + 14..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if let Ok(k) = digits.parse() {
            push(k);
        }
    }
    for (pos, _) in text.match_indices("parties: [") {
        let rest = &text[pos + 10..];
        if let Some(end) = rest.find(']') {
            for item in rest[..end].split(',') {
                if let Ok(k) = item.trim().parse() {
                    push(k);
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::blamed_in;

    #[test]
    fn reads_blame_from_both_forms() {
        assert_eq!(
            blamed_in("Aborted(InvalidDecommitment([AbortBlame { faulty_party: 2, data_message: 1, proof_message: 1 }]))"),
            vec![2]
        );
        assert_eq!(
            blamed_in("FeldmanVerificationFailed { parties: [0, 3] }"),
            vec![0, 3]
        );
        assert!(blamed_in("SignatureInvalid").is_empty());
    }
}
