//! # mpcw-engine
//!
//! The protocol core of mpcw: threshold keys that are never assembled in one place, and the
//! protocols that make and use them. Sans-IO: every protocol is a [`Protocol`] state machine that
//! takes [`Envelope`]s in and gives envelopes out; the caller moves them (HTTP, a browser, a test
//! harness). No async runtime, no network, and the same code builds for `wasm32-unknown-unknown`.
//!
//! - [`keygen`]: distributed key generation, `t`-of-`n`, for ECDSA (with the DKLs23 pairwise
//!   setup), Ed25519 and BIP-340.
//! - [`ecdsa`]: three-round threshold ECDSA signing (DKLs23, multiplication by oblivious transfer).
//! - [`schnorr`]: threshold Ed25519 and BIP-340/Taproot signing; [`monero`]: the same Ed25519
//!   keys making Monero's Schnorr signatures.
//! - [`reshare`]: key refresh and resharing to a new set of parties, same public key.
//! - [`hd`]: non-hardened BIP-32 derivation on the group key (and its ed25519 counterpart).
//! - [`backup`]: Shamir backup of a share; [`import`]: BIP-39 mnemonic into shares; the explicit
//!   emergency exit [`backup::reconstruct_secret_key`].
//! - [`vault`]: shares encrypted at rest (Argon2id + XChaCha20-Poly1305).
//! - [`transport`]: signed and encrypted envelopes that make aborts identifiable.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod backup;
pub mod child_keys;
pub mod compose;
mod driver;
pub mod ecdsa;
pub mod error;
pub mod hd;
pub mod import;
pub mod keygen;
pub mod local;
pub mod monero;
pub mod reshare;
pub mod scheme;
pub mod schnorr;
pub mod session;
pub mod share;
pub mod signer;
#[cfg(feature = "simulation")]
pub mod sim;
pub mod transport;
pub mod vault;

pub use ecdsa::{EcdsaMessage, EcdsaShare, EcdsaSignature};
pub use error::{Error, ErrorReport, PartyIndex, Result};
pub use keygen::{KeygenConfig, KeygenSession};
pub use scheme::Scheme;
pub use session::Protocol;
pub use share::{KeyShare, PublicKeyInfo};
pub use transport::{Authenticated, Envelope, PartyKeys, PartyPublicKeys, Roster, SessionContext};
