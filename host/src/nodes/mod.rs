//! Chain data and broadcast: the host asks a network's node (its JSON-RPC endpoint, named by
//! the network file's `rpc_url` or the configuration's `rpc_urls`) for what a wallet fills in
//! when a Dapp leaves it out, and sends signed transactions to it when a request asks.
//!
//! - Ethereum-like networks ([`evm`]): `from`, `nonce` (`eth_getTransactionCount`, pending),
//!   `gas` (`eth_estimateGas`) and fees (`eth_feeHistory`, or `eth_gasPrice` for a legacy
//!   transaction); broadcast with `eth_sendRawTransaction`.
//! - Solana ([`solana`]): the recent blockhash (`getLatestBlockhash`); broadcast with
//!   `sendTransaction`.
//! - Conflux Core Space ([`conflux`]): `from`, `nonce` (`cfx_getNextNonce`), `gas` and
//!   `storageLimit` (`cfx_estimateGasAndCollateral`), `epochHeight` (`cfx_epochNumber`),
//!   `gasPrice`; broadcast with `cfx_sendRawTransaction`.
//! - TON ([`ton`], a toncenter-compatible API): `seqno` (the wallet's get method) and
//!   `validUntil`; broadcast with `sendBoc`.
//! - Bitcoin ([`bitcoin`], an Esplora-compatible API): a PSBT needs nothing filled in; a fully
//!   signed one is broadcast with `POST /tx`.
//!
//! Monero requests are left as they are (the Dapp gives every field), and cannot ask for a
//! broadcast. A node that cannot be reached, times out or answers nonsense is an error
//! with the node's words where it has any; nothing is retried, a send least of all.

mod bitcoin;
mod conflux;
mod evm;
mod jsonrpc;
mod solana;
mod ton;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::chains::{Network, Registry};
use crate::plugin::wit;

/// Why a node gave nothing usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// The network has no endpoint.
    #[error("network {0} has no node endpoint (rpc_url)")]
    NoEndpoint(String),
    /// The node could not be reached, or did not answer in time.
    #[error("the network's node could not be reached: {0}")]
    Unreachable(String),
    /// The node answered something other than its API documents.
    #[error("the network's node answered nonsense: {0}")]
    Garbage(String),
    /// The node answered with an error.
    #[error("the network's node refused {method}: {message} (code {code})")]
    Refused {
        /// The method called.
        method: String,
        /// The node's error code.
        code: i64,
        /// The node's message.
        message: String,
    },
    /// There is nothing to send yet.
    #[error("{0}")]
    NotSendable(String),
    /// The method is not a read this server passes on.
    #[error("{0} is not a read this server passes to the network's node")]
    NotARead(String),
    /// A field cannot be filled in without the sender.
    #[error("{0} cannot be filled in without the sender: give `from`, or name a connection")]
    NeedsSender(String),
}

/// A field the host filled in, as it was put in the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilledField {
    /// The request's field name.
    pub field: String,
    /// Its value.
    pub value: Value,
}

/// A request with what was missing filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct Filled {
    /// The completed request.
    pub request: Value,
    /// What was added, in order.
    pub fields: Vec<FilledField>,
}

impl Filled {
    /// `request` as it is.
    fn unchanged(request: &Value) -> Self {
        Self {
            request: request.clone(),
            fields: Vec::new(),
        }
    }

    /// The account that sends the request: its own `from`, or `sender` (then put in `from`
    /// and noted); `what` names the fields that need it, for the error without either.
    fn sender(&mut self, sender: Option<&str>, what: &str) -> Result<String, NodeError> {
        if let Some(from) = self.request.get("from").and_then(Value::as_str) {
            return Ok(from.to_owned());
        }
        let from = sender
            .ok_or_else(|| NodeError::NeedsSender(what.into()))?
            .to_owned();
        self.set("from", Value::String(from.clone()));
        Ok(from)
    }

    /// Put `value` in `field`, and note it.
    fn set(&mut self, field: &str, value: Value) {
        if let Some(object) = self.request.as_object_mut() {
            object.insert(field.to_owned(), value.clone());
            self.fields.push(FilledField {
                field: field.to_owned(),
                value,
            });
        }
    }
}

/// Whether `request`'s `field` is absent or null.
fn missing(request: &Value, field: &str) -> bool {
    request.get(field).is_none_or(Value::is_null)
}

/// The nodes of the registry's networks, and the HTTP client that calls them.
pub struct Nodes {
    http: reqwest::Client,
    urls: BTreeMap<String, String>,
}

