//! Running local parties against the server's relay.

use std::collections::BTreeSet;
use std::time::Duration;

use mpcw_engine::ecdsa::{EcdsaSignSession, PresignConfig, PresignSession};
use mpcw_engine::schnorr::{SchnorrSignConfig, SchnorrSignSession};
use mpcw_engine::{EcdsaMessage, Envelope, PartyIndex, Protocol, SessionContext};

use super::{DeviceError, LocalShare};
use crate::api::{PayloadView, SigningView, WalletView};
use crate::mpc::{Map, Then};

fn addressed(env: &Envelope, party: PartyIndex) -> bool {
    match env.to {
        Some(to) => to == party,
        None => env.from != party,
    }
}

/// Run `parties` (all of this device's parties of one session) to completion through the relay
/// of `session`: post what they send, long-poll what is addressed to them. A key generation's
/// outputs are returned only after the server reports the session done, that is, after it has
/// stored its own share.
pub async fn run_parties<P: Protocol>(
    client: &super::Client,
    session: &str,
    mut parties: Vec<P>,
    progress: &mut impl FnMut(&str),
) -> Result<Vec<P::Output>, DeviceError> {
    let local: BTreeSet<PartyIndex> = parties.iter().map(|p| p.party()).collect();
    let mut outputs: Vec<Option<P::Output>> = parties.iter().map(|_| None).collect();
    let mut outbox = Vec::new();
    for p in parties.iter_mut() {
        outbox.extend(p.start()?);
    }
    let mut after = 0;
    let mut received = 0usize;
    let mut last_note = std::time::Instant::now();
    loop {
        for (p, o) in parties.iter_mut().zip(outputs.iter_mut()) {
            if o.is_none() {
                *o = p.take_output();
            }
        }
        client
            .post_messages(session, &std::mem::take(&mut outbox))
            .await?;
        if outputs.iter().all(Option::is_some) {
            break;
        }
        let batch = client.fetch_messages(session, &local, after, 5_000).await?;
        if batch.status.state == "failed" {
            return Err(DeviceError::Protocol(format!(
                "the session failed on the server: {}",
                batch.status.error.unwrap_or_default()
            )));
        }
        if batch.messages.is_empty() && batch.status.state == "done" {
            return Err(DeviceError::Protocol(
                "the server finished the session but this device did not".into(),
            ));
        }
        for m in batch.messages {
            after = m.seq;
            received += 1;
            for p in parties.iter_mut() {
                if !addressed(&m.envelope, p.party()) {
                    continue;
                }
                match p.handle(&m.envelope) {
                    Ok(out) => outbox.extend(out),
                    Err(e) if e.is_fatal() => return Err(e.into()),
                    Err(_) => {}
                }
            }
        }
        if last_note.elapsed() > Duration::from_secs(10) {
            progress(&format!("… {received} messages so far"));
            last_note = std::time::Instant::now();
        }
    }
    Ok(outputs
        .into_iter()
        .map(|o| o.expect("all finished"))
        .collect())
}

/// Wait until the server reports `session` done (its output stored).
pub async fn wait_done(client: &super::Client, session: &str) -> Result<(), DeviceError> {
    for _ in 0..1200 {
        let s = client.session(session).await?;
        match s.state.as_str() {
            "done" => return Ok(()),
            "failed" => {
                return Err(DeviceError::Protocol(format!(
                    "the session failed on the server: {}",
                    s.error.unwrap_or_default()
                )))
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    Err(DeviceError::Protocol(
        "the server did not finish the session".into(),
    ))
}

/// This device's party of the session that signs `payload`.
pub(super) fn signing_session(
    local: &LocalShare,
    wallet: &WalletView,
    view: &SigningView,
    payload: &PayloadView,
) -> Result<Box<dyn Protocol<Output = ()>>, DeviceError> {
    let ctx =
        |id: &str| SessionContext::new(id, local.index, local.keys.clone(), wallet.roster.clone());
    let bytes = hex::decode(&payload.bytes)
        .map_err(|_| DeviceError::Protocol("payload bytes are not hex".into()))?;
    if local.share.scheme().name() != payload.scheme {
        return Err(DeviceError::Protocol(
            "payload is for another scheme".into(),
        ));
    }
    let session: Box<dyn Protocol<Output = ()>> = match payload.hash.as_deref() {
        Some(hash) => {
            let message = match hash {
                "keccak256" => EcdsaMessage::Keccak256(bytes),
                "sha256" => EcdsaMessage::Sha256(bytes),
                "double-sha256" => EcdsaMessage::DoubleSha256(bytes),
                other => {
                    return Err(DeviceError::Protocol(format!(
                        "unknown message hash {other:?}"
                    )))
                }
            };
            let first = PresignSession::new(
                ctx(&payload.session)?,
                &local.share,
                PresignConfig {
                    signers: view.signers.clone(),
                    path: view.path.clone(),
                },
            )?;
            let second_id = format!("{}/sign", payload.session);
            let ctx2 = ctx(&second_id)?;
            Box::new(Map::new(
                Then::new(first, second_id, move |p| {
                    EcdsaSignSession::new(ctx2, p, message)
                }),
                |_| (),
            ))
        }
        None => Box::new(Map::new(
            SchnorrSignSession::new(
                ctx(&payload.session)?,
                &local.share,
                SchnorrSignConfig {
                    signers: view.signers.clone(),
                    path: view.path.clone(),
                    message: bytes,
                    taproot_merkle_root: None,
                },
            )?,
            |_| (),
        )),
    };
    Ok(session)
}
