//! Shared helpers for the engine's integration tests: parties, rosters, fixtures.

#![allow(dead_code)]

use mpcw_engine::keygen::{KeygenConfig, KeygenSession};
use mpcw_engine::{sim, KeyShare, PaillierPrimes, PartyIndex, PartyKeys, Roster, Scheme, SessionContext};
use rand_core::OsRng;

/// Safe primes generated once with `PaillierPrimes::generate` and checked in, so that tests do
/// not spend minutes on prime generation. Test fixtures only: production code always generates
/// its own.
pub fn fixture_primes() -> Vec<PaillierPrimes> {
    serde_json::from_str(include_str!("../fixtures/paillier-primes.json")).expect("fixture parses")
}

/// Identity keys for parties `0..n` and their roster.
pub fn identities(n: u16) -> (Vec<PartyKeys>, Roster) {
    let keys: Vec<PartyKeys> = (0..n).map(|_| PartyKeys::generate(&mut OsRng)).collect();
    let roster = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (i as PartyIndex, k.public()))
        .collect();
    (keys, roster)
}

/// Run a DKG for `scheme` among `n` parties with threshold `t`.
pub fn dkg(scheme: Scheme, t: u16, n: u16) -> (Vec<PartyKeys>, Roster, Vec<KeyShare>) {
    let (keys, roster) = identities(n);
    let mut primes = fixture_primes().into_iter();
    let config = KeygenConfig {
        scheme,
        threshold: t,
        parties: n,
    };
    let mut sessions: Vec<KeygenSession> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let ctx = SessionContext::new("dkg-test", i as PartyIndex, k.clone(), roster.clone())
                .unwrap();
            let p = if scheme == Scheme::EcdsaSecp256k1 {
                Some(primes.next().expect("enough fixture primes"))
            } else {
                None
            };
            KeygenSession::new(ctx, config, p).unwrap()
        })
        .collect();
    let shares = sim::run(&mut sessions).expect("dkg succeeds");
    (keys, roster, shares)
}

/// All subsets of `0..n` of size `t`.
pub fn subsets(n: u16, t: u16) -> Vec<Vec<PartyIndex>> {
    let mut out = Vec::new();
    for mask in 0u32..(1 << n) {
        if mask.count_ones() == u32::from(t) {
            out.push((0..n).filter(|i| mask & (1 << i) != 0).collect());
        }
    }
    out
}
