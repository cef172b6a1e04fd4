//! Runs every party of a protocol in one process, delivering messages between them.
//!
//! For tests, benchmarks and demos only (feature `simulation`): a real deployment runs each party
//! on its own device and relays the same [`Envelope`]s over the network.

use std::collections::VecDeque;

use crate::error::{Error, PartyIndex, Result};
use crate::session::{is_fatal, Protocol};
use crate::transport::Envelope;

/// A failure in a simulated run: which party reported it, and the error.
#[derive(Debug)]
pub struct SimError {
    /// Party whose session returned the error.
    pub at: PartyIndex,
    /// The error.
    pub error: Error,
}

impl core::fmt::Display for SimError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "party {}: {}", self.at, self.error)
    }
}

impl std::error::Error for SimError {}

/// Run `parties` to completion; outputs in the order of `parties`.
pub fn run<P: Protocol>(parties: &mut [P]) -> Result<Vec<P::Output>, SimError> {
    run_with(parties, |_| {})
}

/// Like [`run`], but every envelope passes through `intercept` before delivery (to tamper with,
/// reorder or inspect traffic). Stops at the first error any party reports, fatal or not.
pub fn run_with<P: Protocol>(
    parties: &mut [P],
    mut intercept: impl FnMut(&mut Envelope),
) -> Result<Vec<P::Output>, SimError> {
    let mut queue: VecDeque<Envelope> = VecDeque::new();
    let mut outputs: Vec<Option<P::Output>> = parties.iter().map(|_| None).collect();
    for p in parties.iter_mut() {
        let at = p.party();
        queue.extend(p.start().map_err(|error| SimError { at, error })?);
    }
    collect(parties, &mut outputs);
    while let Some(mut env) = queue.pop_front() {
        intercept(&mut env);
        for p in parties.iter_mut() {
            let at = p.party();
            let addressed = match env.to {
                Some(to) => to == at,
                None => at != env.from,
            };
            if !addressed {
                continue;
            }
            match p.handle(&env) {
                Ok(out) => queue.extend(out),
                Err(error) => return Err(SimError { at, error }),
            }
        }
        collect(parties, &mut outputs);
    }
    let mut done = Vec::with_capacity(outputs.len());
    for (p, o) in parties.iter().zip(outputs) {
        match o {
            Some(o) => done.push(o),
            None => {
                return Err(SimError {
                    at: p.party(),
                    error: Error::Protocol("protocol stalled: no more messages to deliver".into()),
                })
            }
        }
    }
    Ok(done)
}

fn collect<P: Protocol>(parties: &mut [P], outputs: &mut [Option<P::Output>]) {
    for (p, o) in parties.iter_mut().zip(outputs.iter_mut()) {
        if o.is_none() {
            *o = p.take_output();
        }
    }
}

/// Whether a simulated failure ended the session (as opposed to one dropped message).
pub fn is_fatal_error(e: &SimError) -> bool {
    is_fatal(&e.error)
}
