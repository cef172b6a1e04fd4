//! Monero addresses: network byte ‖ public spend key ‖ public view key ‖ the first four bytes of
//! their Keccak-256, in Monero's base58 (8-byte blocks of 11 characters).

use mpcw_plugin_sdk::{PluginError, Result};

use crate::keys::AddressKeys;

/// The network bytes of one Monero network (`src/cryptonote_config.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkBytes {
    /// `CRYPTONOTE_PUBLIC_ADDRESS_BASE58_PREFIX`.
    pub standard: u8,
    /// `CRYPTONOTE_PUBLIC_SUBADDRESS_BASE58_PREFIX`.
    pub subaddress: u8,
}

/// The network bytes of the registry's network `id`.
pub fn network_bytes(id: &str) -> Result<NetworkBytes> {
    match id {
        "monero" => Ok(NetworkBytes {
            standard: 18,
            subaddress: 42,
        }),
        "monero-testnet" => Ok(NetworkBytes {
            standard: 53,
            subaddress: 63,
        }),
        "monero-stagenet" => Ok(NetworkBytes {
            standard: 24,
            subaddress: 36,
        }),
        other => Err(PluginError::unknown_network(format!(
            "{other:?} is not a Monero network (monero, monero-stagenet, monero-testnet)"
        ))),
    }
}

/// The address of `keys` with the network byte `tag`.
pub fn encode(tag: u8, keys: &AddressKeys) -> Result<String> {
    let mut data = Vec::with_capacity(65);
    data.push(tag);
    data.extend_from_slice(&keys.spend);
    data.extend_from_slice(&keys.view);
    base58_monero::encode_check(&data)
        .map_err(|e| PluginError::internal(format!("base58 encoding: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_networks_are_refused() {
        assert!(network_bytes("monero").is_ok());
        let e = network_bytes("bitcoin").unwrap_err();
        assert!(e.message.contains("not a Monero network"), "{}", e.message);
    }
}
