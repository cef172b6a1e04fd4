//! Threshold Schnorr signing (FROST): Ed25519 per RFC 8032, and BIP-340 with the Taproot tweak.
//!
//! Two rounds among exactly `t` signers: each commits to fresh nonces, then each sends its
//! signature share; everyone aggregates and verifies. Nonces exist only in memory for the
//! duration of one session, so they cannot be reused.
//!
//! For BIP-340 keys the signature is always made under the BIP-341 tweaked output key (key-path
//! spend): with no script tree the tweak is the BIP-86 one, `H_TapTweak(P)`.

use rand_core::OsRng;
use serde::{Deserialize, Serialize};

use crate::driver::Driver;
use crate::ecdsa::check_signers;
use crate::error::{Error, PartyIndex, Result};
use crate::keygen::deliver_on;
use crate::session::Status;
use crate::share::{CoreShare, KeyShare};
use crate::transport::{Envelope, Incoming, SessionContext};

use crate::monero::{monero_signature, Monero};
use givre::ciphersuite::{Bitcoin, Ciphersuite, Ed25519, NormalizedPoint};

const SIGN: &str = "frost-sign";

/// What to sign and with which derived key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchnorrSignConfig {
    /// Wallet indices of exactly `t` signers.
    pub signers: Vec<PartyIndex>,
    /// Non-hardened HD path (empty for the group key).
    pub path: Vec<u32>,
    /// The message itself (Ed25519 signs the message; BIP-340 signs a 32-byte sighash).
    #[serde(with = "crate::ecdsa::hex_bytes")]
    pub message: Vec<u8>,
    /// BIP-341 script tree root, for BIP-340 keys; `None` is the BIP-86 key-path-only tweak.
    #[serde(default)]
    pub taproot_merkle_root: Option<[u8; 32]>,
    /// Which Schnorr signature an Ed25519 key makes (BIP-340 keys make only BIP-340 ones).
    #[serde(default)]
    pub variant: SchnorrVariant,
}

/// The Schnorr signature an Ed25519 key makes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SchnorrVariant {
    /// RFC 8032 Ed25519 (or BIP-340 for BIP-340 keys): `R || s`.
    #[default]
    Standard,
    /// Monero's `generate_signature` over a 32-byte hash: `c || r` (see [`crate::monero`]).
    Monero,
}

/// A Schnorr signature and the key under which it verifies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchnorrSignature {
    /// 64 bytes: `R || s` (Ed25519), `x(R) || s` (BIP-340) or `c || r` (Monero).
    #[serde(with = "crate::ecdsa::hex_bytes")]
    pub signature: Vec<u8>,
    /// The verifying key: the 32-byte Ed25519 key, or the 32-byte x-only (tweaked) BIP-340 key.
    #[serde(with = "crate::ecdsa::hex_bytes")]
    pub public_key: Vec<u8>,
}

enum Machine {
    Ed25519(Driver<givre::signing::aggregate::Signature<Ed25519>>),
    Monero(
        Driver<givre::signing::aggregate::Signature<Monero>>,
        Vec<u8>,
    ),
    Bip340(Driver<givre::signing::aggregate::Signature<Bitcoin>>),
}

/// One signer's side of a threshold Schnorr signature.
pub struct SchnorrSignSession {
    ctx: SessionContext,
    machine: Machine,
    public_key: Vec<u8>,
    status: Status,
    output: Option<SchnorrSignature>,
}

/// The key a signature with `config` verifies under, for a FROST share.
fn verifying_key<C: Ciphersuite>(
    share: &CoreShare<C::Curve>,
    path: &[u32],
    taproot_merkle_root: Option<[u8; 32]>,
) -> Result<Vec<u8>>
where
    C::HdAlgo: hd_wallet::HdWallet<C::Curve>,
{
    let key_info: &key_share::KeyInfo<C::Curve> = share.as_ref();
    let of = crate::child_keys::Derivation {
        suite: C::NAME,
        group_key: key_info.shared_public_key.to_bytes(true).to_vec(),
        chain_code: key_info.chain_code,
        path: path.to_vec(),
        merkle_root: taproot_merkle_root,
    };
    crate::child_keys::derived(of, || {
        derive_verifying_key::<C>(key_info, path, taproot_merkle_root)
    })
}

fn derive_verifying_key<C: Ciphersuite>(
    key_info: &key_share::KeyInfo<C::Curve>,
    path: &[u32],
    taproot_merkle_root: Option<[u8; 32]>,
) -> Result<Vec<u8>>
where
    C::HdAlgo: hd_wallet::HdWallet<C::Curve>,
{
    let child = key_info
        .derive_child_public_key::<C::HdAlgo, _>(path.iter().copied())
        .map_err(|e| Error::InvalidParameters(format!("derivation path: {e}")))?;
    let pk = generic_ec::NonZero::from_point(child.public_key)
        .ok_or_else(|| Error::Protocol("derived key is zero".into()))?;
    let pk = C::normalize_point(pk);
    let pk = if C::IS_TAPROOT {
        let tweaked = givre::signing::taproot::tweak_public_key::<C>(pk, taproot_merkle_root)
            .ok_or_else(|| Error::Protocol("taproot tweak undefined".into()))?;
        C::normalize_point(tweaked)
    } else {
        pk
    };
    Ok(normalized_bytes::<C>(&pk))
}

