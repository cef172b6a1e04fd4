//! Protocols adapted: a protocol whose output is passed through a function.

use crate::{Authenticated, Envelope, PartyIndex, Protocol, Result};

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

    fn handle_authenticated(&mut self, message: &Authenticated) -> Result<Vec<Envelope>> {
        self.inner.handle_authenticated(message)
    }

    fn take_output(&mut self) -> Option<O> {
        let out = self.inner.take_output()?;
        self.f.take().map(|f| f(out))
    }
}
