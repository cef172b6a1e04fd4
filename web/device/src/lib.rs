//! The mpcw device party for browsers and mini-programs.
//!
//! The user's device runs the same engine as the server: this crate compiles it to WebAssembly
//! and gives JavaScript what the device needs, with no network and no storage of its own (the
//! TypeScript SDK carries the messages through the server's relay and keeps the sealed secret
//! in whatever storage the platform has):
//!
//! - [`DeviceSecret`]: the party's identity keys and, after key generation, its share. They
//!   never leave WebAssembly memory except sealed under the user's password (Argon2id,
//!   XChaCha20-Poly1305, the same sealed format as the command-line device).
//! - [`Party`]: one protocol session (key generation, or signing one payload), fed the
//!   envelopes the relay delivers and giving back the envelopes to post.
//! - [`LocalKey`]: self-custody, a BIP-39 wallet's key at one path signing alone, for users who
//!   want no threshold wallet (the Dapp SDK's `LocalWallet`).
//!
//! The same API is plain Rust on other targets, which is how it is tested; the JavaScript
//! bindings (`bindings`) compile everywhere (so the workspace's lints see them) but are exported
//! only by the WebAssembly build.

mod local;
mod party;
mod secret;

mod bindings;

pub use local::{generate_mnemonic, keccak256, sha256, LocalKey};
pub use party::Party;
pub use secret::{DeviceSecret, KeygenSpec, ReshareSpec};

/// What went wrong, in words for the user or the developer.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The protocol or the vault failed.
    #[error("{0}")]
    Engine(#[from] mpcw_engine::Error),
    /// An argument from JavaScript is not in its format.
    #[error("{0}")]
    Input(String),
}

/// Result of the device API.
pub type Result<T> = std::result::Result<T, DeviceError>;

fn input(what: &str, e: impl std::fmt::Display) -> DeviceError {
    DeviceError::Input(format!("{what}: {e}"))
}
