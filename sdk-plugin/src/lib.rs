//! The mpcw plugin SDK: everything a chain plugin depends on.
//!
//! A plugin is a WebAssembly component that implements the `mpcw:chain` interface
//! (`wit/chain.wit`). With this crate a plugin is a type implementing [`Plugin`] and one line:
//!
//! ```ignore
//! struct MyChain;
//! impl mpcw_plugin_sdk::Plugin for MyChain { /* info, address, prepare, finalize */ }
//! mpcw_plugin_sdk::export_plugin!(MyChain);
//! ```
//!
//! Besides the bindings it offers what most chains share: strict JSON request parsing
//! ([`request_kind`], [`parse_request`]) with errors that name the field, hex ([`hexstr`]),
//! amounts with decimals ([`amount`]), and behind
//! features keccak-256, secp256k1 helpers, 256-bit integers, RLP and EIP-712/CIP-23 typed data. See `README.md` for how to
//! build a plugin and load it into the host.

pub mod amount;
#[cfg(feature = "base58")]
pub mod base58;
mod errors;
#[cfg(feature = "rlp")]
pub mod evmtx;
pub mod hexstr;
#[cfg(feature = "keccak")]
pub mod keccak;
pub mod message;
mod request;
#[cfg(feature = "rlp")]
pub mod rlplist;
#[cfg(feature = "secp256k1")]
pub mod secp256k1;
#[cfg(feature = "typed-data")]
pub mod typed_data;
#[cfg(feature = "uint")]
pub mod uint;

/// Bindings generated from `wit/chain.wit`; plugins use the re-exports at the crate root.
#[doc(hidden)]
#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "export_raw",
        default_bindings_module: "mpcw_plugin_sdk::bindings",
    });
}

pub use bindings::exports::mpcw::chain::chain::{
    Address, Detail, ErrorCode, Finalized, Guest as Plugin, MessageHash, Network, Payload,
    PluginError, PluginInfo, Prepared, PublicKey, Scheme, Signature, Summary,
};
pub use errors::{only_signature, signature_bytes};
pub use request::{parse_request, request_kind, RequestFields, MAX_REQUEST_BYTES};

/// Wire a type implementing [`Plugin`] up as the component's exports: `export_plugin!(MyChain);`.
///
/// The exports exist only when compiling to WebAssembly, so the same crate also builds natively
/// for its unit tests.
#[macro_export]
macro_rules! export_plugin {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::export_raw!($ty with_types_in $crate::bindings);
    };
}

/// The result type of plugin calls.
pub type Result<T> = core::result::Result<T, PluginError>;

/// Re-exported for plugins that build RLP (Ethereum, Conflux).
#[cfg(feature = "rlp")]
pub use alloy_rlp as rlp;
