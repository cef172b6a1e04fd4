//! The mpcw host: the signing server's building blocks, shared by the `mpcw` binary and the
//! end-to-end tests.
//!
//! - [`plugin`]: the sandboxed WebAssembly runtime for chain plugins;
//! - [`chains`]: the network registry (`chains/*.toml`);
//! - [`builtin`]: the plugins and networks compiled into the binary.

pub mod builtin;
pub mod chains;
pub mod plugin;
