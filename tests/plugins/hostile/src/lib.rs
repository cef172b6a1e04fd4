//! A chain plugin that misbehaves in the way the request names, to show the sandbox holds:
//! `loop`, `bomb`, `trap`, `recurse`, and several kinds of `garbage-*` output. `remember` tries
//! to keep state from one call to the next (a counter in its data, a marker on its heap) and
//! reports in the summary's title what it found of earlier calls. Any other request gets a
//! well-formed answer.

use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use mpcw_plugin_sdk::{
    Address, Detail, Finalized, MessageHash, Network, Payload, Plugin, PluginInfo, Prepared,
    PublicKey, Result, Scheme, Signature, Summary,
};

/// The plugin type.
pub struct Hostile;

fn summary(title: &str) -> Summary {
    Summary {
        title: title.into(),
        sender: None,
        recipient: None,
        amount: None,
        fee: None,
        contract_call: None,
        details: vec![Detail {
            label: "kind".into(),
            value: "hostile".into(),
        }],
        warnings: vec![],
    }
}

fn payload(scheme: Scheme, hash: MessageHash, len: usize) -> Payload {
    Payload {
        scheme,
        hash,
        bytes: vec![7; len],
        label: "payload".into(),
    }
}

/// Never returns, in a way the optimiser cannot remove.
fn spin() -> ! {
    let mut x: u64 = 1;
    loop {
        x = core::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

/// Allocates until the allocator fails.
fn bomb() -> usize {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(vec![1u8; 8 << 20]);
        core::hint::black_box(&hoard);
    }
}

/// Calls of `remember` this instance has seen.
static CALLS: AtomicU32 = AtomicU32::new(0);
/// Where an earlier `remember` left its marker on the heap (0: none).
static MARKER: AtomicUsize = AtomicUsize::new(0);

/// Counts this call, looks for an earlier call's heap marker, leaves its own, and says what it
/// found: `calls 1, no marker` unless state survived from a previous call.
fn remember() -> String {
    let calls = CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    let earlier = match MARKER.load(Ordering::SeqCst) {
        0 => "no marker".to_string(),
        at => {
            // SAFETY: a non-zero MARKER is the address of the leaked `u64` written below.
            let value = unsafe { *(at as *const u64) };
            format!("marker {value:#x}")
        }
    };
    let marker: &'static mut u64 = Box::leak(Box::new(0x5ec2e7_u64 + u64::from(calls)));
    MARKER.store(marker as *mut u64 as usize, Ordering::SeqCst);
    format!("calls {calls}, {earlier}")
}

/// Recurses without end.
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = core::hint::black_box([depth; 16]);
    recurse(frame[3] + 1) + frame[7]
}

impl Plugin for Hostile {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "hostile".into(),
            version: "0.0.1".into(),
            family: "test".into(),
            schemes: vec![Scheme::EcdsaSecp256k1],
            networks: vec![],
        }
    }

    fn addresses(_key: PublicKey, _network: Network) -> Result<Vec<Address>> {
        Ok(vec![])
    }

    fn validate(request: String, _network: Network) -> Result<()> {
        match request.as_str() {
            "loop" => spin(),
            "bomb" => {
                bomb();
            }
            "trap" => panic!("the hostile plugin panics on purpose"),
            _ => {}
        }
        Ok(())
    }

    fn prepare(request: String, key: PublicKey, _network: Network) -> Result<Prepared> {
        let mut prepared = Prepared {
            payloads: vec![payload(key.scheme, MessageHash::Keccak256, 40)],
            summary: summary("hostile"),
        };
        match request.as_str() {
            "loop" => spin(),
            "bomb" => {
                bomb();
            }
            "trap" => panic!("the hostile plugin panics on purpose"),
            "recurse" => {
                recurse(0);
            }
            "garbage-no-payload" => prepared.payloads.clear(),
            "garbage-digest" => prepared.payloads = vec![payload(key.scheme, MessageHash::None, 7)],
            "garbage-scheme" => {
                prepared.payloads = vec![payload(Scheme::Ed25519, MessageHash::None, 32)]
            }
            "remember" => prepared.summary.title = remember(),
            "garbage-summary" => prepared.summary.title = "\u{1b}[2Jpwned".into(),
            "garbage-huge-summary" => prepared.summary.title = "x".repeat(1 << 20),
            _ => {}
        }
        Ok(prepared)
    }

    fn finalize(
        request: String,
        _key: PublicKey,
        _network: Network,
        _signatures: Vec<Signature>,
    ) -> Result<Finalized> {
        let mut out = Finalized {
            raw: vec![1, 2, 3],
            encoded: "0x010203".into(),
            encoding: "hex".into(),
            id: "id".into(),
        };
        match request.as_str() {
            "garbage-encoding" => out.encoded = "0x0102ff".into(),
            "garbage-empty" => out.raw.clear(),
            _ => {}
        }
        Ok(out)
    }
}

mpcw_plugin_sdk::export_plugin!(Hostile);
