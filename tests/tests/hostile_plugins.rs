//! The sandbox holds against a hostile plugin: an endless loop, a memory bomb, a panic, runaway
//! recursion and garbage output each end in a clear error, the host keeps serving good plugins
//! meanwhile, and the next call works.

use std::sync::Arc;
use std::time::{Duration, Instant};

use k256::ecdsa::SigningKey;
use mpcw_host::plugin::{wit, Error, Limits, PluginSource, Runtime};
use mpcw_tests::{ecdsa_key, network, HOSTILE};
use serde_json::json;

fn runtime() -> Runtime {
    let runtime = mpcw_tests::runtime();
    runtime
        .load(PluginSource::Builtin("hostile".into()), HOSTILE)
        .expect("the hostile plugin loads: it only misbehaves when asked");
    runtime
}

fn key() -> wit::PublicKey {
    ecdsa_key(&SigningKey::from_slice(&[0x22; 32]).unwrap())
}

fn transfer() -> String {
    json!({
        "kind": "transaction", "nonce": 1, "gas": 21000, "value": "1000",
        "to": "0x3535353535353535353535353535353535353535",
        "maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "1000000000"
    })
    .to_string()
}

/// A good call to the EVM plugin works.
fn good_call_works(runtime: &Runtime) {
    let prepared = runtime
        .prepare("ethereum", &transfer(), &key(), &network("ethereum"))
        .expect("the EVM plugin still works");
    assert_eq!(prepared.payloads.len(), 1);
}

fn hostile(runtime: &Runtime, request: &str) -> Error {
    let started = Instant::now();
    let err = runtime
        .prepare("hostile", request, &key(), &network("ethereum"))
        .expect_err("the hostile call fails");
    eprintln!("{request} ({:.0?}): {err}", started.elapsed());
    err
}

#[test]
fn endless_loop_runs_out_of_fuel() {
    let runtime = runtime();
    let started = Instant::now();
    let err = hostile(&runtime, "loop");
    assert!(matches!(err, Error::OutOfFuel { .. }), "{err}");
    assert!(err.to_string().contains("fuel"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(60));
    good_call_works(&runtime);
}

#[test]
fn checking_a_request_is_sandboxed_too() {
    let runtime = runtime();
    let net = network("ethereum");
    let err = runtime.validate("hostile", "loop", &net).unwrap_err();
    assert!(matches!(err, Error::OutOfFuel { .. }), "{err}");
    let err = runtime.validate("hostile", "bomb", &net).unwrap_err();
    assert!(matches!(err, Error::MemoryLimit { .. }), "{err}");
    let err = runtime.validate("hostile", "trap", &net).unwrap_err();
    assert!(matches!(err, Error::Trap { .. }), "{err}");
    runtime.validate("hostile", "fine", &net).unwrap();
    good_call_works(&runtime);
}

#[test]
fn memory_bomb_hits_the_cap() {
    let runtime = runtime();
    let err = hostile(&runtime, "bomb");
    match &err {
        Error::MemoryLimit {
            requested, limit, ..
        } => {
            assert!(requested > limit);
            assert_eq!(*limit, Limits::default().memory_bytes);
        }
        other => panic!("expected a memory limit error, got {other}"),
    }
    good_call_works(&runtime);
}

#[test]
fn panic_is_a_trap_not_a_crash() {
    let runtime = runtime();
    let err = hostile(&runtime, "trap");
    assert!(matches!(err, Error::Trap { .. }), "{err}");
    good_call_works(&runtime);
}

#[test]
fn runaway_recursion_is_stopped() {
    let runtime = runtime();
    let err = hostile(&runtime, "recurse");
    assert!(
        matches!(err, Error::StackOverflow { .. } | Error::Trap { .. }),
        "{err}"
    );
    good_call_works(&runtime);
}

#[test]
fn garbage_output_is_refused() {
    let runtime = runtime();
    for (request, says) in [
        ("garbage-no-payload", "0 payloads"),
        ("garbage-digest", "bare ECDSA digest"),
        ("garbage-scheme", "wallet key is"),
        ("garbage-summary", "control characters"),
        ("garbage-huge-summary", "title is"),
    ] {
        let err = hostile(&runtime, request);
        assert!(matches!(err, Error::BadOutput { .. }), "{request}: {err}");
        assert!(err.to_string().contains(says), "{request}: {err}");
    }
    for request in ["garbage-encoding", "garbage-empty"] {
        let err = runtime
            .finalize("hostile", request, &key(), &network("ethereum"), &[])
            .unwrap_err();
        assert!(matches!(err, Error::BadOutput { .. }), "{request}: {err}");
    }
    // The plugin answers well when not asked to misbehave: the checks are not blanket refusals.
    runtime
        .prepare("hostile", "fine", &key(), &network("ethereum"))
        .unwrap();
    runtime
        .finalize("hostile", "fine", &key(), &network("ethereum"), &[])
        .unwrap();
    good_call_works(&runtime);
}

#[test]
fn bytes_that_are_not_a_plugin_are_refused() {
    let runtime = runtime();
    let core_module_not_component = b"\0asm\x01\0\0\0";
    for bytes in [
        &b"definitely not wasm"[..],
        &core_module_not_component[..],
        &HOSTILE[..HOSTILE.len() / 2],
    ] {
        let err = runtime
            .load(PluginSource::File("bad.wasm".into()), bytes)
            .unwrap_err();
        assert!(matches!(err, Error::Load { .. }), "{err}");
    }
    let err = runtime
        .prepare("no-such-plugin", "{}", &key(), &network("ethereum"))
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    good_call_works(&runtime);
}

/// Nothing survives a call: a plugin that keeps a counter in its data and a marker on its heap
/// finds neither on its next call, whether calls come one after another, between other
/// plugins' calls, or from several threads at once.
#[test]
fn no_state_survives_from_one_call_to_the_next() {
    let runtime = Arc::new(runtime());
    let remember = |runtime: &Runtime| {
        runtime
            .prepare("hostile", "remember", &key(), &network("ethereum"))
            .expect("remember is a well-formed call")
            .summary
            .title
    };
    for _ in 0..5 {
        assert_eq!(remember(&runtime), "calls 1, no marker");
    }
    good_call_works(&runtime);
    assert_eq!(remember(&runtime), "calls 1, no marker");
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let runtime = Arc::clone(&runtime);
            std::thread::spawn(move || (0..25).map(|_| remember(&runtime)).collect::<Vec<_>>())
        })
        .collect();
    for t in threads {
        for title in t.join().expect("a calling thread") {
            assert_eq!(title, "calls 1, no marker");
        }
    }
}

