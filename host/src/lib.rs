//! The mpcw host: the signing server's building blocks, shared by the `mpcw` binary and the
//! end-to-end tests.
//!
//! - [`plugin`]: the sandboxed WebAssembly runtime for chain plugins;
//! - [`chains`]: the network registry (`chains/*.toml`);
//! - [`builtin`]: the plugins and networks compiled into the binary;
//! - [`config`], [`store`], [`mpc`], [`api`], [`server`], [`listen`]: the signing server (HTTP
//!   API, SQLite or PostgreSQL storage, the relay and the server's own party, connection limits);
//! - [`auth`]: the host's access tokens and the identity providers users log in with;
//! - [`bridge`]: the signing bridge between Dapps and the user's signer;
//! - [`nodes`]: chain data (what a wallet fills in) and broadcast, from the networks' nodes;
//! - [`device`]: the user's device as a party, talking to the server over HTTP.

pub mod api;
pub mod auth;
pub mod bridge;
pub mod builtin;
pub mod chains;
pub mod config;
pub mod device;
pub mod listen;
pub mod mpc;
pub mod nodes;
pub mod plugin;
pub mod server;
pub mod state;
pub mod store;
pub mod tls;
