//! Running local parties against the server's relay.

use std::collections::BTreeSet;
use std::time::Duration;

use mpcw_engine::{Envelope, PartyIndex, Protocol, SessionContext};

use super::{DeviceError, LocalShare};
use crate::api::{PayloadView, Relayed, SigningView, WalletView};
use crate::mpc::{hash_from_name, sign_message, signing_party, SigningParty};

fn addressed(env: &Envelope, party: PartyIndex) -> bool {
    match env.to {
        Some(to) => to == party,
        None => env.from != party,
    }
}

/// Run `parties` (all of this device's parties of one session) to completion through the relay
/// of `session`: post what they send, long-poll what is addressed to them, in one round trip
/// where both are due. `first` holds what the server already sent them (from the answer that
/// started the session, if it carried any). A key generation's outputs are returned only after
/// the server reports the session done, that is, after it has stored its own share.
pub async fn run_parties<P: Protocol>(
    client: &super::Client,
    session: &str,
    mut parties: Vec<P>,
    first: &[Relayed],
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
    let mut batch = first.to_vec();
    loop {
        for m in batch {
            after = after.max(m.seq);
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
        for (p, o) in parties.iter_mut().zip(outputs.iter_mut()) {
            if o.is_none() {
                *o = p.take_output();
            }
        }
        let outgoing = std::mem::take(&mut outbox);
        if outputs.iter().all(Option::is_some) {
            client.post_messages(session, &outgoing).await?;
            break;
        }
        let fetched = client
            .exchange(session, &outgoing, &local, after, 5_000)
            .await?;
        if fetched.status.state == "failed" {
            return Err(DeviceError::Protocol(format!(
                "the session failed on the server: {}",
                fetched.status.error.unwrap_or_default()
            )));
        }
        if fetched.messages.is_empty() && fetched.status.state == "done" {
            return Err(DeviceError::Protocol(
                "the server finished the session but this device did not".into(),
            ));
        }
        batch = fetched.messages;
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

/// Wait until the server ends `session` (for key generation and resharing: its output stored;
/// for signing: the output finalized), long-polling the relay as party `party`; an error if it
/// failed.
pub async fn wait_done(
    client: &super::Client,
    session: &str,
    party: PartyIndex,
) -> Result<(), DeviceError> {
    let parties: BTreeSet<PartyIndex> = [party].into();
    for _ in 0..24 {
        // Nothing comes after u64::MAX: the call returns when the session ends or after 5 s.
        let status = client
            .fetch_messages(session, &parties, u64::MAX, 5_000)
            .await?
            .status;
        match status.state.as_str() {
            "done" => return Ok(()),
            "failed" => {
                return Err(DeviceError::Protocol(format!(
                    "the session failed on the server: {}",
                    status.error.unwrap_or_default()
                )))
            }
            _ => {}
        }
    }
    Err(DeviceError::Protocol(
        "the server did not finish the session within two minutes".into(),
    ))
}

/// This device's party of the session that signs `payload`.
pub fn signing_session(
    local: &LocalShare,
    wallet: &WalletView,
    view: &SigningView,
    payload: &PayloadView,
) -> Result<SigningParty, DeviceError> {
    let ctx =
        |id: &str| SessionContext::new(id, local.index, local.keys.clone(), wallet.roster.clone());
    let bytes = hex::decode(&payload.bytes)
        .map_err(|_| DeviceError::Protocol("payload bytes are not hex".into()))?;
    let message = hash_from_name(payload.hash.as_deref())
        .and_then(|hash| sign_message(local.share.scheme().into(), hash, bytes))
        .map_err(DeviceError::Protocol)?;
    Ok(signing_party(
        ctx(&payload.session)?,
        &local.share,
        &view.signers,
        &view.path,
        message,
    )?)
}
