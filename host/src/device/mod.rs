//! The user's device as a party: it runs its own protocol sessions (and, when creating a wallet,
//! the recovery party's) with the same engine as the server, carrying their messages through the
//! server's relay, and keeps its share sealed under a password on local disk.

mod client;
mod local;
mod run;

use std::collections::BTreeMap;

use mpcw_engine::keygen::{KeygenConfig, KeygenSession};
use mpcw_engine::{KeyShare, PartyIndex, PartyKeys, Roster, Scheme, SessionContext};

pub use client::{Client, IDLE_CONNECTION};
pub use local::{DeviceFile, LocalShare};
pub use run::{run_parties, signing_session, wait_done};

use crate::api::{CreateWallet, SigningView, StartSigning, WalletView};

/// What can go wrong on the device side.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The server could not be reached or did not answer.
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// The server answered with an error.
    #[error("server said {status} {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The API's error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// The protocol failed on this device.
    #[error("protocol: {0}")]
    Engine(#[from] mpcw_engine::Error),
    /// The session or the server's answers did not go as the protocol needs.
    #[error("{0}")]
    Protocol(String),
    /// Local storage failed.
    #[error("local storage: {0}")]
    Local(String),
    /// This device's parties finished a key generation or resharing, but whether the server
    /// stored its side is not known (it stopped answering at the end). Keep these shares next
    /// to the ones from before: once the server answers, [`in_force`] tells which hold.
    #[error("the server did not confirm the new shares ({reason}); keep them until it does")]
    Unconfirmed {
        /// The wallet.
        wallet_id: String,
        /// The new shares of this device's parties.
        shares: Vec<NewShare>,
        /// Why the server's confirmation is missing.
        reason: String,
    },
}

/// Whether `share` is in force for `wallet` as the server shows it now: the server lists the
/// same public shares (a share from before a resharing the server completed, or from one it
/// never stored, is not).
pub fn in_force(wallet: &WalletView, share: &KeyShare) -> bool {
    wallet
        .public_key
        .as_ref()
        .is_some_and(|info| info.public_shares == share.public_info().public_shares)
}

/// A share this device (or the recovery holder) ended up with.
#[derive(Debug)]
pub struct NewShare {
    /// Party index.
    pub index: PartyIndex,
    /// The party's identity keys for this wallet.
    pub keys: PartyKeys,
    /// The share.
    pub share: KeyShare,
}

/// What wallet to create.
#[derive(Clone, Debug)]
pub struct WalletSpec {
    /// Signature scheme.
    pub scheme: Scheme,
    /// Parties needed to sign.
    pub threshold: u16,
    /// Parties holding shares.
    pub parties: u16,
    /// The parties that run here (the device's own and, usually, the recovery party); the
    /// server takes the first index not among them.
    pub local: Vec<PartyIndex>,
    /// A name for the wallet.
    pub label: Option<String>,
}

/// Create a wallet with the server: the `spec.local` parties run here, the server runs its own.
pub async fn create_wallet(
    client: &Client,
    spec: &WalletSpec,
    mut progress: impl FnMut(&str),
) -> Result<(WalletView, Vec<NewShare>), DeviceError> {
    let (scheme, threshold, parties, local) =
        (spec.scheme, spec.threshold, spec.parties, &spec.local[..]);
    let label = spec.label.clone();
    let keys: BTreeMap<PartyIndex, PartyKeys> = local
        .iter()
        .map(|i| (*i, PartyKeys::generate(&mut rand_core::OsRng)))
        .collect();
    let roster: Roster = keys.iter().map(|(i, k)| (*i, k.public())).collect();
    let server_index = (0..parties)
        .find(|i| !local.contains(i))
        .ok_or_else(|| DeviceError::Protocol("no party index is left for the server".into()))?;
    let idem = crate::state::random_id("idem");
    let created = client
        .create_wallet(
            &CreateWallet {
                scheme: scheme.name().into(),
                threshold,
                parties,
                server_index: Some(server_index),
                roster,
                label,
            },
            Some(&idem),
        )
        .await?;
    progress(&format!(
        "wallet {} created; key generation session {}",
        created.wallet.id, created.session.id
    ));
    let full_roster = created.wallet.roster.clone();
    let config = KeygenConfig {
        scheme,
        threshold,
        parties,
    };
    let mut sessions = Vec::new();
    for (i, k) in &keys {
        let ctx = SessionContext::new(
            created.session.id.clone(),
            *i,
            k.clone(),
            full_roster.clone(),
        )?;
        sessions.push(KeygenSession::new(ctx, config)?);
    }
    progress("running distributed key generation");
    let shares = run_parties(client, &created.session.id, sessions, &[], &mut progress).await?;
    let out: Vec<NewShare> = keys
        .into_iter()
        .zip(shares)
        .map(|((index, keys), share)| NewShare { index, keys, share })
        .collect();
    if let Err(e) = wait_done(client, &created.session.id, local[0]).await {
        return Err(unconfirmed(&created.wallet.id, out, e));
    }
    let wallet = client.wallet(&created.wallet.id).await?;
    let group = wallet
        .public_key
        .as_ref()
        .ok_or_else(|| DeviceError::Protocol("the server has no key for the wallet".into()))?;
    for s in &out {
        if hex::encode(s.share.public_key()) != group.public_key {
            return Err(DeviceError::Protocol(
                "the server's group key differs from this device's".into(),
            ));
        }
    }
    Ok((wallet, out))
}

