//! `mpcw demo --server …`: the whole story over HTTP, with this process as the user's device
//! (and the recovery holder) and a signing server as the other party: create 2-of-3 wallets,
//! show their addresses on every network, sign one transaction per chain family and verify each
//! signature independently, lose the device, recover with the recovery share, sign again from
//! the same address.

use std::time::Instant;

use anyhow::{bail, Context as _};
use mpcw_engine::Scheme;
use mpcw_host::api::{SigningView, WalletView};
use mpcw_host::chains::{Network, Registry};
use mpcw_host::config::Config;
use mpcw_host::device::{self, Client, LocalShare, SignSpec, WalletSpec};
use mpcw_host::plugin::{wit, Limits, Runtime};
use mpcw_host::server::Server;
use serde_json::json;

fn step(text: &str) {
    println!("  - {text}");
}

/// A sample PSBT spending a made-up 0.01 BTC output of the wallet's SegWit `address`: 0.001
/// BTC to BIP-143's example P2WPKH script, 0.0088 BTC back as change, 0.0002 BTC of fee.
fn sample_psbt(address: &str) -> Option<String> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let (_, version, program) = bech32::segwit::decode(address).ok()?;
    let v = version.to_u8();
    let mut ours = vec![if v == 0 { 0x00 } else { 0x50 + v }, program.len() as u8];
    ours.extend(program);
    let output = |out: &mut Vec<u8>, sats: u64, script: &[u8]| {
        out.extend(sats.to_le_bytes());
        out.push(script.len() as u8);
        out.extend_from_slice(script);
    };
    let mut tx = 2u32.to_le_bytes().to_vec();
    tx.push(1);
    tx.extend(sha2::Sha256::digest(b"mpcw demo funding"));
    tx.extend(0u32.to_le_bytes());
    tx.push(0);
    tx.extend(0xffff_fffdu32.to_le_bytes());
    tx.push(2);
    let recipient = hex::decode("00141d0f172a0ecb48aee1be1f2687d2963ae33f71a1").ok()?;
    output(&mut tx, 100_000, &recipient);
    output(&mut tx, 880_000, &ours);
    tx.extend(0u32.to_le_bytes());
    let mut psbt = b"psbt\xff".to_vec();
    psbt.extend([0x01, 0x00, tx.len() as u8]);
    psbt.extend(tx);
    psbt.push(0x00);
    let mut utxo = Vec::new();
    output(&mut utxo, 1_000_000, &ours);
    psbt.extend([0x01, 0x01, utxo.len() as u8]);
    psbt.extend(utxo);
    psbt.extend([0x00, 0x00, 0x00]);
    Some(base64::engine::general_purpose::STANDARD.encode(psbt))
}

/// The BIP-86 Taproot output key x(Q) of an internal key (33-byte compressed; only x counts),
/// computed here with k256 rather than by the plugin.
fn taproot_output_key(internal: &[u8]) -> anyhow::Result<[u8; 32]> {
    use k256::elliptic_curve::ops::Reduce;
    use k256::elliptic_curve::sec1::ToEncodedPoint;
    use sha2::Digest as _;
    let x = internal.get(1..33).context("a 33-byte key")?;
    let mut even = vec![0x02];
    even.extend_from_slice(x);
    let p = k256::PublicKey::from_sec1_bytes(&even)?;
    let tag = sha2::Sha256::digest(b"TapTweak");
    let t: [u8; 32] = sha2::Sha256::new()
        .chain_update(tag)
        .chain_update(tag)
        .chain_update(x)
        .finalize()
        .into();
    let t = <k256::Scalar as Reduce<k256::U256>>::reduce_bytes(&t.into());
    let q = (p.to_projective() + k256::ProjectivePoint::GENERATOR * t).to_affine();
    let mut out = [0u8; 32];
    out.copy_from_slice(&q.to_encoded_point(true).as_bytes()[1..]);
    Ok(out)
}

