//! Each protocol's `handle` on messages a malicious party really sends: two parties run key
//! generation or signing (Ed25519, BIP-340, ECDSA) through the engine's simulator, and the
//! fuzzer rewrites the plain body of chosen messages (replaced, bytes flipped, cut short), which
//! are then signed and encrypted again with the sender's own keys, so that they pass the
//! transport's checks and reach the protocol's parsing and checks. A party must answer with an
//! error, never a panic.

#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mpcw_engine::keygen::{KeygenConfig, KeygenSession};
use mpcw_engine::signer::{signing_party, MessageHash, SignMessage, SigningParty};
use mpcw_engine::{KeyShare, PartyKeys, Protocol, Roster, Scheme, SessionContext};

const SCHEMES: [Scheme; 3] = [
    Scheme::Ed25519,
    Scheme::SchnorrBip340,
    Scheme::EcdsaSecp256k1,
];

#[derive(Arbitrary, Debug)]
enum Change {
    Replace(Vec<u8>),
    Flip { at: u16, xor: u8 },
    Cut(u16),
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// Key generation or signing, and the scheme.
    protocol: u8,
    /// `(index of the message in delivery order, change)`.
    changes: Vec<(u8, Change)>,
}

/// Two parties' identity keys and their roster.
fn identities() -> (Vec<PartyKeys>, Roster) {
    let keys: Vec<PartyKeys> = (0..2)
        .map(|_| PartyKeys::generate(&mut rand_core::OsRng))
        .collect();
    let roster = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (i as u16, k.public()))
        .collect();
    (keys, roster)
}

/// Each party's context in `session`.
fn contexts(session: &str, keys: &[PartyKeys], roster: &Roster) -> Vec<SessionContext> {
    keys.iter()
        .enumerate()
        .map(|(i, k)| SessionContext::new(session, i as u16, k.clone(), roster.clone()).unwrap())
        .collect()
}

/// 2-of-2 shares of each scheme, made once by an honest key generation.
fn shares(scheme: Scheme) -> &'static (Vec<KeyShare>, Vec<PartyKeys>, Roster) {
    static SHARES: OnceLock<Vec<(Vec<KeyShare>, Vec<PartyKeys>, Roster)>> = OnceLock::new();
    let all = SHARES.get_or_init(|| {
        SCHEMES
            .iter()
            .map(|scheme| {
                let (keys, roster) = identities();
                let mut parties: Vec<KeygenSession> = contexts("setup", &keys, &roster)
                    .into_iter()
                    .map(|c| KeygenSession::new(c, config(*scheme)).unwrap())
                    .collect();
                let shares = mpcw_engine::sim::run(&mut parties).expect("honest key generation");
                (shares, keys, roster)
            })
            .collect()
    });
    &all[SCHEMES.iter().position(|s| *s == scheme).unwrap()]
}

fn config(scheme: Scheme) -> KeygenConfig {
    KeygenConfig {
        scheme,
        threshold: 2,
        parties: 2,
    }
}

fn message(scheme: Scheme) -> SignMessage {
    let hash = match scheme {
        Scheme::EcdsaSecp256k1 => MessageHash::Sha256,
        _ => MessageHash::None,
    };
    SignMessage::new(scheme, hash, b"a message".to_vec()).unwrap()
}

/// Run `parties` with `changes` applied to the messages as they are delivered.
fn run<P: Protocol>(mut parties: Vec<P>, resealers: &[SessionContext], changes: &[(u8, Change)]) {
    let mut index = 0u8;
    let _ = mpcw_engine::sim::run_with(&mut parties, |env| {
        let here = index;
        index = index.wrapping_add(1);
        for (at, change) in changes {
            if *at != here {
                continue;
            }
            let reader = &resealers[usize::from(env.to.unwrap_or(1 - env.from.min(1)))];
            let Ok(mut body) = reader.open(env) else {
                continue;
            };
            match change {
                Change::Replace(bytes) => body.clone_from(bytes),
                Change::Flip { at, xor } => {
                    if !body.is_empty() {
                        let i = usize::from(*at) % body.len();
                        body[i] ^= xor | 1;
                    }
                }
                Change::Cut(n) => body.truncate(usize::from(*n) % (body.len() + 1)),
            }
            let sender = &resealers[usize::from(env.from)];
            if let Ok(again) = sender.seal(&env.channel, env.to, &body) {
                *env = again;
            }
        }
    });
}

fuzz_target!(|input: Input| {
    let scheme = SCHEMES[usize::from(input.protocol % 3)];
    if input.protocol % 2 == 0 {
        let (keys, roster) = identities();
        let resealers = contexts("keygen", &keys, &roster);
        let parties: Vec<KeygenSession> = contexts("keygen", &keys, &roster)
            .into_iter()
            .map(|c| KeygenSession::new(c, config(scheme)).unwrap())
            .collect();
        run(parties, &resealers, &input.changes);
    } else {
        let (shares, keys, roster) = shares(scheme);
        let resealers = contexts("sign", keys, roster);
        let parties: Vec<SigningParty> = contexts("sign", keys, roster)
            .into_iter()
            .zip(shares)
            .map(|(c, share)| signing_party(c, share, &[0, 1], &[], message(scheme)).unwrap())
            .collect();
        run(parties, &resealers, &input.changes);
    }
});
