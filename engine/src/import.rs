//! Import of an existing BIP-39 wallet into threshold shares (a dealer split).
//!
//! A self-custody user who moves to MPC keeps their addresses: the mnemonic (with its optional
//! passphrase) gives the BIP-39 seed; the account key at a hardened path is derived from it the
//! way the user's wallet did (BIP-32 for secp256k1, SLIP-10 for ed25519); that key and its chain
//! code are split `t`-of-`n` by a dealer. Non-hardened children of the account (for example
//! `…/0/i` below `m/44'/60'/0'`) are then the same addresses as before, derived by the engine's
//! HD support.
//!
//! The dealer holds the whole key while splitting: run the import on the user's own device, then
//! distribute the shares over encrypted channels and erase the mnemonic. ECDSA shares then need
//! their DKLs23 pairwise state ([`PairwiseSetupSession`](crate::ecdsa::PairwiseSetupSession))
//! before they can sign.

use generic_ec::{NonZero, Scalar, SecretScalar};
use hmac::{Hmac, Mac};
use rand_core::OsRng;
use sha2::Sha512;
use zeroize::Zeroizing;

use crate::ecdsa::IncompleteEcdsaShare;
use crate::error::{Error, Result};
use crate::scheme::{check_threshold, Scheme};
use crate::share::{CoreShare, Ed25519, KeyShare, Secp256k1};

/// A share made by the dealer.
#[derive(Debug)]
pub enum DealtShare {
    /// Ready to sign (Ed25519, BIP-340).
    Complete(KeyShare),
    /// An ECDSA share that still needs its pairwise state.
    NeedsPairwiseSetup(Box<IncompleteEcdsaShare>),
}

/// The BIP-39 seed of a mnemonic and passphrase.
pub fn seed_from_mnemonic(phrase: &str, passphrase: &str) -> Result<Zeroizing<[u8; 64]>> {
    let mnemonic = bip39::Mnemonic::parse_normalized(phrase)
        .map_err(|e| Error::InvalidParameters(format!("mnemonic: {e}")))?;
    Ok(Zeroizing::new(mnemonic.to_seed_normalized(passphrase)))
}

/// Secret key and chain code at `path` (BIP-32 on secp256k1; hardened and normal steps allowed).
fn bip32_account(seed: &[u8], path: &str) -> Result<(Zeroizing<[u8; 32]>, [u8; 32])> {
    let path: bip32::DerivationPath = path
        .parse()
        .map_err(|e| Error::InvalidParameters(format!("derivation path: {e}")))?;
    let xprv = bip32::XPrv::derive_from_path(seed, &path)
        .map_err(|e| Error::InvalidParameters(format!("BIP-32 derivation: {e}")))?;
    let key = Zeroizing::new(<[u8; 32]>::from(xprv.private_key().to_bytes()));
    Ok((key, xprv.attrs().chain_code))
}

/// SLIP-10 ed25519 derivation (hardened steps only): the 32-byte private key and chain code.
fn slip10_ed25519(seed: &[u8], path: &str) -> Result<(Zeroizing<[u8; 32]>, [u8; 32])> {
    let mut mac = Hmac::<Sha512>::new_from_slice(b"ed25519 seed").expect("any key length");
    mac.update(seed);
    let i = Zeroizing::new(<[u8; 64]>::from(mac.finalize().into_bytes()));
    let mut key = Zeroizing::new([0u8; 32]);
    let mut chain = [0u8; 32];
    key.copy_from_slice(&i[..32]);
    chain.copy_from_slice(&i[32..]);
    let rest = path.trim().strip_prefix('m').unwrap_or(path);
    for step in rest.split('/').filter(|s| !s.is_empty()) {
        let digits = step
            .strip_suffix('\'')
            .or_else(|| step.strip_suffix('h'))
            .ok_or_else(|| {
                Error::InvalidParameters(format!(
                    "SLIP-10 ed25519 allows hardened steps only: {step:?}"
                ))
            })?;
        let index: u32 = digits
            .parse()
            .ok()
            .filter(|i| *i < 0x8000_0000)
            .ok_or_else(|| Error::InvalidParameters(format!("bad path step {step:?}")))?;
        let mut mac = Hmac::<Sha512>::new_from_slice(&chain).expect("any key length");
        mac.update(&[0]);
        mac.update(key.as_ref());
        mac.update(&(index | 0x8000_0000).to_be_bytes());
        let i = Zeroizing::new(<[u8; 64]>::from(mac.finalize().into_bytes()));
        key.copy_from_slice(&i[..32]);
        chain.copy_from_slice(&i[32..]);
    }
    Ok((key, chain))
}

