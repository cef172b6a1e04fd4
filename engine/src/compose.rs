//! Two protocols run back to back as one: ECDSA signing is a fresh presignature followed by the
//! one-round signature over it.

use crate::{Envelope, PartyIndex, Protocol, Result};

/// Runs `A`; when it outputs, `next` turns its output into the protocol `B`, which runs on the
/// session id `second_session`. Messages for `B` that arrive while `A` is still running (other
/// parties may finish `A` first) wait until `B` exists.
pub struct Then<A: Protocol, B, F> {
    first: A,
    next: Option<F>,
    second: Option<B>,
    second_session: String,
    early: Vec<Envelope>,
}

impl<A, B, F> Then<A, B, F>
where
    A: Protocol,
    B: Protocol,
    F: FnOnce(A::Output) -> Result<B>,
{
    /// Compose `first` and `next`; `second_session` is the session id `B`'s messages carry.
    pub fn new(first: A, second_session: impl Into<String>, next: F) -> Self {
        Self {
            first,
            next: Some(next),
            second: None,
            second_session: second_session.into(),
            early: Vec::new(),
        }
    }

    /// If `A` has finished, build and start `B`, and deliver what waited for it.
    fn advance(&mut self, out: &mut Vec<Envelope>) -> Result<()> {
        if self.second.is_some() {
            return Ok(());
        }
        let Some(output) = self.first.take_output() else {
            return Ok(());
        };
        let next = self.next.take().expect("the second protocol is built once");
        let mut second = next(output)?;
        out.extend(second.start()?);
        for env in std::mem::take(&mut self.early) {
            out.extend(second.handle(&env)?);
        }
        self.second = Some(second);
        Ok(())
    }
}

impl<A, B, F> Protocol for Then<A, B, F>
where
    A: Protocol,
    B: Protocol,
    F: FnOnce(A::Output) -> Result<B>,
{
    type Output = B::Output;

    fn party(&self) -> PartyIndex {
        self.first.party()
    }

    fn start(&mut self) -> Result<Vec<Envelope>> {
        let mut out = self.first.start()?;
        self.advance(&mut out)?;
        Ok(out)
    }

    fn handle(&mut self, message: &Envelope) -> Result<Vec<Envelope>> {
        if message.session == self.second_session {
            return match &mut self.second {
                Some(second) => second.handle(message),
                None => {
                    // Bounded by the relay's session limits; kept until B starts.
                    self.early.push(message.clone());
                    Ok(Vec::new())
                }
            };
        }
        let mut out = self.first.handle(message)?;
        self.advance(&mut out)?;
        Ok(out)
    }

    fn take_output(&mut self) -> Option<Self::Output> {
        self.second.as_mut().and_then(Protocol::take_output)
    }
}

/// A protocol whose output is passed through a function.
pub struct Map<P, F> {
    inner: P,
    f: Option<F>,
}

impl<P, F> Map<P, F> {
    /// `inner`, with `f` applied to its output.
    pub fn new(inner: P, f: F) -> Self {
        Self { inner, f: Some(f) }
    }
}

impl<P: Protocol, O, F: FnOnce(P::Output) -> O> Protocol for Map<P, F> {
    type Output = O;

    fn party(&self) -> PartyIndex {
        self.inner.party()
    }

    fn start(&mut self) -> Result<Vec<Envelope>> {
        self.inner.start()
    }

    fn handle(&mut self, message: &Envelope) -> Result<Vec<Envelope>> {
        self.inner.handle(message)
    }

    fn take_output(&mut self) -> Option<O> {
        let out = self.inner.take_output()?;
        self.f.take().map(|f| f(out))
    }
}