/// While hostile calls burn their fuel and memory on other threads, good calls keep being
/// served, and all of them succeed.
#[test]
fn host_keeps_serving_during_hostile_calls() {
    let runtime = Arc::new(runtime());
    let hostile_threads: Vec<_> = ["loop", "bomb", "loop", "trap"]
        .into_iter()
        .map(|request| {
            let runtime = Arc::clone(&runtime);
            std::thread::spawn(move || hostile(&runtime, request))
        })
        .collect();
    let mut served_during = 0;
    for _ in 0..50 {
        good_call_works(&runtime);
        if hostile_threads.iter().any(|t| !t.is_finished()) {
            served_during += 1;
        }
    }
    for t in hostile_threads {
        let err = t.join().expect("a hostile call never panics the host");
        assert!(!err.is_rejection(), "{err}");
    }
    eprintln!("{served_during} of 50 good calls were served while hostile calls ran");
    good_call_works(&runtime);
}

/// Bad requests to the real EVM plugin come back as error values with a useful message.
#[test]
fn evm_plugin_rejects_bad_requests_with_reasons() {
    let runtime = mpcw_tests::runtime();
    let eth = network("ethereum");
    let cases = [
        ("not json", "JSON".to_string()),
        (r#"{"kind":"transaction"}"#, "nonce".to_string()),
        (
            r#"{"kind":"transaction","nonce":1,"gas":21000,"gasPrice":1,"to":"0x35","value":1}"#,
            "to".to_string(),
        ),
        (
            r#"{"kind":"transaction","nonce":1,"gas":21000,"gasPrice":1,"to":"0x3535353535353535353535353535353535353535","value":"0x1000000000000000000000000000000000000000000000000000000000000000000"}"#,
            "value".to_string(),
        ),
        (
            r#"{"kind":"transaction","nonce":1,"gas":21000,"gasPrice":1,"to":"0x3535353535353535353535353535353535353535","colour":"blue"}"#,
            "colour".to_string(),
        ),
        (
            r#"{"kind":"transaction","chainId":137,"nonce":1,"gas":21000,"gasPrice":1,"to":"0x3535353535353535353535353535353535353535"}"#,
            "chain".to_string(),
        ),
        (r#"{"kind":"teleport"}"#, "teleport".to_string()),
    ];
    for (request, says) in cases {
        let err = runtime
            .prepare("ethereum", request, &key(), &eth)
            .unwrap_err();
        eprintln!("{err}");
        assert!(err.is_rejection(), "{request}: {err}");
        assert!(
            err.to_string().contains(&says),
            "{request}: {err} should mention {says}"
        );
    }
    let oversized = json!({
        "kind": "transaction", "nonce": 1, "gas": 21000, "gasPrice": 1,
        "to": "0x3535353535353535353535353535353535353535",
        "data": format!("0x{}", "ab".repeat(200 * 1024)),
    })
    .to_string();
    let err = runtime
        .prepare("ethereum", &oversized, &key(), &eth)
        .unwrap_err();
    assert!(err.is_rejection(), "{err}");
    let mut no_chain_id = eth.clone();
    no_chain_id.chain_id = None;
    let err = runtime
        .prepare("ethereum", &transfer(), &key(), &no_chain_id)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Rejected { code, .. } if *code == wit::ErrorCode::UnknownNetwork),
        "{err}"
    );
    let bad_key = wit::PublicKey {
        scheme: wit::Scheme::EcdsaSecp256k1,
        bytes: vec![5; 33],
        view_key: None,
    };
    let err = runtime.addresses("ethereum", &bad_key, &eth).unwrap_err();
    assert!(err.is_rejection(), "{err}");
}