fn deal<E: generic_ec::Curve>(
    secret: Scalar<E>,
    chain_code: [u8; 32],
    t: u16,
    n: u16,
) -> Result<Vec<CoreShare<E>>> {
    let mut secret = secret;
    let sk = NonZero::from_secret_scalar(SecretScalar::new(&mut secret))
        .ok_or_else(|| Error::InvalidParameters("the imported key is zero".into()))?;
    let shares = key_share::trusted_dealer::builder::<E>(n)
        .set_threshold(Some(t))
        .set_shared_secret_key(sk)
        .generate_shares(&mut OsRng)
        .map_err(|e| Error::Protocol(format!("dealer: {e}")))?;
    shares
        .into_iter()
        .map(|s| {
            let mut dirty = s.into_inner();
            dirty.key_info.chain_code = Some(chain_code);
            key_share::Validate::validate(dirty)
                .map_err(|e| Error::Protocol(format!("dealt share is invalid: {}", e.error())))
        })
        .collect()
}

/// Split the key at `account_path` of a BIP-39 wallet into `t`-of-`n` shares for `scheme`.
///
/// For secp256k1 schemes the path is BIP-32 (e.g. `m/44'/60'/0'/0` for Ethereum: addresses are
/// then the children `0, 1, …`); for Ed25519 it is SLIP-10 with hardened steps only (e.g.
/// `m/44'/501'/0'/0'` for Solana: the group key is that account's key).
pub fn import_mnemonic(
    phrase: &str,
    passphrase: &str,
    account_path: &str,
    scheme: Scheme,
    t: u16,
    n: u16,
) -> Result<Vec<DealtShare>> {
    let seed = seed_from_mnemonic(phrase, passphrase)?;
    import_seed(seed.as_ref(), account_path, scheme, t, n)
}

/// Like [`import_mnemonic`], from a BIP-32 / SLIP-10 seed.
pub fn import_seed(
    seed: &[u8],
    account_path: &str,
    scheme: Scheme,
    t: u16,
    n: u16,
) -> Result<Vec<DealtShare>> {
    check_threshold(t, n)?;
    if !(16..=64).contains(&seed.len()) {
        return Err(Error::InvalidParameters("a seed is 16 to 64 bytes".into()));
    }
    match scheme {
        Scheme::EcdsaSecp256k1 | Scheme::SchnorrBip340 => {
            let (key, chain) = bip32_account(seed, account_path)?;
            let secret = Scalar::<Secp256k1>::from_be_bytes(key.as_ref())
                .map_err(|_| Error::Protocol("BIP-32 key out of range".into()))?;
            let shares = deal::<Secp256k1>(secret, chain, t, n)?;
            Ok(shares
                .into_iter()
                .map(|s| match scheme {
                    Scheme::EcdsaSecp256k1 => {
                        DealtShare::NeedsPairwiseSetup(Box::new(IncompleteEcdsaShare(s)))
                    }
                    _ => DealtShare::Complete(KeyShare::SchnorrBip340(Box::new(s))),
                })
                .collect())
        }
        Scheme::Ed25519 => {
            let (key, chain) = slip10_ed25519(seed, account_path)?;
            let scalar_bytes = Zeroizing::new(
                ed25519_dalek::SigningKey::from_bytes(&key)
                    .to_scalar()
                    .to_bytes(),
            );
            let secret = Scalar::<Ed25519>::from_le_bytes_mod_order(scalar_bytes.as_ref());
            let shares = deal::<Ed25519>(secret, chain, t, n)?;
            Ok(shares
                .into_iter()
                .map(|s| DealtShare::Complete(KeyShare::Ed25519(Box::new(s))))
                .collect())
        }
    }
}

/// The single-key private key at `account_path` of a BIP-39 wallet (what a single-key wallet
/// would hold): for checking an import against the original wallet.
pub fn single_key_at(
    phrase: &str,
    passphrase: &str,
    account_path: &str,
    scheme: Scheme,
) -> Result<Zeroizing<[u8; 32]>> {
    let seed = seed_from_mnemonic(phrase, passphrase)?;
    match scheme {
        Scheme::Ed25519 => slip10_ed25519(seed.as_ref(), account_path).map(|(k, _)| k),
        _ => bip32_account(seed.as_ref(), account_path).map(|(k, _)| k),
    }
}
