//! Plugin runtime benchmark: `cargo bench -p mpcw-host --bench plugins`.
//!
//! Prints, for each built-in plugin, the cold load time (compiling the component), the warm load
//! time (compiled code from the cache), and the median and 99th percentile of calls: `info` (a
//! call that does no work: the sandbox's own cost per call, a fresh store, an instance, the call
//! and its answer), `addresses` and
//! `prepare` for an EIP-1559 transfer and for EIP-712 typed data; then `prepare` of one typical
//! request of every other plugin.

use std::time::{Duration, Instant};

use mpcw_host::chains::Registry;
use mpcw_host::plugin::{wit, Limits, PluginSource, Runtime};

const CALLS: usize = 2000;

/// A labelled call to time.
type Row<'a> = (&'static str, Box<dyn FnMut() + 'a>);

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

fn time_calls(mut f: impl FnMut()) -> (Duration, Duration) {
    for _ in 0..50 {
        f();
    }
    let mut samples: Vec<Duration> = (0..CALLS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    (
        percentile(&mut samples, 0.5),
        percentile(&mut samples, 0.99),
    )
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let cache = std::env::temp_dir().join(format!("mpcw-bench-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    println!("| plugin | size | cold load (compile) | warm load (cache) |");
    println!("|---|---|---|---|");
    for (name, bytes) in mpcw_host::builtin::PLUGINS {
        let cold = Runtime::new(Limits::default(), Some(cache.clone())).unwrap();
        let t = Instant::now();
        cold.load(PluginSource::Builtin(name.to_string()), bytes)
            .unwrap();
        let cold_time = t.elapsed();
        let warm = Runtime::new(Limits::default(), Some(cache.clone())).unwrap();
        let t = Instant::now();
        let record = warm
            .load(PluginSource::Builtin(name.to_string()), bytes)
            .unwrap();
        let warm_time = t.elapsed();
        assert!(record.cached, "the second load comes from the cache");
        println!(
            "| {} | {} KiB | {} | {} |",
            record.name,
            bytes.len() / 1024,
            ms(cold_time),
            ms(warm_time)
        );
    }
    let _ = std::fs::remove_dir_all(&cache);

    let runtime = Runtime::new(Limits::default(), None).unwrap();
    runtime.load_builtin().unwrap();
    let net = Registry::builtin()
        .unwrap()
        .get("ethereum")
        .unwrap()
        .to_wit();
    // The public key of the secret 0x46...46 (EIP-155's example key).
    let key = wit::PublicKey {
        scheme: wit::Scheme::EcdsaSecp256k1,
        bytes: hex::decode("024bc2a31265153f07e70e0bab08724e6b85e217f8cd628ceb62974247bb493382")
            .unwrap(),
        view_key: None,
    };
    let transfer = serde_json::json!({
        "kind": "transaction", "nonce": 9, "gas": 21000, "value": "1000000000000000000",
        "to": "0x3535353535353535353535353535353535353535",
        "maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "1000000000"
    })
    .to_string();
    let typed = serde_json::json!({"kind": "typed_data", "typedData": {
        "types": {
            "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
            "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person"},
                     {"name": "contents", "type": "string"}]
        },
        "primaryType": "Mail",
        "domain": {"name": "Ether Mail", "version": "1", "chainId": 1,
                   "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
        "message": {
            "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
            "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
            "contents": "Hello, Bob!"
        }
    }})
    .to_string();

    println!();
    println!("| call (ethereum plugin, {CALLS} calls) | median | p99 |");
    println!("|---|---|---|");
    let rows: [Row; 4] = [
        (
            "info (does no work: the sandbox's own cost per call)",
            Box::new(|| {
                runtime.info("ethereum").unwrap();
            }),
        ),
        (
            "addresses (one address)",
            Box::new(|| {
                runtime.addresses("ethereum", &key, &net).unwrap();
            }),
        ),
        (
            "prepare EIP-1559 transfer",
            Box::new(|| {
                runtime.prepare("ethereum", &transfer, &key, &net).unwrap();
            }),
        ),
        (
            "prepare EIP-712 typed data",
            Box::new(|| {
                runtime.prepare("ethereum", &typed, &key, &net).unwrap();
            }),
        ),
    ];
    for (label, f) in rows {
        let (median, p99) = time_calls(f);
        println!("| {label} | {} | {} |", us(median), us(p99));
    }

    other_plugins(&runtime);
}

/// `prepare` of a typical request of each other plugin.
fn other_plugins(runtime: &Runtime) {
    let registry = Registry::builtin().unwrap();
    let key = |scheme, hex_key: &str| wit::PublicKey {
        scheme,
        bytes: hex::decode(hex_key).unwrap(),
        view_key: None,
    };
    // RFC 8032's first test key, and BIP-143's P2WPKH example key.
    let ed25519 = key(
        wit::Scheme::Ed25519,
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    );
    let secp = key(
        wit::Scheme::EcdsaSecp256k1,
        "025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee6357",
    );
    // BIP-143's native P2WPKH example as a PSBT with both inputs' witness UTXOs.
    let psbt = "cHNidP8BAKABAAAAAv/394gagJmvppQNQtHn9jYr7DgXHqPt9DNUHbTkrZafAAAAAADu////71HhuATMidGC0nllXDqonoFbGzCf4ofZsrVdV7kOxooBAAAAAP////8CICyyBgAAAAAZdqkUgoCzffN425n2b4XJWng6dqx6bVmIrJCTUQ0AAAAAGXapFDveQtvufk2+aiGy1Qzi8BZ/qoFZiKwRAAAAAAEBLEC+QCUAAAAAIyEDyfSDa5pPd/wNgfe8sBt/GzWRaGS5R2wkHOn8GYvSVDKsAAEBHwBGwyMAAAAAFgAUHQ8XKg7LSK7hvh8mh9KWOuM/caEAAAA=";
    // The same Ed25519 key with the Monero General Fund's published view key.
    let monero = wit::PublicKey {
        view_key: Some(
            hex::decode("f359631075708155cc3d92a32b75a7d02a5dcf27756707b47a2b31b21c389501")
                .unwrap(),
        ),
        ..ed25519.clone()
    };
    let blockhash = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N";
    let cases = [
        (
            "conflux: CIP-1559 transfer",
            "conflux",
            &secp,
            serde_json::json!({"kind": "transaction", "nonce": 5, "gas": 21000,
                "to": "cfx:aarc9abycue0hhzgyrr53m6cxedgccrmmyybjgh4xg", "value": "1",
                "maxFeePerGas": "2000000000", "maxPriorityFeePerGas": "1000000000",
                "storageLimit": 0, "epochHeight": 1}),
        ),
        (
            "bitcoin: PSBT, 2 inputs (BIP-143 example)",
            "bitcoin",
            &secp,
            serde_json::json!({"kind": "psbt", "psbt": psbt}),
        ),
        (
            "bitcoin: BIP-322 message",
            "bitcoin",
            &secp,
            serde_json::json!({"kind": "message", "message": "Hello World"}),
        ),
        (
            "solana: SPL token transfer with account creation",
            "solana",
            &ed25519,
            serde_json::json!({"kind": "token_transfer", "to": "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
                "mint": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "amount": 1, "decimals": 6,
                "createRecipientAccount": true, "recentBlockhash": blockhash}),
        ),
        (
            "ton: v5r1 transfer with a comment",
            "ton",
            &ed25519,
            serde_json::json!({"kind": "transfer", "seqno": 3, "validUntil": 1900000000u32,
                "messages": [{"to": "EQCDM_QGggZ3qMa_f3lRPk4_qLDnLTqdi6OkMAV2NB9r5TG3",
                    "amount": "1000000000", "comment": "thanks"}]}),
        ),
        (
            "monero: SigV2 message",
            "monero",
            &monero,
            serde_json::json!({"kind": "message", "message": "Sign in to example.com: nonce 8f2c"}),
        ),
    ];
    println!();
    println!("| prepare ({CALLS} calls) | median | p99 |");
    println!("|---|---|---|");
    for (label, network, key, request) in cases {
        let entry = registry.get(network).unwrap();
        let net = entry.to_wit();
        let request = request.to_string();
        let (median, p99) = time_calls(|| {
            runtime
                .prepare(&entry.plugin, &request, key, &net)
                .unwrap_or_else(|e| panic!("{label}: {e}"));
        });
        println!("| {label} | {} | {} |", us(median), us(p99));
    }
}