fn normalized_bytes<C: Ciphersuite>(
    p: &NormalizedPoint<C, generic_ec::NonZero<generic_ec::Point<C::Curve>>>,
) -> Vec<u8> {
    C::serialize_normalized_point(p).as_ref().to_vec()
}

fn driver<C>(
    share: CoreShare<C::Curve>,
    i: u16,
    config: SchnorrSignConfig,
) -> Driver<givre::signing::aggregate::Signature<C>>
where
    C: Ciphersuite + 'static,
    C::HdAlgo: hd_wallet::HdWallet<C::Curve>,
{
    let members = config.signers.clone();
    let machine = round_based::state_machine::wrap_protocol(move |party| async move {
        let mut builder = givre::signing::<C>(i, &share, &config.signers, &config.message)
            .set_derivation_path(config.path.iter().copied())
            .map_err(|e| SignError(format!("derivation path: {e}")))?;
        if C::IS_TAPROOT {
            builder = builder
                .set_taproot_tweak(config.taproot_merkle_root)
                .map_err(|e| SignError(format!("taproot tweak: {e}")))?;
        }
        builder
            .sign(&mut OsRng, party)
            .await
            .map_err(|e| SignError(format!("{e} ({e:?})")))
    });
    Driver::new(SIGN, members, machine)
}

#[derive(Debug)]
struct SignError(String);

impl core::fmt::Display for SignError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl SchnorrSignSession {
    /// Start signing for party `ctx.me()` with its Ed25519 or BIP-340 `share`.
    pub fn new(ctx: SessionContext, share: &KeyShare, config: SchnorrSignConfig) -> Result<Self> {
        check_signers(share, &config.signers, ctx.me())?;
        let i = config
            .signers
            .iter()
            .position(|s| *s == ctx.me())
            .expect("checked") as u16;
        let (machine, public_key) = match share {
            KeyShare::Ed25519(s) => {
                if config.taproot_merkle_root.is_some() {
                    return Err(Error::InvalidParameters(
                        "a taproot tweak applies to BIP-340 keys only".into(),
                    ));
                }
                match config.variant {
                    SchnorrVariant::Standard => {
                        let pk = verifying_key::<Ed25519>(s, &config.path, None)?;
                        (
                            Machine::Ed25519(driver::<Ed25519>((**s).clone(), i, config)),
                            pk,
                        )
                    }
                    SchnorrVariant::Monero => {
                        if config.message.len() != 32 {
                            return Err(Error::InvalidParameters(
                                "a Monero signature is over a 32-byte hash".into(),
                            ));
                        }
                        let pk = verifying_key::<Monero>(s, &config.path, None)?;
                        let hash = config.message.clone();
                        (
                            Machine::Monero(driver::<Monero>((**s).clone(), i, config), hash),
                            pk,
                        )
                    }
                }
            }
            KeyShare::SchnorrBip340(_) if config.variant != SchnorrVariant::Standard => {
                return Err(Error::InvalidParameters(
                    "a Monero signature needs an ed25519 key".into(),
                ))
            }
            KeyShare::SchnorrBip340(s) => {
                let pk = verifying_key::<Bitcoin>(s, &config.path, config.taproot_merkle_root)?;
                (
                    Machine::Bip340(driver::<Bitcoin>((**s).clone(), i, config)),
                    pk,
                )
            }
            KeyShare::EcdsaSecp256k1(_) => {
                return Err(Error::InvalidParameters(
                    "Schnorr signing needs an ed25519 or schnorr-bip340 key".into(),
                ))
            }
        };
        Ok(Self {
            ctx,
            machine,
            public_key,
            status: Status::default(),
            output: None,
        })
    }

    fn begin(&mut self, out: &mut Vec<Envelope>) -> Result<()> {
        self.advance(out)
    }

    fn deliver(&mut self, message: &Incoming<'_>, _out: &mut Vec<Envelope>) -> Result<()> {
        let body = self.ctx.open_incoming(message)?;
        match &mut self.machine {
            Machine::Ed25519(d) => deliver_on(d, message, body),
            Machine::Monero(d, _) => deliver_on(d, message, body),
            Machine::Bip340(d) => deliver_on(d, message, body),
        }
    }

    fn advance(&mut self, out: &mut Vec<Envelope>) -> Result<()> {
        let signature = match &mut self.machine {
            Machine::Ed25519(d) => {
                d.pump(&self.ctx, out)?;
                d.take_output().map(|s| encode(&s))
            }
            Machine::Monero(d, hash) => {
                d.pump(&self.ctx, out)?;
                d.take_output()
                    .map(|s| monero_signature(&s, &self.public_key, hash).to_vec())
            }
            Machine::Bip340(d) => {
                d.pump(&self.ctx, out)?;
                d.take_output().map(|s| encode(&s))
            }
        };
        if let Some(signature) = signature {
            self.output = Some(SchnorrSignature {
                signature,
                public_key: self.public_key.clone(),
            });
        }
        Ok(())
    }
}

crate::session::protocol_session!(SchnorrSignSession, SchnorrSignature);

fn encode<C: Ciphersuite>(sig: &givre::signing::aggregate::Signature<C>) -> Vec<u8> {
    let mut out = vec![0u8; givre::signing::aggregate::Signature::<C>::serialized_len()];
    sig.write_to_slice(&mut out);
    out
}