impl Nodes {
    /// The endpoints of `registry`'s networks: the network files' `rpc_url`s if `public` is
    /// set, then `overrides` (network id → URL) over them. Calls give up after `timeout`.
    pub fn new(
        registry: &Registry,
        overrides: &BTreeMap<String, String>,
        public: bool,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let mut urls = BTreeMap::new();
        if public {
            for n in registry.iter() {
                if let Some(url) = &n.rpc_url {
                    urls.insert(n.id.clone(), url.clone());
                }
            }
        }
        for (id, url) in overrides {
            anyhow::ensure!(
                registry.get(id).is_some(),
                "rpc_urls names network {id:?}, which is not in the registry"
            );
            urls.insert(id.clone(), url.clone());
        }
        crate::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { http, urls })
    }

    /// Whether network `id` has a node.
    pub fn has(&self, id: &str) -> bool {
        self.urls.contains_key(id)
    }

    fn url(&self, network: &Network) -> Result<&str, NodeError> {
        self.urls
            .get(&network.id)
            .map(String::as_str)
            .ok_or_else(|| NodeError::NoEndpoint(network.id.clone()))
    }

    /// `request` on `network` with what a wallet fills in added, asking the network's node;
    /// `sender` is the account that signs it, if known besides the request's `from`. A
    /// request with nothing to fill in, or on a network without a node, is left as it is.
    pub async fn fill(
        &self,
        network: &Network,
        request: &Value,
        sender: Option<&str>,
    ) -> Result<Filled, NodeError> {
        let Ok(url) = self.url(network) else {
            return Ok(Filled::unchanged(request));
        };
        let node = Node {
            http: &self.http,
            url,
        };
        match network.plugin.as_str() {
            "ethereum" => evm::fill(&node, request, sender).await,
            "solana" => solana::fill(&node, request, sender).await,
            "conflux" => conflux::fill(&node, request, sender).await,
            "ton" => ton::fill(&node, request, sender, crate::state::now()).await,
            _ => Ok(Filled::unchanged(request)),
        }
    }

    /// Why `request` on `network` cannot be broadcast, if it cannot.
    pub fn check_broadcast(&self, network: &Network, request: &Value) -> Result<(), String> {
        if !self.has(&network.id) {
            return Err(format!(
                "network {} has no node endpoint to broadcast to",
                network.id
            ));
        }
        let kind = request.get("kind").and_then(Value::as_str).unwrap_or("");
        let sendable = match network.plugin.as_str() {
            "ethereum" => evm::SENDABLE.contains(&kind),
            "solana" => solana::SENDABLE.contains(&kind),
            "conflux" => conflux::SENDABLE.contains(&kind),
            "ton" => ton::SENDABLE.contains(&kind),
            "bitcoin" => bitcoin::SENDABLE.contains(&kind),
            _ => false,
        };
        if sendable {
            Ok(())
        } else {
            Err(format!(
                "a {kind:?} request on network {} cannot be broadcast",
                network.id
            ))
        }
    }

    /// A read of `network`'s chain (a JSON-RPC `method` the network's family lists as a read:
    /// no sends, no filters, no subscriptions), answered by its node.
    pub async fn read(
        &self,
        network: &Network,
        method: &str,
        params: Value,
    ) -> Result<Value, NodeError> {
        let reads = match network.plugin.as_str() {
            "ethereum" => evm::READS,
            "solana" => solana::READS,
            "conflux" => conflux::READS,
            "ton" => ton::READS,
            _ => &[],
        };
        if !reads.contains(&method) {
            return Err(NodeError::NotARead(method.chars().take(64).collect()));
        }
        let node = Node {
            http: &self.http,
            url: self.url(network)?,
        };
        node.call(method, params).await
    }

    /// Send the signed transaction to `network`'s node, once: the transaction id the node
    /// gives.
    pub async fn broadcast(
        &self,
        network: &Network,
        signed: &wit::Finalized,
    ) -> Result<String, NodeError> {
        let node = Node {
            http: &self.http,
            url: self.url(network)?,
        };
        let raw = &signed.raw;
        match network.plugin.as_str() {
            "ethereum" => evm::broadcast(&node, raw).await,
            "solana" => solana::broadcast(&node, raw).await,
            "conflux" => conflux::broadcast(&node, raw).await,
            "ton" => ton::broadcast(&node, signed).await,
            "bitcoin" => bitcoin::broadcast(&node, signed).await,
            other => Err(NodeError::NoEndpoint(format!(
                "{} (plugin {other} has no broadcast)",
                network.id
            ))),
        }
    }
}

/// One node to call.
struct Node<'a> {
    http: &'a reqwest::Client,
    url: &'a str,
}

impl Node<'_> {
    async fn call(&self, method: &str, params: Value) -> Result<Value, NodeError> {
        jsonrpc::call(self.http, self.url, method, params).await
    }
}
