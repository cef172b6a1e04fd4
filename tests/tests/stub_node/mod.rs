//! A stub node on loopback that answers the JSON-RPC calls of an Ethereum-like network and of
//! Solana with fixed chain data, and decodes what is sent to it with independent libraries:
//! alloy recovers an EVM transaction's sender, Solana's SDK verifies a transaction's
//! signatures. It can also answer nonsense, hang, or refuse sends with a message. It also
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
    if let (Mode::RefuseSends(m), "eth_sendRawTransaction" | "sendTransaction") =
        (&mode, method.as_str())
    {
        return Json(error(m.clone())).into_response();
    }
    let value = match method.as_str() {
        "eth_chainId" => result(hex(11155111)),
        "eth_blockNumber" => result(hex(BLOCK.into())),
        "eth_getBalance" => result(hex(BALANCE)),
        "getBalance" => result(json!({"context": {"slot": 1}, "value": 1_500_000_000u64})),
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

    /// The Solana transactions received so far.
    pub fn solana_sent(&self) -> Vec<SolanaSent> {
        self.log.lock().unwrap().solana.clone()
    }
}