/// A sample request for `network`'s plugin from `address`.
fn sample_request(network: &Network, address: &str) -> Option<serde_json::Value> {
    Some(match network.plugin.as_str() {
        "bitcoin" => json!({"kind": "psbt", "psbt": sample_psbt(address)?}),
        "ethereum" => json!({
            "kind": "transaction", "from": address, "nonce": 0,
            "to": "0x3535353535353535353535353535353535353535", "value": "10000000000000000",
            "gas": 21000, "maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "1000000000",
        }),
        "conflux" => json!({
            "kind": "transaction", "from": address, "nonce": 0,
            "to": "0x1a2f80341409639ea6a35bbcab8299066109aa55", "value": "10000000000000000",
            "gas": 21000, "gasPrice": "1000000000", "storageLimit": 0, "epochHeight": 100,
        }),
        "ton" => json!({
            "kind": "transfer", "seqno": 0, "validUntil": 1_900_000_000u32,
            "messages": [{"to": "EQCDM_QGggZ3qMa_f3lRPk4_qLDnLTqdi6OkMAV2NB9r5TG3", "amount": "10000000"}],
        }),
        "solana" => json!({
            "kind": "transfer", "from": address, "lamports": "10000000",
            "to": "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
            "recentBlockhash": "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N",
        }),
        "monero" => json!({"kind": "message", "message": format!("mpcw demo: {address}")}),
        _ => return None,
    })
}

/// Check every signature of `view` over its payload under `key` with `k256` or
/// `ed25519-dalek`, not with the plugin (Monero's Schnorr signatures, which neither crate knows,
/// with the engine's `check_signature`).
fn verify(view: &SigningView, key: &[u8]) -> anyhow::Result<()> {
    use sha3::Digest as _;
    if view.signatures.len() != view.payloads.len() {
        bail!(
            "{} signatures for {} payloads",
            view.signatures.len(),
            view.payloads.len()
        );
    }
    for (payload, sig) in view.payloads.iter().zip(&view.signatures) {
        let bytes = hex::decode(&payload.bytes)?;
        match sig.scheme {
            wit::Scheme::EcdsaSecp256k1 => {
                let digest: [u8; 32] = match payload.hash.as_deref() {
                    Some("keccak256") => sha3::Keccak256::digest(&bytes).into(),
                    Some("double-sha256") => {
                        sha2::Sha256::digest(sha2::Sha256::digest(&bytes)).into()
                    }
                    other => {
                        bail!("the demo checks keccak-256 and SHA-256d payloads, not {other:?}")
                    }
                };
                let signature = k256::ecdsa::Signature::from_slice(&sig.bytes)?;
                let recid = k256::ecdsa::RecoveryId::from_byte(sig.recovery_id.unwrap_or(9))
                    .context("recovery id")?;
                let recovered =
                    k256::ecdsa::VerifyingKey::recover_from_prehash(&digest, &signature, recid)?;
                if recovered.to_encoded_point(true).as_bytes() != key {
                    bail!("the ECDSA signature recovers another key");
                }
            }
            wit::Scheme::Ed25519 if payload.hash.as_deref() == Some("monero") => {
                if !mpcw_engine::monero::verify(&bytes, key, &sig.bytes) {
                    bail!("the Monero signature does not verify");
                }
            }
            wit::Scheme::Ed25519 => {
                let vk = ed25519_dalek::VerifyingKey::from_bytes(key.try_into()?)?;
                let s = ed25519_dalek::Signature::from_slice(&sig.bytes)?;
                vk.verify_strict(&bytes, &s)?;
            }
            wit::Scheme::SchnorrBip340 => {
                let vk = k256::schnorr::VerifyingKey::from_bytes(&taproot_output_key(key)?)?;
                let s = k256::schnorr::Signature::try_from(sig.bytes.as_slice())?;
                vk.verify_raw(&bytes, &s)?;
            }
        }
    }
    Ok(())
}

/// Sign one transaction on every plugin family of the wallet's scheme, verify it, and return
/// the address used on each network.
async fn sign_everywhere(
    client: &Client,
    wallet: &WalletView,
    share: &LocalShare,
    registry: &Registry,
    runtime: &Runtime,
    who: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let listed = client.addresses(&wallet.id).await?;
    let mut seen_plugins = Vec::new();
    let mut used = Vec::new();
    for n in &listed {
        let network = registry.get(&n.network).context("network")?.clone();
        if seen_plugins.contains(&network.plugin) {
            continue;
        }
        seen_plugins.push(network.plugin.clone());
        let address = n.addresses[0].value.clone();
        let Some(request) = sample_request(&network, &address) else {
            step(&format!(
                "{who}: no sample request for {} (plugin {}); skipped",
                network.name, network.plugin
            ));
            continue;
        };
        let spec = SignSpec {
            request,
            network: network.clone(),
            signers: vec![share.index, wallet.server_index],
            bridge: None,
        };
        let t = Instant::now();
        let view = device::sign(client, wallet, share, &spec, Some(runtime), |_| {}).await?;
        let key = hex::decode(&n.public_key)?;
        verify(&view, &key)?;
        let result = view.result.context("no signed output")?;
        let output = if result.id.is_empty() {
            format!("signature {}", result.encoded)
        } else {
            format!("tx id {}", result.id)
        };
        step(&format!(
            "{who} signed on {}: \"{}\" in {:.2} s; signature verified independently; {output}",
            network.name,
            view.summary.title,
            t.elapsed().as_secs_f64(),
        ));
        used.push((network.id.clone(), address));
    }
    Ok(used)
}

