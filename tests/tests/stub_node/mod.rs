//! A stub node on loopback that answers the JSON-RPC calls of an Ethereum-like network and of
//! Solana with fixed chain data, and decodes what is sent to it with independent libraries:
//! alloy recovers an EVM transaction's sender, Solana's SDK verifies a transaction's
//! signatures, the `rlp` crate reads a Conflux transaction, rust-bitcoin a Bitcoin one (sent to
//! its Esplora-style `POST /tx`); TON's `runGetMethod` and `sendBoc` are toncenter's. It can also answer nonsense, hang, or refuse sends with a message. It also
//! answers the reads a Dapp's page makes through ethers (block number, balance, the sent
//! transaction by its hash).

// Each test that includes it uses part of it.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{Transaction, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};
use solana_transaction::versioned::VersionedTransaction;

/// The nonce the stub gives every account.
pub const NONCE: u64 = 7;
/// The stub's latest blockhash.
pub const BLOCKHASH: &str = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N";
/// The next block's base fee: 2 gwei.
pub const BASE_FEE: u128 = 2_000_000_000;
/// The median of the stub's recent priority fees: 1.5 gwei.
pub const TIP: u128 = 1_500_000_000;
/// Its legacy gas price: 20 gwei.
pub const GAS_PRICE: u128 = 20_000_000_000;
/// Every account's balance: 1.5 ETH (or SOL's lamports alike).
pub const BALANCE: u128 = 1_500_000_000_000_000_000;
/// The latest block.
pub const BLOCK: u64 = 0x10;

/// How the stub answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// As a node does.
    Normal,
    /// With a page that is not JSON.
    Garbage,
    /// Not at all, for a minute.
    Hang,
    /// Sends refused with this message; everything else as a node does.
    RefuseSends(String),
}

/// An EVM transaction the stub received, as alloy reads it.
#[derive(Clone, Debug)]
pub struct EvmSent {
    /// The sender alloy recovered, EIP-55.
    pub sender: String,
    /// Chain id.
    pub chain_id: Option<u64>,
    /// Nonce.
    pub nonce: u64,
    /// Gas limit.
    pub gas: u64,
    /// Max fee per gas.
    pub max_fee: u128,
    /// Max priority fee per gas.
    pub max_priority_fee: Option<u128>,
    /// Its hash, as the stub answered.
    pub hash: String,
    /// The transaction as `eth_getTransactionByHash` answers it (pending).
    pub rpc: Value,
}

/// A Conflux Core transaction the stub received, read with the `rlp` crate.
#[derive(Clone, Debug)]
pub struct ConfluxSent {
    /// Nonce, storage limit and epoch height, as signed.
    pub nonce: u128,
    /// Storage limit.
    pub storage_limit: u128,
    /// Epoch height.
    pub epoch_height: u128,
    /// Its hash (keccak-256 of the raw transaction), as the stub answered.
    pub hash: String,
}

/// The one recent transaction the stub lists for every Solana address.
pub const RECENT_SIGNATURE: &str =
    "5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW";

/// The nonce the stub gives Conflux accounts.
pub const CFX_NONCE: u128 = 3;
/// The stub's latest epoch.
pub const EPOCH: u128 = 100;
/// The storage the stub says a transfer collateralizes.
pub const STORAGE: u128 = 64;
/// The seqno of every TON wallet at the stub.
pub const TON_SEQNO: u64 = 5;

/// A Solana transaction the stub received, its signatures verified by Solana's SDK.
#[derive(Clone, Debug)]
pub struct SolanaSent {
    /// The fee payer.
    pub payer: String,
    /// The recent blockhash it names.
    pub blockhash: String,
    /// Its first signature, as the stub answered.
    pub signature: String,
}

#[derive(Default)]
struct Log {
    mode: Option<Mode>,
    methods: Vec<String>,
    evm: Vec<EvmSent>,
    solana: Vec<SolanaSent>,
    conflux: Vec<ConfluxSent>,
    ton: Vec<String>,
    bitcoin: Vec<String>,
}

/// The stub node.
pub struct StubNode {
    /// Its URL.
    pub url: String,
    log: Arc<Mutex<Log>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StubNode {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn error(message: impl Into<String>) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": message.into()}})
}

fn result(value: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "result": value})
}

fn hex(n: u128) -> Value {
    json!(format!("{n:#x}"))
}

