//! What the fuzz targets share: the registry's networks as plugins see them, a wallet key per
//! scheme, and each plugin's entry points behind one call.

use mpcw_plugin_sdk::{Network, Plugin, PublicKey, Scheme, Signature};

/// The chain families, in the order a fuzz input's selector byte picks them.
pub const FAMILIES: [&str; 6] = ["ethereum", "conflux", "bitcoin", "solana", "ton", "monero"];

/// Every network of the built-in registry served by `family`, as the plugin receives it.
pub fn networks(family: &str) -> Vec<(Network, Scheme)> {
    let registry = mpcw_host::chains::Registry::builtin().expect("the built-in registry loads");
    registry
        .iter()
        .filter(|n| n.plugin == family)
        .map(|n| {
            let scheme = match n.scheme {
                mpcw_engine::Scheme::EcdsaSecp256k1 => Scheme::EcdsaSecp256k1,
                mpcw_engine::Scheme::Ed25519 => Scheme::Ed25519,
                mpcw_engine::Scheme::SchnorrBip340 => Scheme::SchnorrBip340,
            };
            let network = Network {
                id: n.id.clone(),
                name: n.name.clone(),
                chain_id: n.chain_id,
                symbol: n.symbol.clone(),
                decimals: n.decimals,
                address_prefix: n.address_prefix.clone(),
                testnet: n.testnet,
            };
            (network, scheme)
        })
        .collect()
}

/// A fixed valid public key of `scheme` (the generator point, or ed25519's base point), with a
/// view key for ed25519 (Monero asks for one).
pub fn key(scheme: Scheme) -> PublicKey {
    let (bytes, view_key) = match scheme {
        // secp256k1's generator G, compressed (SEC 2, section 2.4.1).
        Scheme::EcdsaSecp256k1 | Scheme::SchnorrBip340 => (
            hex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"),
            None,
        ),
        // ed25519's base point B (RFC 8032, section 5.1), and the scalar 1 as a view key.
        Scheme::Ed25519 => {
            let mut one = vec![0u8; 32];
            one[0] = 1;
            (
                hex("5866666666666666666666666666666666666666666666666666666666666666"),
                Some(one),
            )
        }
    };
    PublicKey {
        scheme,
        bytes,
        view_key,
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Run `family`'s plugin on `request` for `network`: `validate`, then `prepare` with the
/// scheme's key, then `finalize` with one signature of 64 `fill` bytes per payload. Errors are
/// values; a panic is a bug.
pub fn run_plugin(family: &str, request: &str, network: Network, scheme: Scheme, fill: u8) {
    match family {
        "ethereum" => run::<mpcw_plugin_ethereum::Evm>(request, network, scheme, fill),
        "conflux" => run::<mpcw_plugin_conflux::Conflux>(request, network, scheme, fill),
        "bitcoin" => run::<mpcw_plugin_bitcoin::Bitcoin>(request, network, scheme, fill),
        "solana" => run::<mpcw_plugin_solana::Solana>(request, network, scheme, fill),
        "ton" => run::<mpcw_plugin_ton::Ton>(request, network, scheme, fill),
        "monero" => run::<mpcw_plugin_monero::Monero>(request, network, scheme, fill),
        other => panic!("no family {other}"),
    }
}

fn run<P: Plugin>(request: &str, network: Network, scheme: Scheme, fill: u8) {
    let _ = P::validate(request.to_owned(), network.clone());
    let key = key(scheme);
    let Ok(prepared) = P::prepare(request.to_owned(), key.clone(), network.clone()) else {
        return;
    };
    let signatures = prepared
        .payloads
        .iter()
        .map(|p| Signature {
            scheme: p.scheme,
            bytes: vec![fill; 64],
            recovery_id: (p.scheme == Scheme::EcdsaSecp256k1).then_some(fill & 1),
        })
        .collect();
    let _ = P::finalize(request.to_owned(), key, network, signatures);
}
