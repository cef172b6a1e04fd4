//! Protocol timings with every party in one process: `cargo bench -p mpcw-engine`.
//!
//! Prints one table: key generation (including the auxiliary-info protocol for ECDSA), ECDSA
//! presigning and signing, and FROST signing, at 2-of-3 and 3-of-5. Paillier safe-prime generation
//! is timed separately (one party, one run): it is per party, can run ahead of time, and would
//! otherwise dominate everything else. Set `MPCW_BENCH_PRIMES=fixture` to skip it and use the
//! test fixtures' primes for key generation.

use std::time::{Duration, Instant};

use mpcw_engine::ecdsa::{EcdsaMessage, EcdsaSignSession, PresignConfig, PresignSession};
use mpcw_engine::keygen::{KeygenConfig, KeygenSession};
use mpcw_engine::schnorr::{SchnorrSignConfig, SchnorrSignSession};
use mpcw_engine::{
    sim, KeyShare, PaillierPrimes, PartyIndex, PartyKeys, Roster, Scheme, SessionContext,
};
use rand_core::OsRng;

#[path = "../tests/common/mod.rs"]
mod common;
use common::{fixture_primes, identities};

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

fn row(op: &str, scheme: Scheme, t: u16, n: u16, d: Duration) {
    println!(
        "| {op:<28} | {:<15} | {t}-of-{n} | {:>10.1} ms |",
        scheme.name(),
        d.as_secs_f64() * 1e3
    );
}

fn main() {
    let runs: usize = std::env::var("MPCW_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    println!("| operation                    | scheme          | t-of-n | median ({runs} runs) |");
    println!("|------------------------------|-----------------|--------|---------------|");
    if std::env::var("MPCW_BENCH_PRIMES").as_deref() != Ok("fixture") {
        let start = Instant::now();
        let _ = PaillierPrimes::generate(&mut OsRng);
        println!(
            "| {:<28} | {:<15} | {:<6} | {:>10.1} ms |",
            "safe primes (1 party, 1 run)",
            "ecdsa-secp256k1",
            "-",
            start.elapsed().as_secs_f64() * 1e3
        );
    }
    for (t, n) in [(2u16, 3u16), (3, 5)] {
        let (keys, roster) = identities(n);
        let signers: Vec<PartyIndex> = (0..t).collect();
        for scheme in Scheme::ALL {
            let config = KeygenConfig {
                scheme,
                threshold: t,
                parties: n,
            };
            let keygen_runs = if scheme == Scheme::EcdsaSecp256k1 {
                1
            } else {
                runs
            };
            let (d, shares) = time(keygen_runs, |k| {
                let mut primes = fixture_primes().into_iter();
                let mut sessions: Vec<KeygenSession> = (0..n)
                    .map(|i| {
                        let p = (scheme == Scheme::EcdsaSecp256k1).then(|| primes.next().unwrap());
                        KeygenSession::new(ctx(&keys, &roster, &format!("kg{k}"), i), config, p)
                            .unwrap()
                    })
                    .collect();
                sim::run(&mut sessions).unwrap()
            });
            row("keygen (+ aux info)", scheme, t, n, d);
            let shares: Vec<KeyShare> = shares;
            match scheme {
                Scheme::EcdsaSecp256k1 => {
                    let (d, presigs) = time(runs, |k| {
                        let mut sessions: Vec<PresignSession> = signers
                            .iter()
                            .map(|i| {
                                PresignSession::new(
                                    ctx(&keys, &roster, &format!("ps{k}"), *i),
                                    &shares[*i as usize],
                                    PresignConfig {
                                        signers: signers.clone(),
                                        path: vec![],
                                    },
                                )
                                .unwrap()
                            })
                            .collect();
                        sim::run(&mut sessions).unwrap()
                    });
                    row("presign", scheme, t, n, d);
                    let msg = EcdsaMessage::Keccak256(b"benchmark".to_vec());
                    let mut presigs = Some(presigs);
                    let (d, _) = time(1, |_| {
                        let mut sessions: Vec<EcdsaSignSession> = signers
                            .iter()
                            .zip(presigs.take().unwrap())
                            .map(|(i, p)| {
                                EcdsaSignSession::new(
                                    ctx(&keys, &roster, "sign", *i),
                                    p,
                                    msg.clone(),
                                )
                                .unwrap()
                            })
                            .collect();
                        sim::run(&mut sessions).unwrap()
                    });
                    row("sign (with presignature)", scheme, t, n, d);
                }
                _ => {
                    let (d, _) = time(runs, |k| {
                        let config = SchnorrSignConfig {
                            signers: signers.clone(),
                            path: vec![],
                            message: [9u8; 32].to_vec(),
                            taproot_merkle_root: None,
                            variant: Default::default(),
                        };
                        let mut sessions: Vec<SchnorrSignSession> = signers
                            .iter()
                            .map(|i| {
                                SchnorrSignSession::new(
                                    ctx(&keys, &roster, &format!("ss{k}"), *i),
                                    &shares[*i as usize],
                                    config.clone(),
                                )
                                .unwrap()
                            })
                            .collect();
                        sim::run(&mut sessions).unwrap()
                    });
                    row("sign (2 rounds)", scheme, t, n, d);
                }
            }
        }
    }
}