fn evm_send(raw: &str) -> Result<EvmSent, String> {
    let bytes = ::hex::decode(raw.trim_start_matches("0x")).map_err(|e| e.to_string())?;
    let tx = TxEnvelope::decode_2718(&mut bytes.as_slice()).map_err(|e| e.to_string())?;
    let sender = tx.recover_signer().map_err(|e| e.to_string())?;
    let q = |n: u128| format!("{n:#x}");
    let signature = tx.signature();
    let rpc = json!({
        "hash": format!("{:#x}", tx.tx_hash()),
        "blockHash": null, "blockNumber": null, "transactionIndex": null,
        "type": q(u8::from(tx.tx_type()).into()),
        "chainId": tx.chain_id().map(|c| q(c.into())),
        "nonce": q(tx.nonce().into()),
        "from": sender.to_checksum(None),
        "to": tx.to().map(|a| a.to_checksum(None)),
        "value": format!("{:#x}", tx.value()),
        "gas": q(tx.gas_limit().into()),
        "gasPrice": tx.gas_price().map(q),
        "maxFeePerGas": q(tx.max_fee_per_gas()),
        "maxPriorityFeePerGas": tx.max_priority_fee_per_gas().map(q),
        "input": format!("0x{}", ::hex::encode(tx.input())),
        "accessList": [],
        "yParity": q(signature.v().into()),
        "v": q(signature.v().into()),
        "r": format!("{:#x}", signature.r()),
        "s": format!("{:#x}", signature.s()),
    });
    Ok(EvmSent {
        rpc,
        sender: sender.to_checksum(None),
        chain_id: tx.chain_id(),
        nonce: tx.nonce(),
        gas: tx.gas_limit(),
        max_fee: tx.max_fee_per_gas(),
        max_priority_fee: tx.max_priority_fee_per_gas(),
        hash: format!("{:#x}", tx.tx_hash()),
    })
}

fn solana_send(wire: &str) -> Result<SolanaSent, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(wire)
        .map_err(|e| e.to_string())?;
    let tx: VersionedTransaction = bincode::deserialize(&bytes).map_err(|e| e.to_string())?;
    tx.verify_and_hash_message()
        .map_err(|e| format!("signature verification failed: {e}"))?;
    Ok(SolanaSent {
        payer: tx.message.static_account_keys()[0].to_string(),
        blockhash: tx.message.recent_blockhash().to_string(),
        signature: tx.signatures[0].to_string(),
    })
}

fn conflux_send(raw: &str) -> Result<ConfluxSent, String> {
    let bytes = ::hex::decode(raw.trim_start_matches("0x")).map_err(|e| e.to_string())?;
    let outer = rlp::Rlp::new(&bytes);
    let unsigned = outer.at(0).map_err(|e| e.to_string())?;
    let field = |i: usize| -> Result<u128, String> {
        let b: Vec<u8> = unsigned
            .at(i)
            .and_then(|f| f.data().map(<[u8]>::to_vec))
            .map_err(|e| e.to_string())?;
        Ok(b.iter().fold(0u128, |n, x| (n << 8) | u128::from(*x)))
    };
    Ok(ConfluxSent {
        nonce: field(0)?,
        storage_limit: field(5)?,
        epoch_height: field(6)?,
        hash: format!("0x{}", ::hex::encode(mpcw_tests::keccak256(&bytes))),
    })
}

/// Esplora's `POST /tx`: the raw transaction in hex, read by rust-bitcoin; its txid.
async fn esplora_tx(State(log): State<Arc<Mutex<Log>>>, body: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    let tx = ::hex::decode(body.trim())
        .map_err(|e| e.to_string())
        .and_then(|b| {
            bitcoin::consensus::deserialize::<bitcoin::Transaction>(&b).map_err(|e| e.to_string())
        });
    match tx {
        Ok(tx) => {
            let txid = tx.compute_txid().to_string();
            log.lock().unwrap().bitcoin.push(txid.clone());
            txid.into_response()
        }
        Err(e) => (
            axum::http::StatusCode::BAD_REQUEST,
            format!("sendrawtransaction RPC error: {{\"code\":-22,\"message\":\"TX decode failed: {e}\"}}"),
        )
            .into_response(),
    }
}

