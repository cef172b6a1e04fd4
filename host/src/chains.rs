//! The network registry: one small TOML file per network (`chains/*.toml`), built into the
//! binary and extendable from a directory. A new EVM network is a file, not code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mpcw_engine::Scheme;
use serde::{Deserialize, Serialize};

use crate::plugin::wit;

mod derived;
pub use derived::DerivedKeys;

/// One network, as its registry file describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Registry id, used in the API and the CLI (`ethereum`, `polygon`, ...). Lower-case
    /// letters, digits and `-`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The plugin that serves it, by the name its `info()` gives.
    pub plugin: String,
    /// The signature scheme of the wallet key it uses.
    pub scheme: Scheme,
    /// Numeric chain id where the chain has one.
    #[serde(default)]
    pub chain_id: Option<u64>,
    /// Symbol of the native currency.
    pub symbol: String,
    /// Decimals of the native currency.
    pub decimals: u8,
    /// Non-hardened derivation path from the wallet's group key, e.g. `m/44/60/0/0/0`.
    pub derivation_path: String,
    /// Address prefix or network byte, where the chain has one.
    #[serde(default)]
    pub address_prefix: Option<String>,
    /// Whether this is a test network.
    #[serde(default)]
    pub testnet: bool,
    /// Explorer link for a transaction, with `{id}` where the id goes.
    #[serde(default)]
    pub explorer: Option<String>,
    /// The chain's public JSON-RPC endpoint, where the host asks for chain data (nonce, fees,
    /// recent blockhash) and broadcasts (see [`crate::nodes`]).
    #[serde(default)]
    pub rpc_url: Option<String>,
    /// Whether the plugin gets the wallet's private view key with the public key (Monero:
    /// an address is a spend key and a view key). Ed25519 networks only.
    #[serde(default)]
    pub view_key: bool,
}

impl Network {
    /// The derivation path as indices.
    pub fn path(&self) -> Result<Vec<u32>, RegistryError> {
        mpcw_engine::hd::parse_path(&self.derivation_path).map_err(|e| RegistryError::Invalid {
            source_name: self.id.clone(),
            message: format!("derivation_path: {e}"),
        })
    }

    /// The wallet's key at this network's path as plugins take it: the child public key, and
    /// the view key where the network has one. `child` is the extended key at [`Network::path`].
    pub fn plugin_key(
        &self,
        scheme: Scheme,
        child: &mpcw_engine::hd::ExtendedPublicKey,
    ) -> wit::PublicKey {
        wit::PublicKey {
            scheme: scheme.into(),
            bytes: child.public_key.clone(),
            view_key: (self.view_key && scheme == Scheme::Ed25519)
                .then(|| mpcw_engine::monero::view_key(child).to_vec()),
        }
    }

    /// The network as the plugin interface passes it.
    pub fn to_wit(&self) -> wit::Network {
        wit::Network {
            id: self.id.clone(),
            name: self.name.clone(),
            chain_id: self.chain_id,
            symbol: self.symbol.clone(),
            decimals: self.decimals,
            address_prefix: self.address_prefix.clone(),
            testnet: self.testnet,
        }
    }
}

/// A registry file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a valid network description.
    #[error("network file {source_name}: {message}")]
    Invalid {
        /// Where the description came from.
        source_name: String,
        /// What is wrong.
        message: String,
    },
}

/// All known networks, by id.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    networks: BTreeMap<String, Network>,
}

impl Registry {
    /// The networks built into the binary (the workspace's `chains/`).
    pub fn builtin() -> Result<Self, RegistryError> {
        let mut registry = Registry::default();
        for (name, text) in crate::builtin::CHAINS {
            registry.insert(parse(name, text)?);
        }
        Ok(registry)
    }

    /// Add or replace the networks described by `*.toml` files in `dir`.
    pub fn load_dir(&mut self, dir: &Path) -> Result<(), RegistryError> {
        let io = |source| RegistryError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().is_some_and(|x| x == "toml") {
                files.push(path);
            }
        }
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|source| RegistryError::Io {
                path: path.clone(),
                source,
            })?;
            self.insert(parse(&path.display().to_string(), &text)?);
        }
        Ok(())
    }

    /// Add or replace one network.
    pub fn insert(&mut self, network: Network) {
        self.networks.insert(network.id.clone(), network);
    }

    /// The network with `id`.
    pub fn get(&self, id: &str) -> Option<&Network> {
        self.networks.get(id)
    }

    /// Every network, ordered by id.
    pub fn iter(&self) -> impl Iterator<Item = &Network> {
        self.networks.values()
    }

    /// How many networks there are.
    pub fn len(&self) -> usize {
        self.networks.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }
}

/// Parse and check one network file.
pub fn parse(source_name: &str, text: &str) -> Result<Network, RegistryError> {
    let invalid = |message: String| RegistryError::Invalid {
        source_name: source_name.to_string(),
        message,
    };
    let network: Network = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let id_ok = !network.id.is_empty()
        && network.id.len() <= 64
        && network
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !id_ok {
        return Err(invalid(format!(
            "id {:?}: use 1 to 64 lower-case letters, digits and '-'",
            network.id
        )));
    }
    if network.symbol.is_empty() || network.name.is_empty() || network.plugin.is_empty() {
        return Err(invalid("name, symbol and plugin must not be empty".into()));
    }
    if network.decimals > 77 {
        return Err(invalid(format!(
            "decimals {} is more than a 256-bit amount has",
            network.decimals
        )));
    }
    if network.view_key && network.scheme != Scheme::Ed25519 {
        return Err(invalid(format!(
            "view_key: a view key exists for ed25519 wallets only, not {}",
            network.scheme.name()
        )));
    }
    network.path().map_err(|e| invalid(e.to_string()))?;
    Ok(network)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_networks_parse() {
        let registry = Registry::builtin().unwrap();
        let eth = registry.get("ethereum").unwrap();
        assert_eq!(eth.chain_id, Some(1));
        assert_eq!(eth.scheme, Scheme::EcdsaSecp256k1);
        assert_eq!(eth.path().unwrap(), vec![44, 60, 0, 0, 0]);
        assert_eq!(registry.get("polygon").unwrap().chain_id, Some(137));
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let base = crate::builtin::CHAINS
            .iter()
            .find(|(n, _)| *n == "ethereum.toml")
            .unwrap()
            .1;
        let hardened = base.replace("m/44/60/0/0/0", "m/44'/60'/0'/0/0");
        assert!(parse("x", &hardened)
            .unwrap_err()
            .to_string()
            .contains("derivation_path"));
        let unknown = format!("{base}\ncolour = \"blue\"\n");
        assert!(parse("x", &unknown)
            .unwrap_err()
            .to_string()
            .contains("colour"));
        let bad_id = base.replace("id = \"ethereum\"", "id = \"Ethereum Main\"");
        assert!(parse("x", &bad_id).is_err());
    }
}
