//! Shared helpers for the engine's integration tests: parties, rosters, wallets, forgery.

#![allow(dead_code)]

use mpcw_engine::keygen::{KeygenConfig, KeygenSession};
use mpcw_engine::reshare::{ReshareConfig, ReshareSession};
use mpcw_engine::{sim, KeyShare, PartyIndex, PartyKeys, Roster, Scheme, SessionContext};
use rand_core::OsRng;

/// Identity keys for parties `0..n` and their roster.
pub fn identities(n: u16) -> (Vec<PartyKeys>, Roster) {
    let keys: Vec<PartyKeys> = (0..n).map(|_| PartyKeys::generate(&mut OsRng)).collect();
    let roster = roster_of(&keys);
    (keys, roster)
}

/// The roster of parties `0..` with `keys`.
pub fn roster_of(keys: &[PartyKeys]) -> Roster {
    keys.iter()
        .enumerate()
        .map(|(i, k)| (i as PartyIndex, k.public()))
        .collect()
}

/// Run a DKG for `scheme` among `n` parties with threshold `t`.
pub fn dkg(scheme: Scheme, t: u16, n: u16) -> (Vec<PartyKeys>, Roster, Vec<KeyShare>) {
    let (keys, roster) = identities(n);
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
            KeygenSession::new(ctx, config).unwrap()
        })
        .collect();
    let shares = sim::run(&mut sessions).expect("dkg succeeds");
    (keys, roster, shares)
}

/// A wallet made once per test binary and shared by its tests.
pub struct Wallet {
    pub keys: Vec<PartyKeys>,
    pub roster: Roster,
    pub shares: Vec<KeyShare>,
}

impl Wallet {
    /// A wallet of `shares` held by the parties with `keys`.
    pub fn of(keys: &[PartyKeys], shares: Vec<KeyShare>) -> Wallet {
        Wallet {
            keys: keys.to_vec(),
            roster: roster_of(keys),
            shares,
        }
    }

    /// The session context of party `i` in session `session`.
    pub fn ctx(&self, session: &str, i: PartyIndex) -> SessionContext {
        SessionContext::new(
            session,
            i,
            self.keys[i as usize].clone(),
            self.roster.clone(),
        )
        .unwrap()
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
        Wallet {
            keys,
            roster,
            shares,
        }
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

/// The protocol message inside an envelope, opened with the recipient's keys (any recipient of a
/// broadcast).
pub fn body_json(
    env: &mpcw_engine::Envelope,
    keys: &[PartyKeys],
    roster: &Roster,
) -> serde_json::Value {
    serde_json::from_slice(&body_bytes(env, keys, roster)).unwrap()
}

/// Act as a malicious sender: change the message inside `env` with `mutate` and sign (and, for a
/// private message, encrypt) it again with the sender's own keys.
pub fn forge_as_sender(
    env: &mut mpcw_engine::Envelope,
    keys: &[PartyKeys],
    roster: &Roster,
    mutate: impl FnOnce(&mut serde_json::Value),
) {
    forge_bytes_as_sender(env, keys, roster, |body| {
        let mut value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        mutate(&mut value);
        serde_json::to_vec(&value).unwrap()
    });
}

/// Change the first piece of data found in `v` (depth first): one hex digit of the first long
/// hex string, or if there is none one byte of the first byte array. Returns whether it changed
/// something.
pub fn corrupt(v: &mut serde_json::Value) -> bool {
    corrupt_hex(v) || corrupt_byte(v)
}

fn corrupt_hex(v: &mut serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s)
            if s.len() >= 16 && s.chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            let mut chars: Vec<char> = s.chars().collect();
            let last = chars.len() - 1;
            chars[last] = if chars[last] == '0' { '1' } else { '0' };
            *s = chars.into_iter().collect();
            true
        }
        serde_json::Value::Array(a) => a.iter_mut().any(corrupt_hex),
        serde_json::Value::Object(o) => o.values_mut().any(corrupt_hex),
        _ => false,
    }
}

fn corrupt_byte(v: &mut serde_json::Value) -> bool {
    match v {
        serde_json::Value::Number(n) if n.as_u64().is_some_and(|x| x < 256) => {
            *n = ((n.as_u64().unwrap() + 1) % 256).into();
            true
        }
        serde_json::Value::Array(a) => a.iter_mut().any(corrupt_byte),
        serde_json::Value::Object(o) => o.values_mut().any(corrupt_byte),
        _ => false,
    }
}

/// The plain body of `env`, opened with the keys of a recipient (any recipient of a broadcast).
pub fn body_bytes(env: &mpcw_engine::Envelope, keys: &[PartyKeys], roster: &Roster) -> Vec<u8> {
    let reader = env.to.unwrap_or(if env.from == 0 { 1 } else { 0 });
    let ctx = SessionContext::new(
        env.session.clone(),
        reader,
        keys[reader as usize].clone(),
        roster.clone(),
    )
    .unwrap();
    ctx.open(env).unwrap()
}

/// Act as a malicious sender: replace the body of `env` with `mutate(body)` and sign (and, for
/// a private message, encrypt) it again with the sender's own keys.
pub fn forge_bytes_as_sender(
    env: &mut mpcw_engine::Envelope,
    keys: &[PartyKeys],
    roster: &Roster,
    mutate: impl FnOnce(Vec<u8>) -> Vec<u8>,
) {
    let body = mutate(body_bytes(env, keys, roster));
    let ctx = SessionContext::new(
        env.session.clone(),
        env.from,
        keys[env.from as usize].clone(),
        roster.clone(),
    )
    .unwrap();
    *env = ctx.seal(&env.channel, env.to, &body).unwrap();
}

/// Reshare `key` among the parties with `keys` (wallet indices `0..`), dealt by `old_signers`
/// with their `current` shares, at `new_threshold`: every party's output, or where it failed.
pub fn reshare(
    key: &KeyShare,
    session: &str,
    keys: &[PartyKeys],
    old_signers: &[PartyIndex],
    current: &[Option<&KeyShare>],
    new_threshold: u16,
) -> Result<Vec<Option<KeyShare>>, sim::SimError> {
    let roster = roster_of(keys);
    let config = ReshareConfig {
        key: key.public_info(),
        old_signers: old_signers.to_vec(),
        new_threshold,
        new_parties: keys.len() as u16,
    };
    let mut sessions: Vec<ReshareSession> = (0..keys.len() as u16)
        .map(|i| {
            let ctx =
                SessionContext::new(session, i, keys[i as usize].clone(), roster.clone()).unwrap();
            ReshareSession::new(
                ctx,
                config.clone(),
                current.get(i as usize).copied().flatten(),
            )
            .unwrap()
        })
        .collect();
    sim::run(&mut sessions)
}
