//! The end-to-end tests, as one test binary: every file here is a module, so the host, the
//! plugins' runtime and the chains' own libraries are linked once, not once per file.
//! `cargo test -p mpcw-tests -- bridge::` runs one module's tests.

mod stub_node;
mod stub_oidc;
mod stub_platforms;

mod bitcoin;
mod bridge;
mod bridge_load;
mod bridge_redis;
mod chain_data;
mod conflux;
mod connect;
mod dapp_isolation;
mod differential;
mod evm_end_to_end;
mod evm_vectors;
mod fault_matrix;
mod host_api;
mod host_crash;
mod hostile_plugins;
mod login_oidc;
mod login_wechat_alipay;
mod miniprogram;
mod miniprogram_entries;
mod monero;
mod plugin_loading;
mod plugin_validate;
mod recovery;
mod soak;
mod solana_end_to_end;
mod store_restart;
mod ton;
mod web_sdk;
