//! The in-process walkthrough behind `mpcw demo`.

use std::time::Instant;

use anyhow::{bail, Context as _};
use mpcw_engine::ecdsa::{EcdsaMessage, EcdsaSignConfig, EcdsaSignSession};
use mpcw_engine::keygen::{KeygenConfig, KeygenSession};
use mpcw_engine::reshare::{ReshareConfig, ReshareSession};
use mpcw_engine::schnorr::{SchnorrSignConfig, SchnorrSignSession};
use mpcw_engine::{sim, KeyShare, PartyIndex, PartyKeys, Roster, Scheme, SessionContext};
use rand_core::OsRng;

/// Options of `mpcw demo`.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// Schemes to walk through (comma-separated): ecdsa-secp256k1, ed25519, schnorr-bip340.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "ed25519,schnorr-bip340,ecdsa-secp256k1"
    )]
    schemes: Vec<String>,
    /// Walk the story over HTTP with a signing server as the server party, this process being
    /// the device and the recovery holder: a URL (`http://127.0.0.1:8420` for `mpcw serve`), or
    /// `local` for one started in this process on loopback. Without it, every party runs in this
    /// process.
    #[arg(long)]
    server: Option<String>,
}

const NAMES: [&str; 3] = ["device", "server", "recovery"];

fn roster(keys: &[PartyKeys]) -> Roster {
    keys.iter()
        .enumerate()
        .map(|(i, k)| (i as PartyIndex, k.public()))
        .collect()
}

fn ctx(keys: &[PartyKeys], session: &str, i: PartyIndex) -> anyhow::Result<SessionContext> {
    Ok(SessionContext::new(
        session,
        i,
        keys[i as usize].clone(),
        roster(keys),
    )?)
}

fn step(text: &str) {
    println!("  - {text}");
}

fn keygen(scheme: Scheme, keys: &[PartyKeys]) -> anyhow::Result<Vec<KeyShare>> {
    let config = KeygenConfig {
        scheme,
        threshold: 2,
        parties: 3,
    };
    let mut sessions = (0..3u16)
        .map(|i| {
            Ok(KeygenSession::new(
                ctx(keys, &format!("demo-dkg-{scheme}"), i)?,
                config,
            )?)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let start = Instant::now();
    let shares = sim::run(&mut sessions)?;
    step(&format!(
        "distributed key generation 2-of-3 done in {:.2} s",
        start.elapsed().as_secs_f64()
    ));
    Ok(shares)
}

fn sign(
    scheme: Scheme,
    keys: &[PartyKeys],
    shares: &[KeyShare],
    signers: [PartyIndex; 2],
    label: &str,
) -> anyhow::Result<Vec<u8>> {
    let who = format!(
        "{} + {}",
        NAMES[signers[0] as usize], NAMES[signers[1] as usize]
    );
    let start = Instant::now();
    let key = match scheme {
        Scheme::EcdsaSecp256k1 => {
            let msg = EcdsaMessage::Keccak256(format!("demo transfer ({label})").into_bytes());
            let mut sess = signers
                .iter()
                .map(|i| {
                    Ok(EcdsaSignSession::new(
                        ctx(keys, &format!("demo-sign-{label}"), *i)?,
                        &shares[*i as usize],
                        EcdsaSignConfig {
                            signers: signers.to_vec(),
                            path: vec![0],
                        },
                        &msg,
                    )?)
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let sig = sim::run(&mut sess)?.remove(0);
            let child = shares[0].derive(&[0])?.public_key;
            use k256::ecdsa::signature::hazmat::PrehashVerifier;
            let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&child)?;
            vk.verify_prehash(
                &msg.digest(),
                &k256::ecdsa::Signature::from_scalars(sig.r, sig.s)?,
            )
            .context("k256 rejected the signature")?;
            child
        }
        _ => {
            let message = format!("demo message ({label})").into_bytes();
            let config = SchnorrSignConfig {
                signers: signers.to_vec(),
                path: vec![0],
                message: message.clone(),
                taproot_merkle_root: None,
                variant: Default::default(),
            };
            let mut sess = signers
                .iter()
                .map(|i| {
                    Ok(SchnorrSignSession::new(
                        ctx(keys, &format!("demo-sign-{label}"), *i)?,
                        &shares[*i as usize],
                        config.clone(),
                    )?)
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let sig = sim::run(&mut sess)?.remove(0);
            if scheme == Scheme::Ed25519 {
                let vk = ed25519_dalek::VerifyingKey::from_bytes(
                    &sig.public_key
                        .clone()
                        .try_into()
                        .map_err(|_| anyhow::anyhow!("key length"))?,
                )?;
                vk.verify_strict(
                    &message,
                    &ed25519_dalek::Signature::from_slice(&sig.signature)?,
                )
                .context("ed25519-dalek rejected the signature")?;
            } else {
                let vk = k256::schnorr::VerifyingKey::from_bytes(&sig.public_key)?;
                vk.verify_raw(
                    &message,
                    &k256::schnorr::Signature::try_from(sig.signature.as_slice())?,
                )
                .context("k256 rejected the BIP-340 signature")?;
            }
            sig.public_key
        }
    };
    step(&format!(
        "{who} signed and the signature verifies under {} ({:.0} ms)",
        hex::encode(&key),
        start.elapsed().as_secs_f64() * 1e3
    ));
    Ok(key)
}

fn recover(
    scheme: Scheme,
    keys: &mut [PartyKeys],
    shares: &[KeyShare],
) -> anyhow::Result<Vec<KeyShare>> {
    keys[0] = PartyKeys::generate(&mut OsRng);
    step("the device is lost; a new device joins with new identity keys and no share");
    let config = ReshareConfig {
        key: shares[0].public_info(),
        old_signers: vec![1, 2],
        new_threshold: 2,
        new_parties: 3,
    };
    let current = [None, Some(&shares[1]), Some(&shares[2])];
    let mut sessions = (0..3u16)
        .map(|i| {
            Ok(ReshareSession::new(
                ctx(keys, &format!("demo-recover-{scheme}"), i)?,
                config.clone(),
                current[i as usize],
            )?)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let out = sim::run(&mut sessions)?;
    let fresh = out
        .into_iter()
        .map(|s| s.context("every party gets a share"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    step("server + recovery reshared the key to the new device: same public key, fresh shares");
    Ok(fresh)
}

/// Run the demo.
pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let schemes = args
        .schemes
        .iter()
        .map(|s| s.parse::<Scheme>())
        .collect::<Result<Vec<_>, _>>()?;
    if schemes.is_empty() {
        bail!("no scheme selected");
    }
    if let Some(server) = &args.server {
        return crate::demo_http::run(server, &schemes);
    }
    for scheme in schemes {
        println!("\n== {scheme}: a 2-of-3 wallet (device, server, recovery) ==");
        let mut keys: Vec<PartyKeys> = (0..3).map(|_| PartyKeys::generate(&mut OsRng)).collect();
        let shares = keygen(scheme, &keys)?;
        step(&format!(
            "group public key {}",
            hex::encode(shares[0].public_key())
        ));
        let before = sign(scheme, &keys, &shares, [0, 1], "device+server")?;
        sign(scheme, &keys, &shares, [1, 2], "server+recovery")?;
        let fresh = recover(scheme, &mut keys, &shares)?;
        let after = sign(scheme, &keys, &fresh, [0, 1], "new-device+server")?;
        if before != after {
            bail!("the recovered wallet signs under another key");
        }
        step("same key and address as before the loss");
    }
    Ok(())
}