async fn answer(State(log): State<Arc<Mutex<Log>>>, body: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mode = log.lock().unwrap().mode.clone().unwrap_or(Mode::Normal);
    match mode {
        Mode::Garbage => return "<html>502 Bad Gateway</html>".into_response(),
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            return "late".into_response();
        }
        _ => {}
    }
    let Ok(call) = serde_json::from_str::<Value>(&body) else {
        return Json(error("parse error")).into_response();
    };
    let method = call["method"].as_str().unwrap_or_default().to_owned();
    let params = &call["params"];
    log.lock().unwrap().methods.push(method.clone());
    if let (
        Mode::RefuseSends(m),
        "eth_sendRawTransaction" | "sendTransaction" | "cfx_sendRawTransaction" | "sendBoc",
    ) = (&mode, method.as_str())
    {
        return Json(error(m.clone())).into_response();
    }
    let value = match method.as_str() {
        "eth_chainId" => result(hex(11155111)),
        "eth_blockNumber" => result(hex(BLOCK.into())),
        "eth_getBalance" => result(hex(BALANCE)),
        "getBalance" => result(json!({"context": {"slot": 1}, "value": 1_500_000_000u64})),
        "getSignaturesForAddress" => result(json!([{"signature": RECENT_SIGNATURE, "slot": 1,
            "blockTime": 1_764_000_000, "err": null, "memo": null, "confirmationStatus": "finalized"}])),
        "eth_getTransactionByHash" => {
            let hash = params[0].as_str().unwrap_or_default();
            let log = log.lock().unwrap();
            let found = log.evm.iter().find(|t| t.hash.eq_ignore_ascii_case(hash));
            result(found.map(|t| t.rpc.clone()).unwrap_or(Value::Null))
        }
        "eth_getTransactionCount" => result(hex(NONCE.into())),
        "eth_estimateGas" => result(hex(21000)),
        "eth_gasPrice" => result(hex(GAS_PRICE)),
        "eth_feeHistory" => result(json!({
            "oldestBlock": "0x10",
            "baseFeePerGas": ["0x3b9aca00", "0x3b9aca00", "0x3b9aca00", "0x3b9aca00", "0x3b9aca00", hex(BASE_FEE)],
            "gasUsedRatio": [0.5, 0.5, 0.5, 0.5, 0.5],
            "reward": [["0x3b9aca00"], ["0x77359400"], [hex(TIP)], ["0x3b9aca00"], ["0x77359400"]],
        })),
        "eth_sendRawTransaction" => match evm_send(params[0].as_str().unwrap_or_default()) {
            Ok(sent) => {
                let hash = sent.hash.clone();
                log.lock().unwrap().evm.push(sent);
                result(json!(hash))
            }
            Err(e) => error(format!("invalid raw transaction: {e}")),
        },
        "cfx_getNextNonce" => result(hex(CFX_NONCE)),
        "cfx_estimateGasAndCollateral" => result(json!({
            "gasLimit": hex(21000), "gasUsed": hex(21000), "storageCollateralized": hex(STORAGE),
        })),
        "cfx_epochNumber" => result(hex(EPOCH)),
        "cfx_gasPrice" => result(hex(1_000_000_000)),
        "cfx_sendRawTransaction" => match conflux_send(params[0].as_str().unwrap_or_default()) {
            Ok(sent) => {
                let hash = sent.hash.clone();
                log.lock().unwrap().conflux.push(sent);
                result(json!(hash))
            }
            Err(e) => error(format!("invalid raw transaction: {e}")),
        },
        "runGetMethod" => json!({"ok": true, "result": {
            "gas_used": 1, "exit_code": 0, "stack": [["num", format!("{TON_SEQNO:#x}")]],
        }}),
        "sendBoc" => match params["boc"].as_str() {
            Some(boc) => {
                log.lock().unwrap().ton.push(boc.to_owned());
                json!({"ok": true, "result": {"@type": "ok"}})
            }
            None => json!({"ok": false, "error": "boc is missing", "code": 400}),
        },
        "getLatestBlockhash" => result(json!({
            "context": {"slot": 1},
            "value": {"blockhash": BLOCKHASH, "lastValidBlockHeight": 150},
        })),
        "sendTransaction" => match solana_send(params[0].as_str().unwrap_or_default()) {
            Ok(sent) => {
                let signature = sent.signature.clone();
                log.lock().unwrap().solana.push(sent);
                result(json!(signature))
            }
            Err(e) => error(format!("invalid transaction: {e}")),
        },
        other => error(format!("method {other} not found")),
    };
    Json(value).into_response()
}

impl StubNode {
    /// Start the stub on a loopback port.
    pub async fn start() -> Self {
        let log = Arc::new(Mutex::new(Log::default()));
        let app = Router::new()
            .route("/", post(answer))
            .route("/tx", post(esplora_tx))
            .with_state(log.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, log, task }
    }

    /// Answer as `mode` from now on.
    pub fn set_mode(&self, mode: Mode) {
        self.log.lock().unwrap().mode = Some(mode);
    }

    /// The methods called so far.
    pub fn methods(&self) -> Vec<String> {
        self.log.lock().unwrap().methods.clone()
    }

    /// The EVM transactions received so far.
    pub fn evm_sent(&self) -> Vec<EvmSent> {
        self.log.lock().unwrap().evm.clone()
    }

    /// The Conflux transactions received so far.
    pub fn conflux_sent(&self) -> Vec<ConfluxSent> {
        self.log.lock().unwrap().conflux.clone()
    }

    /// The TON messages (BOCs, base64) received so far.
    pub fn ton_sent(&self) -> Vec<String> {
        self.log.lock().unwrap().ton.clone()
    }

    /// The txids of the Bitcoin transactions received so far.
    pub fn bitcoin_sent(&self) -> Vec<String> {
        self.log.lock().unwrap().bitcoin.clone()
    }

    /// The Solana transactions received so far.
    pub fn solana_sent(&self) -> Vec<SolanaSent> {
        self.log.lock().unwrap().solana.clone()
    }
}
