//! The bridge between the engine's curve types (`generic-ec` over `k256` 0.13) and the ones
//! DKLs23 works with (`k256` 0.14), through their standard encodings, and DKLs23's party
//! numbering (1-based `u8`) against wallet indices (0-based).

use dkls23_core::protocols::{Abort, AbortKind, AbortReason};
use generic_ec::{Point, Scalar};
use k256_dkls::elliptic_curve::group::GroupEncoding;
use k256_dkls::elliptic_curve::PrimeField;
use zeroize::Zeroizing;

use crate::error::{Error, PartyIndex, Result};
use crate::share::Secp256k1;

/// secp256k1 as DKLs23 takes it.
pub(crate) type Curve = k256_dkls::Secp256k1;
/// A scalar as DKLs23 takes it.
pub(crate) type DklsScalar = k256_dkls::Scalar;
/// A point as DKLs23 takes it.
pub(crate) type DklsPoint = k256_dkls::AffinePoint;
/// A party number as DKLs23 takes it.
pub(crate) type DklsIndex = dkls23_core::protocols::PartyIndex;

/// DKLs23's number of wallet party `i`: `i + 1`, which is also the point at which the party's
/// share evaluates the sharing polynomial.
pub(crate) fn dkls_index(i: PartyIndex) -> Result<DklsIndex> {
    u8::try_from(i + 1)
        .ok()
        .and_then(|v| DklsIndex::new(v).ok())
        .ok_or_else(|| Error::InvalidParameters(format!("party index {i} is out of range")))
}

/// The wallet index of DKLs23's party number `p`.
pub(crate) fn wallet_index(p: DklsIndex) -> PartyIndex {
    PartyIndex::from(p.as_u8()) - 1
}

/// A secret scalar, re-encoded (the big-endian bytes in between are wiped).
pub(crate) fn scalar(s: &Scalar<Secp256k1>) -> Result<DklsScalar> {
    let mut bytes = s.to_be_bytes();
    let mut repr = Zeroizing::new(k256_dkls::FieldBytes::default());
    repr.copy_from_slice(bytes.as_ref());
    zeroize::Zeroize::zeroize(bytes.as_mut());
    Option::from(DklsScalar::from_repr(*repr))
        .ok_or_else(|| Error::Protocol("a scalar does not fit the other curve library".into()))
}

/// A point, re-encoded through its compressed SEC1 form.
pub(crate) fn point(p: &Point<Secp256k1>) -> Result<DklsPoint> {
    let bytes = p.to_bytes(true);
    let mut repr = <DklsPoint as GroupEncoding>::Repr::default();
    if p.is_zero() || bytes.len() != repr.len() {
        return Err(Error::Protocol("the point at infinity is not a key".into()));
    }
    repr.copy_from_slice(&bytes);
    Option::from(DklsPoint::from_bytes(&repr))
        .ok_or_else(|| Error::Protocol("a point does not fit the other curve library".into()))
}

/// The engine's error for a DKLs23 abort: a counterparty whose OT-based multiplication failed
/// its checks is reported as [`Error::OtAbort`]; other failures a counterparty provably caused
/// blame it; the rest (a check of the sums, which no single party's message decides, or our
/// own state) name nobody.
pub(crate) fn abort_error(stage: &str, abort: Abort) -> Error {
    let reason = format!("{stage}: {}", describe(&abort.reason));
    if let AbortKind::BanCounterparty(p) = abort.kind {
        return Error::OtAbort {
            party: wallet_index(p),
            reason,
        };
    }
    let culprit = match &abort.reason {
        AbortReason::ProofVerificationFailed { counterparty }
        | AbortReason::CommitmentMismatch { counterparty }
        | AbortReason::TrivialInstancePoint { counterparty }
        | AbortReason::SessionBindingMismatch { counterparty }
        | AbortReason::OtConsistencyCheckFailed { counterparty }
        | AbortReason::MultiplicationVerificationFailed { counterparty, .. }
        | AbortReason::GammaUInconsistency { counterparty }
        | AbortReason::ZeroShareDecommitFailed { counterparty } => Some(*counterparty),
        AbortReason::ChainCodeCommitmentFailed { party } => Some(*party),
        _ => None,
    };
    match culprit {
        Some(p) => Error::blame(wallet_index(p), reason),
        None => Error::Protocol(reason),
    }
}

/// What went wrong, with the parties named by their wallet indices (DKLs23's own messages
/// number them from 1).
fn describe(reason: &AbortReason) -> String {
    let w = |p: &DklsIndex| wallet_index(*p);
    match reason {
        AbortReason::SessionBindingMismatch { counterparty } => format!(
            "party {} answered for another signing session or pairwise state (a stale or replaced share?)",
            w(counterparty)
        ),
        AbortReason::ProofVerificationFailed { counterparty } => {
            format!("a proof of party {} does not verify", w(counterparty))
        }
        AbortReason::CommitmentMismatch { counterparty } => format!(
            "party {} opened something other than it committed to",
            w(counterparty)
        ),
        AbortReason::TrivialInstancePoint { counterparty } => {
            format!("party {} sent the point at infinity as its nonce", w(counterparty))
        }
        AbortReason::OtConsistencyCheckFailed { counterparty }
        | AbortReason::GammaUInconsistency { counterparty } => format!(
            "the multiplication with party {} failed its consistency check",
            w(counterparty)
        ),
        AbortReason::MultiplicationVerificationFailed {
            counterparty,
            detail,
        } => format!(
            "the multiplication with party {} failed its verification ({detail})",
            w(counterparty)
        ),
        AbortReason::ZeroShareDecommitFailed { counterparty } => format!(
            "party {} opened a zero-sharing seed other than it committed to",
            w(counterparty)
        ),
        AbortReason::PolynomialInconsistency => {
            "the signers' key shares do not add up to the public key".into()
        }
        AbortReason::SignatureVerificationFailed => {
            "the combined signature does not verify (a signer sent a wrong share of s)".into()
        }
        other => format!("{other} (DKLs23 numbers parties from 1)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use generic_ec::NonZero;

    #[test]
    fn scalars_and_points_cross_over_unchanged() {
        let s = Scalar::<Secp256k1>::random(&mut rand_core::OsRng);
        let p = Point::generator() * s;
        let s2 = scalar(&s).unwrap();
        let p2 = (k256_dkls::ProjectivePoint::GENERATOR * s2).to_affine();
        assert_eq!(p2, point(&p).unwrap());
        assert_eq!(p2.to_bytes().to_vec(), p.to_bytes(true).to_vec());
        assert!(point(&Point::zero()).is_err());
        let nz = NonZero::from_point(p).unwrap();
        assert_eq!(point(&nz).unwrap(), p2);
    }

    #[test]
    fn party_numbers_are_one_based() {
        assert_eq!(dkls_index(0).unwrap().as_u8(), 1);
        assert_eq!(wallet_index(dkls_index(15).unwrap()), 15);
        assert!(dkls_index(255).is_err());
    }
}