/// Run the story against the server at `server` (`local`: one started here on loopback).
pub fn run(server: &str, schemes: &[Scheme]) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let dir = std::env::temp_dir().join(format!("mpcw-demo-{}", std::process::id()));
        let url = if server == "local" {
            std::fs::create_dir_all(&dir)?;
            let config = Config {
                listen: "127.0.0.1:0".parse()?,
                data_dir: dir.clone(),
                ..Config::default()
            };
            let server = Server::bind(config).await?;
            let url = format!("http://{}", server.local_addr()?);
            tokio::spawn(server.run(std::future::pending()));
            println!(
                "== a signing server on {url} (in this process, SQLite in {})",
                dir.display()
            );
            url
        } else {
            println!("== the signing server at {server}");
            server.to_owned()
        };
        let result = story(&url, schemes).await;
        std::fs::remove_dir_all(&dir).ok();
        result
    })
}

async fn story(url: &str, schemes: &[Scheme]) -> anyhow::Result<()> {
    let subject = format!("demo-{}", &mpcw_host::state::random_id("u")[2..10]);
    let token = Client::new(url).dev_login(&subject).await?;
    let client = Client::new(url).with_token(token.access_token);
    step(&format!("logged in as {}", token.subject));
    let registry = Registry::builtin()?;
    let runtime = Runtime::new(Limits::default(), None)?;
    runtime.load_builtin()?;

    for scheme in schemes {
        println!("\n== {scheme}: a 2-of-3 wallet (device 0, server 1, recovery 2) ==");
        let t = Instant::now();
        let spec = WalletSpec {
            scheme: *scheme,
            threshold: 2,
            parties: 3,
            local: vec![0, 2],
            label: Some("demo".into()),
        };
        let (wallet, shares) = device::create_wallet(&client, &spec, step).await?;
        step(&format!(
            "wallet {} created by distributed key generation in {:.1} s",
            wallet.id,
            t.elapsed().as_secs_f64()
        ));
        for n in client.addresses(&wallet.id).await? {
            for a in n.addresses {
                step(&format!("{:<24} {}", n.name, a.value));
            }
        }
        let mut shares = shares.into_iter().map(|s| LocalShare {
            index: s.index,
            keys: s.keys,
            share: s.share,
        });
        let (device_share, recovery) = (
            shares.next().context("share")?,
            shares.next().context("share")?,
        );
        let before = sign_everywhere(
            &client,
            &wallet,
            &device_share,
            &registry,
            &runtime,
            "device+server",
        )
        .await?;

        step(
            "the device is lost; the recovery share and the server reshare the key to a new device",
        );
        let t = Instant::now();
        let (reshared, new_shares) = device::recover(&client, &wallet, 0, &recovery, step).await?;
        step(&format!("recovered in {:.1} s", t.elapsed().as_secs_f64()));
        let fresh = new_shares
            .into_iter()
            .find(|s| s.index == 0)
            .context("no new device share")?;
        let new_device = LocalShare {
            index: 0,
            keys: fresh.keys,
            share: fresh.share,
        };
        let after = sign_everywhere(
            &client,
            &reshared,
            &new_device,
            &registry,
            &runtime,
            "new device+server",
        )
        .await?;
        if before != after {
            bail!("the recovered wallet signs from other addresses");
        }
        step("the same addresses as before the loss");
        let first = before
            .first()
            .context("the wallet signed on no network")?
            .clone();
        let stale = device::sign(
            &client,
            &wallet,
            &device_share,
            &SignSpec {
                network: registry.get(&first.0).context("network")?.clone(),
                request: sample_request(registry.get(&first.0).context("network")?, &first.1)
                    .context("a sample request")?,
                signers: vec![0, 1],
                bridge: None,
            },
            None,
            |_| {},
        )
        .await;
        if stale.is_ok() {
            bail!("the lost device's old share still signs");
        }
        step("the lost device's old share no longer signs with the server");
    }
    Ok(())
}
