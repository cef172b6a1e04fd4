//! The server's side of the threshold protocols: a relay that carries every party's messages
//! for a session, and the server's own party running in a thread of its own.
//!
//! A protocol in flight is a computation in memory (see the engine's security model), so a live
//! session is never written to the database; only what it produces (a share, a signature) is. A
//! session that a restart interrupted is reported as failed and is started again by the client.

mod cores;
mod opened;
mod quota;
mod relay;
mod sign;
mod worker;

pub use cores::Cores;
pub use mpcw_engine::compose::Map;
pub use opened::OpenedShares;
pub use quota::{Exceeded, RelayLimits};
pub use relay::{
    Fetched, LiveSession, RelayError, SessionState, Sessions, ENDED_GRACE, MAX_FETCH_BYTES,
};
pub use sign::{hash_from_name, hash_name, sign_message, signing_party, SignMessage, SigningParty};
pub use worker::{spawn_party, PartyFailure};
