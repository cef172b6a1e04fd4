//! The plugin runtime: chain plugins are WebAssembly components run by wasmtime in a sandbox.
//!
//! A plugin implements the `mpcw:chain` world (`sdk-plugin/wit/chain.wit`), which imports
//! nothing: it can compute and format, and cannot reach files, the network, the clock, keys or
//! other plugins. Every call runs in a fresh store with fuel (an endless loop stops), a memory
//! cap and a stack cap; whatever goes wrong becomes an [`Error`] and the host carries on.
//! Everything a plugin returns is checked against the interface's rules before use.

mod bindings;
mod cache;
mod error;
mod limits;
mod runtime;
mod validate;

pub use cache::CodeCache;
pub use error::Error;
pub use limits::Limits;
pub use runtime::{PluginRecord, PluginSource, Runtime};

/// The interface's types, as the host sees them.
pub mod wit {
    pub use super::bindings::exports::mpcw::chain::chain::{
        Address, Detail, ErrorCode, Finalized, MessageHash, Network, Payload, PluginError,
        PluginInfo, Prepared, PublicKey, Scheme, Signature, Summary,
    };

    impl Scheme {
        /// The scheme's name, as the WIT interface and the registry spell it.
        pub fn name(self) -> &'static str {
            match self {
                Scheme::EcdsaSecp256k1 => "ecdsa-secp256k1",
                Scheme::Ed25519 => "ed25519",
                Scheme::SchnorrBip340 => "schnorr-bip340",
            }
        }
    }

    impl ErrorCode {
        /// The code's name, as the WIT interface spells it (stable, for APIs and logs).
        pub fn name(self) -> &'static str {
            match self {
                ErrorCode::InvalidRequest => "invalid-request",
                ErrorCode::Unsupported => "unsupported",
                ErrorCode::UnknownNetwork => "unknown-network",
                ErrorCode::InvalidPublicKey => "invalid-public-key",
                ErrorCode::InvalidSignature => "invalid-signature",
                ErrorCode::Internal => "internal",
            }
        }
    }

    impl From<mpcw_engine::Scheme> for Scheme {
        fn from(s: mpcw_engine::Scheme) -> Self {
            match s {
                mpcw_engine::Scheme::EcdsaSecp256k1 => Scheme::EcdsaSecp256k1,
                mpcw_engine::Scheme::Ed25519 => Scheme::Ed25519,
                mpcw_engine::Scheme::SchnorrBip340 => Scheme::SchnorrBip340,
            }
        }
    }
}
