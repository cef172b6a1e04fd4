//! Protocol costs with every party in one process: `cargo bench -p mpcw-engine`.
//!
//! Prints one table at 2-of-3 and 3-of-5 for each scheme: key generation, signing and refresh
//! (the median time of all parties' work on one core), the bytes the parties send for one
//! signature (envelopes as JSON, as they travel over HTTP), and the size of one stored share.
//! `MPCW_BENCH_RUNS` sets the runs per figure (default 5); `MPCW_BENCH_ONLY` names one scheme
//! (`ecdsa-secp256k1`, `ed25519`, `schnorr-bip340`) and, after a comma, one size (`2-of-3`), to
//! time that row alone.

use std::time::{Duration, Instant};

use mpcw_engine::keygen::{KeygenConfig, KeygenSession};
use mpcw_engine::reshare::{ReshareConfig, ReshareSession};
use mpcw_engine::signer::{signing_party, SignMessage, SigningParty};
use mpcw_engine::{
    sim, EcdsaMessage, KeyShare, PartyIndex, PartyKeys, Roster, Scheme, SessionContext,
};

#[path = "../tests/common/mod.rs"]
mod common;
use common::identities;

fn ctx(keys: &[PartyKeys], roster: &Roster, session: &str, i: PartyIndex) -> SessionContext {
    SessionContext::new(session, i, keys[i as usize].clone(), roster.clone()).unwrap()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut(usize) -> T) -> (Duration, T) {
    let mut times = Vec::new();
    let mut last = None;
    for k in 0..runs {
        let start = Instant::now();
        last = Some(f(k));
        times.push(start.elapsed());
    }
    (median(times), last.unwrap())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn kib(bytes: usize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

fn message(scheme: Scheme) -> SignMessage {
    match scheme {
        Scheme::EcdsaSecp256k1 => {
            SignMessage::Ecdsa(EcdsaMessage::Keccak256(b"benchmark".to_vec()))
        }
        _ => SignMessage::Schnorr([9u8; 32].to_vec()),
    }
}

fn main() {
    let runs: usize = std::env::var("MPCW_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    println!("| scheme | t-of-n | keygen | sign | refresh | sent per signature | stored share |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let only = std::env::var("MPCW_BENCH_ONLY").unwrap_or_default();
    let mut only = only.split(',').filter(|s| !s.is_empty());
    let (only_scheme, only_size) = (only.next(), only.next());
    for scheme in Scheme::ALL {
        if only_scheme.is_some_and(|name| name != scheme.name()) {
            continue;
        }
        for (t, n) in [(2u16, 3u16), (3, 5)] {
            if only_size.is_some_and(|size| size != format!("{t}-of-{n}")) {
                continue;
            }
            let (keys, roster) = identities(n);
            let signers: Vec<PartyIndex> = (0..t).collect();
            let config = KeygenConfig {
                scheme,
                threshold: t,
                parties: n,
            };
            let (keygen, shares) = time(runs, |k| {
                let mut sessions: Vec<KeygenSession> = (0..n)
                    .map(|i| {
                        KeygenSession::new(ctx(&keys, &roster, &format!("kg{k}"), i), config)
                            .unwrap()
                    })
                    .collect();
                sim::run(&mut sessions).unwrap()
            });
            let shares: Vec<KeyShare> = shares;
            let mut sent = 0;
            let (sign, _) = time(runs, |k| {
                let mut sessions: Vec<SigningParty> = signers
                    .iter()
                    .map(|i| {
                        signing_party(
                            ctx(&keys, &roster, &format!("sign{k}"), *i),
                            &shares[*i as usize],
                            &signers,
                            &[],
                            message(scheme),
                        )
                        .unwrap()
                    })
                    .collect();
                sent = 0;
                sim::run_with(&mut sessions, |env| {
                    sent += serde_json::to_vec(env).unwrap().len()
                })
                .unwrap()
            });
            let refresh_config = ReshareConfig {
                key: shares[0].public_info(),
                old_signers: signers.clone(),
                new_threshold: t,
                new_parties: n,
            };
            let (refresh, _) = time(runs, |k| {
                let mut sessions: Vec<ReshareSession> = (0..n)
                    .map(|i| {
                        ReshareSession::new(
                            ctx(&keys, &roster, &format!("refresh{k}"), i),
                            refresh_config.clone(),
                            Some(&shares[i as usize]),
                        )
                        .unwrap()
                    })
                    .collect();
                sim::run(&mut sessions).unwrap()
            });
            println!(
                "| {} | {t}-of-{n} | {} | {} | {} | {} | {} |",
                scheme.name(),
                ms(keygen),
                ms(sign),
                ms(refresh),
                kib(sent),
                kib(shares[0].to_bytes().len()),
            );
        }
    }
}
