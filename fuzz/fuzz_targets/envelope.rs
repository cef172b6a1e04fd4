//! The engine's envelope decoding on any bytes: JSON into an `Envelope`, then a party's check
//! and opening of it (signature, session, recipient, decryption). Nothing from outside is
//! trusted, and nothing panics.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mpcw_engine::{Envelope, PartyKeys, Roster, SessionContext};

fn party() -> &'static SessionContext {
    static PARTY: OnceLock<SessionContext> = OnceLock::new();
    PARTY.get_or_init(|| {
        let keys: Vec<PartyKeys> = (0..2)
            .map(|_| PartyKeys::generate(&mut rand_core::OsRng))
            .collect();
        let roster: Roster = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (i as u16, k.public()))
            .collect();
        SessionContext::new("fuzz", 0, keys[0].clone(), roster).expect("a session context")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = serde_json::from_slice::<Envelope>(data) {
        let _ = party().open(&envelope);
    }
});