/// What to sign.
#[derive(Clone, Debug)]
pub struct SignSpec {
    /// The network.
    pub network: crate::chains::Network,
    /// The request, as the network's plugin documents it.
    pub request: serde_json::Value,
    /// Wallet indices of the signers: this party, the server, and any others.
    pub signers: Vec<PartyIndex>,
    /// The bridge request this signing approves, if any.
    pub bridge: Option<String>,
}

/// Sign with the server: the server's plugin prepares the request, this device checks the
/// payloads against its own run of the same plugin (if `runtime` is given), co-signs each
/// payload with `local`, and waits for the finalized output.
pub async fn sign(
    client: &Client,
    wallet: &WalletView,
    local: &LocalShare,
    spec: &SignSpec,
    runtime: Option<&crate::plugin::Runtime>,
    mut progress: impl FnMut(&str),
) -> Result<SigningView, DeviceError> {
    let (started, own) = start_signing(client, wallet, local, spec, runtime).await?;
    progress(&format!(
        "signing request {}: {}",
        started.id, started.summary.title
    ));
    if let Some(own) = own {
        same_payloads(&own?, &started)?;
        progress("payloads match this device's own run of the plugin");
    }
    for payload in &started.payloads {
        let session = run::signing_session(local, wallet, &started, payload)?;
        let first = &payload.messages;
        if let Err(e) = run_parties(
            client,
            &payload.session,
            vec![session],
            first,
            &mut progress,
        )
        .await
        {
            // Another of the owner's clients may have read the outcome first, which frees the
            // relay's copy of the last messages: the outcome is what counts.
            return match client.signing(&started.id).await {
                Ok(view) if view.status == "done" => Ok(view),
                _ => Err(e),
            };
        }
    }
    // The server finalizes once every session is done, stores the outcome, then ends the
    // sessions; the read waits for that.
    let view = signing_outcome(client, &started.id).await?;
    match view.status.as_str() {
        "done" => Ok(view),
        _ => Err(DeviceError::Protocol(format!(
            "signing failed: {}",
            view.error.unwrap_or_default()
        ))),
    }
}

/// Start signing `spec` with `wallet` (under a fresh idempotency key, so a retried start is the
/// same request), and meanwhile, given a plugin runtime, prepare the request with this device's
/// own plugin ([`own_payloads`]; hold the result against the answer with [`same_payloads`]).
/// The start is sent when it is first polled, before the plugin runs, so the two run at once.
pub async fn start_signing(
    client: &Client,
    wallet: &WalletView,
    local: &LocalShare,
    spec: &SignSpec,
    runtime: Option<&crate::plugin::Runtime>,
) -> Result<(SigningView, Option<Result<Vec<Vec<u8>>, DeviceError>>), DeviceError> {
    let body = StartSigning {
        network: spec.network.id.clone(),
        request: spec.request.clone(),
        signers: spec.signers.clone(),
        bridge: spec.bridge.clone(),
    };
    let idempotency_key = crate::state::random_id("idem");
    let start = client.start_signing(&wallet.id, &body, Some(&idempotency_key));
    let own =
        async { runtime.map(|runtime| own_payloads(runtime, &spec.network, &spec.request, local)) };
    let (started, own) = tokio::join!(start, own);
    Ok((started?, own))
}

