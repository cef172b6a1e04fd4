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

/// A wallet made once per test binary and shared by its tests (ECDSA key generation is slow).
pub struct Wallet {
    pub keys: Vec<PartyKeys>,
    pub roster: Roster,
    pub shares: Vec<KeyShare>,
}

impl Wallet {
    /// The session context of party `i` in session `session`.
    pub fn ctx(&self, session: &str, i: PartyIndex) -> SessionContext {
        SessionContext::new(session, i, self.keys[i as usize].clone(), self.roster.clone()).unwrap()
    }

    /// The share of party `i`.
    pub fn share(&self, i: PartyIndex) -> &KeyShare {
        &self.shares[i as usize]
    }
}

/// The shared wallet for `scheme` at `t`-of-`n` (2-of-3 and 3-of-5 are cached).
pub fn wallet(scheme: Scheme, t: u16, n: u16) -> &'static Wallet {
    use std::sync::{Mutex, OnceLock};
    type Cache = Mutex<Vec<((Scheme, u16, u16), &'static OnceLock<Wallet>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cell = {
        let mut cache = CACHE.get_or_init(|| Mutex::new(Vec::new())).lock().unwrap();
        match cache.iter().find(|(k, _)| *k == (scheme, t, n)) {
            Some((_, cell)) => *cell,
            None => {
                let cell: &'static OnceLock<Wallet> = Box::leak(Box::new(OnceLock::new()));
                cache.push(((scheme, t, n), cell));
                cell
            }
        }
    };
    cell.get_or_init(|| {
        let (keys, roster, shares) = dkg(scheme, t, n);
        Wallet { keys, roster, shares }
    })
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