/// Signing request `id` once it has ended (`done` or `failed`), waiting up to two minutes.
pub async fn signing_outcome(client: &Client, id: &str) -> Result<SigningView, DeviceError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let asked = std::time::Instant::now();
        let view = client.signing_when_ended(id, 5_000).await?;
        if view.status != "running" {
            return Ok(view);
        }
        if std::time::Instant::now() >= deadline {
            return Err(DeviceError::Protocol(
                "the server did not finish the signing within two minutes".into(),
            ));
        }
        // Another server than the one signing answers at once: do not ask it in a tight loop.
        if asked.elapsed() < std::time::Duration::from_millis(100) {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }
}

/// The device signs only what it would have prepared itself: its own plugin prepares `request`
/// for its key, and the payloads must be the ones the server sent in `view`.
pub fn check_payloads(
    runtime: &crate::plugin::Runtime,
    network: &crate::chains::Network,
    request: &serde_json::Value,
    local: &LocalShare,
    view: &SigningView,
) -> Result<(), DeviceError> {
    let own = own_payloads(runtime, network, request, local)?;
    same_payloads(&own, view)
}

/// The payloads this device's own plugin prepares from `request` for its key, to hold against
/// the server's with [`same_payloads`].
pub fn own_payloads(
    runtime: &crate::plugin::Runtime,
    network: &crate::chains::Network,
    request: &serde_json::Value,
    local: &LocalShare,
) -> Result<Vec<Vec<u8>>, DeviceError> {
    let path = network
        .path()
        .map_err(|e| DeviceError::Protocol(e.to_string()))?;
    let key = network.plugin_key(local.share.scheme(), &local.share.derive(&path)?);
    let text = match request {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let own = runtime
        .prepare(&network.plugin, &text, &key, &network.to_wit())
        .map_err(|e| {
            DeviceError::Protocol(format!("this device's plugin refused the request: {e}"))
        })?;
    Ok(own.payloads.into_iter().map(|p| p.bytes).collect())
}

/// Refuse `view` unless its payloads are exactly `own`, in order.
pub fn same_payloads(own: &[Vec<u8>], view: &SigningView) -> Result<(), DeviceError> {
    let same = own.len() == view.payloads.len()
        && own
            .iter()
            .zip(&view.payloads)
            .all(|(a, b)| hex::encode(a) == b.bytes);
    if !same {
        return Err(DeviceError::Protocol(
            "the server asked to sign something other than this request".into(),
        ));
    }
    Ok(())
}

/// One of this device's parties in a resharing.
pub struct ReshareParty {
    /// Wallet index.
    pub index: PartyIndex,
    /// Identity keys: an old signer's own, or a new party's fresh ones.
    pub keys: PartyKeys,
    /// The current share, for an old signer.
    pub share: Option<KeyShare>,
}

/// How to reshare.
#[derive(Clone, Debug)]
pub struct ReshareSpec {
    /// Exactly `threshold` current holders that re-deal the key.
    pub old_signers: Vec<PartyIndex>,
    /// New threshold.
    pub new_threshold: u16,
    /// New number of parties.
    pub new_parties: u16,
    /// The announced recovery this resharing carries out, if any (see
    /// `POST /v1/wallets/{id}/recoveries`).
    pub recovery: Option<String>,
}

/// Refresh or reshare wallet `wallet_id` with the server: new shares of the same key (same
/// addresses). `parties` are the parties that run here; a lost device is replaced by a new
/// party at its index with fresh identity keys.
pub async fn reshare(
    client: &Client,
    wallet_id: &str,
    spec: &ReshareSpec,
    parties: Vec<ReshareParty>,
    mut progress: impl FnMut(&str),
) -> Result<(WalletView, Vec<NewShare>), DeviceError> {
    use mpcw_engine::reshare::{ReshareConfig, ReshareSession};
    let roster: Roster = parties.iter().map(|p| (p.index, p.keys.public())).collect();
    let started = client
        .start_reshare(
            wallet_id,
            &crate::api::StartReshare {
                old_signers: spec.old_signers.clone(),
                new_threshold: spec.new_threshold,
                new_parties: spec.new_parties,
                roster,
                aux: None,
                recovery: spec.recovery.clone(),
            },
            Some(&crate::state::random_id("idem")),
        )
        .await?;
    progress(&format!("resharing session {}", started.session.id));
    let config = ReshareConfig {
        key: started.key.clone(),
        old_signers: spec.old_signers.clone(),
        new_threshold: spec.new_threshold,
        new_parties: spec.new_parties,
    };
    let first_local = parties
        .first()
        .map(|p| p.index)
        .ok_or_else(|| DeviceError::Protocol("no local party".into()))?;
    let mut sessions = Vec::new();
    let mut kept = Vec::new();
    for p in parties {
        let ctx = SessionContext::new(
            started.session.id.clone(),
            p.index,
            p.keys.clone(),
            started.roster.clone(),
        )?;
        sessions.push(ReshareSession::new(ctx, config.clone(), p.share.as_ref())?);
        kept.push((p.index, p.keys));
    }
    let outputs = run_parties(client, &started.session.id, sessions, &[], &mut progress).await?;
    let shares = kept
        .into_iter()
        .zip(outputs)
        .filter_map(|((index, keys), share)| share.map(|share| NewShare { index, keys, share }))
        .collect();
    if let Err(e) = wait_done(client, &started.session.id, first_local).await {
        return Err(unconfirmed(wallet_id, shares, e));
    }
    let wallet = client.wallet(wallet_id).await?;
    Ok((wallet, shares))
}

/// The parties finished but the server's confirmation is missing: the new shares go back to
/// the caller with the reason, unless the server said the session failed (then it stored
/// nothing, and the shares from before hold).
fn unconfirmed(wallet_id: &str, shares: Vec<NewShare>, error: DeviceError) -> DeviceError {
    match error {
        DeviceError::Protocol(reason) if reason.starts_with("the session failed") => {
            DeviceError::Protocol(reason)
        }
        other => DeviceError::Unconfirmed {
            wallet_id: wallet_id.to_owned(),
            shares,
            reason: other.to_string(),
        },
    }
}

/// Recover from a lost device: the `recovery` party and the server reshare the key to a new
/// party at index `lost` with fresh identity keys (same threshold and parties, so the same key
/// and addresses); the lost party's old share stops working. Returns the wallet and the new
/// shares of both local parties.
pub async fn recover(
    client: &Client,
    wallet: &WalletView,
    lost: PartyIndex,
    recovery: &LocalShare,
    progress: impl FnMut(&str),
) -> Result<(WalletView, Vec<NewShare>), DeviceError> {
    recover_announced(client, wallet, lost, recovery, None, progress).await
}

/// [`recover`], carrying out recovery `announced` (from [`Client::announce_recovery`]): needed
/// when the server holds recoveries back for a delay.
pub async fn recover_announced(
    client: &Client,
    wallet: &WalletView,
    lost: PartyIndex,
    recovery: &LocalShare,
    announced: Option<&str>,
    progress: impl FnMut(&str),
) -> Result<(WalletView, Vec<NewShare>), DeviceError> {
    let parties = vec![
        ReshareParty {
            index: lost,
            keys: PartyKeys::generate(&mut rand_core::OsRng),
            share: None,
        },
        ReshareParty {
            index: recovery.index,
            keys: recovery.keys.clone(),
            share: Some(recovery.share.clone()),
        },
    ];
    let mut old_signers = vec![wallet.server_index, recovery.index];
    old_signers.sort_unstable();
    let spec = ReshareSpec {
        old_signers,
        new_threshold: wallet.threshold,
        new_parties: wallet.parties,
        recovery: announced.map(str::to_owned),
    };
    reshare(client, &wallet.id, &spec, parties, progress).await
}

/// Refresh: every party gets a new share of the same key and shares from before stop working.
/// `locals` are all the parties but the server (each keeps its identity keys).
pub async fn refresh(
    client: &Client,
    wallet: &WalletView,
    locals: &[&LocalShare],
    progress: impl FnMut(&str),
) -> Result<(WalletView, Vec<NewShare>), DeviceError> {
    let mut old_signers = vec![wallet.server_index];
    old_signers.extend(
        locals
            .iter()
            .map(|l| l.index)
            .take(usize::from(wallet.threshold).saturating_sub(1)),
    );
    old_signers.sort_unstable();
    let parties = locals
        .iter()
        .map(|l| ReshareParty {
            index: l.index,
            keys: l.keys.clone(),
            share: Some(l.share.clone()),
        })
        .collect();
    let spec = ReshareSpec {
        old_signers,
        new_threshold: wallet.threshold,
        new_parties: wallet.parties,
        recovery: None,
    };
    reshare(client, &wallet.id, &spec, parties, progress).await
}
