//! The base-OT receiver's proofs as they travel in the pairwise setup (`#[serde(with)]` for
//! `Vec<EncProof>`).
//!
//! `dkls23-core`'s own encoding of an [`EncProof`] carries twelve compressed points, of which
//! only seven are distinct (`g` is the generator, `h` and `u` appear in both sub-proofs, the
//! second sub-proof's `v - h` follows from `v` and `h`), and decompressing a point costs a field
//! square root: about a tenth of a key generation's time. Here a proof is its seven distinct
//! points, uncompressed (65 bytes each, checked to lie on the curve, no square root), and its
//! two challenges and two responses. Decoding builds the crate's `EncProof` back, with the
//! second sub-proof's statement made from the first's, which is the relation
//! `EncProof::verify` checks; every check of the proof itself is then the crate's.

use dkls23_core::utilities::proofs::{CPProof, EncProof, RandomCommitments};
use k256_dkls::elliptic_curve::group::Curve as _;
use k256_dkls::elliptic_curve::sec1::{FromSec1Point, Sec1Point, ToSec1Point};
use k256_dkls::ProjectivePoint;
use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::curve::{Curve, DklsPoint, DklsScalar};

/// Bytes of one uncompressed SEC1 point.
const POINT_BYTES: usize = 65;
/// Distinct points of one proof: `h`, `u`, `v` and the four random commitments.
const POINTS: usize = 7;

/// One proof on the wire.
#[derive(Serialize, Deserialize)]
struct WireProof {
    /// `h`, `u`, `v`, then the commitments of the first sub-proof (`g`, `h` sides) and of the
    /// second, each uncompressed SEC1.
    points: Vec<u8>,
    /// The two sub-proofs' challenges.
    challenges: [DklsScalar; 2],
    /// The two sub-proofs' responses.
    responses: [DklsScalar; 2],
}

/// Encode proofs made by `EncProof::prove` (whose sub-proofs share their statement).
pub(crate) fn serialize<S: Serializer>(
    proofs: &[EncProof<Curve>],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let wire = proofs
        .iter()
        .map(encode)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| S::Error::custom("a base-OT proof holds the point at infinity"))?;
    wire.serialize(serializer)
}

/// Decode proofs; a point that is not an uncompressed point of the curve is refused.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<EncProof<Curve>>, D::Error> {
    let wire = Vec::<WireProof>::deserialize(deserializer)?;
    decode(&wire).map_err(D::Error::custom)
}

fn encode(proof: &EncProof<Curve>) -> Option<WireProof> {
    let (u, v) = proof.get_u_and_v();
    let mut points = Vec::with_capacity(POINTS * POINT_BYTES);
    for p in [
        proof.proof0.base_h,
        u,
        v,
        proof.commitments0.rc_g,
        proof.commitments0.rc_h,
        proof.commitments1.rc_g,
        proof.commitments1.rc_h,
    ] {
        let encoded = p.to_sec1_point(false);
        if encoded.as_bytes().len() != POINT_BYTES {
            return None;
        }
        points.extend_from_slice(encoded.as_bytes());
    }
    Some(WireProof {
        points,
        challenges: [proof.challenge0, proof.challenge1],
        responses: [
            proof.proof0.challenge_response,
            proof.proof1.challenge_response,
        ],
    })
}

fn decode(wire: &[WireProof]) -> Result<Vec<EncProof<Curve>>, &'static str> {
    let mut parsed: Vec<[DklsPoint; POINTS]> = Vec::with_capacity(wire.len());
    for proof in wire {
        if proof.points.len() != POINTS * POINT_BYTES {
            return Err("a base-OT proof has the wrong number of point bytes");
        }
        let mut points = [DklsPoint::IDENTITY; POINTS];
        for (slot, bytes) in points.iter_mut().zip(proof.points.chunks(POINT_BYTES)) {
            *slot =
                uncompressed_point(bytes).ok_or("a base-OT proof holds a point off the curve")?;
        }
        parsed.push(points);
    }
    // The second sub-proof's `v - h`, made affine with one field inversion for all.
    let differences: Vec<ProjectivePoint> = parsed
        .iter()
        .map(|[h, _, v, ..]| ProjectivePoint::from(*v) - ProjectivePoint::from(*h))
        .collect();
    let mut v_minus_h = vec![DklsPoint::IDENTITY; differences.len()];
    ProjectivePoint::batch_normalize(&differences, &mut v_minus_h);
    Ok(wire
        .iter()
        .zip(parsed)
        .zip(v_minus_h)
        .map(|((proof, [h, u, v, r0g, r0h, r1g, r1h]), v_minus_h)| {
            let sub_proof = |point_u, challenge_response| CPProof {
                base_g: DklsPoint::GENERATOR,
                base_h: h,
                point_u,
                point_v: u,
                challenge_response,
            };
            EncProof {
                proof0: sub_proof(v, proof.responses[0]),
                proof1: sub_proof(v_minus_h, proof.responses[1]),
                commitments0: RandomCommitments {
                    rc_g: r0g,
                    rc_h: r0h,
                },
                commitments1: RandomCommitments {
                    rc_g: r1g,
                    rc_h: r1h,
                },
                challenge0: proof.challenges[0],
                challenge1: proof.challenges[1],
            }
        })
        .collect())
}

/// An uncompressed SEC1 point of the curve (tag 4), or `None`.
fn uncompressed_point(bytes: &[u8]) -> Option<DklsPoint> {
    if bytes.first() != Some(&4) {
        return None;
    }
    let encoded = Sec1Point::<Curve>::from_bytes(bytes).ok()?;
    Option::from(DklsPoint::from_sec1_point(&encoded))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dkls23_core::utilities::hashes::tagged_hash_as_point;

    #[derive(Serialize, Deserialize)]
    struct Proofs(#[serde(with = "super")] Vec<EncProof<Curve>>);

    fn proofs() -> Vec<EncProof<Curve>> {
        (0u8..6)
            .map(|i| {
                let sid = [i];
                let h = tagged_hash_as_point::<Curve>(b"mpcw/test/h", &[&sid]);
                let r = DklsScalar::from(u64::from(i) + 7);
                EncProof::prove(&sid, &h, &r, i % 2 == 1)
            })
            .collect()
    }

    fn crate_bytes(proofs: &[EncProof<Curve>]) -> Vec<u8> {
        postcard::to_allocvec(proofs).unwrap()
    }

    #[test]
    fn proofs_come_back_as_they_were_and_still_verify() {
        let original = proofs();
        let bytes = postcard::to_allocvec(&Proofs(original.clone())).unwrap();
        let Proofs(back) = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(crate_bytes(&back), crate_bytes(&original));
        for (i, proof) in back.iter().enumerate() {
            assert!(proof.verify(&[i as u8]));
        }
        // Seven uncompressed points and four scalars, against the crate's twelve compressed.
        assert!(bytes.len() < crate_bytes(&original).len() * 6 / 5);
    }

    #[test]
    fn a_point_off_the_curve_or_compressed_is_refused() {
        let bytes = postcard::to_allocvec(&Proofs(proofs())).unwrap();
        let wire = || postcard::from_bytes::<Vec<WireProof>>(&bytes).unwrap();
        // The last byte of `v`'s y coordinate changed (off the curve); `h` tagged as compressed.
        for (offset, value) in [(3 * POINT_BYTES - 1, None), (0, Some(2u8))] {
            let mut tampered = wire();
            let byte = &mut tampered[3].points[offset];
            *byte = value.unwrap_or(*byte ^ 1);
            let tampered = postcard::to_allocvec(&tampered).unwrap();
            assert!(postcard::from_bytes::<Proofs>(&tampered).is_err());
        }
        let mut short = wire();
        short[0].points.truncate(POINT_BYTES * 6);
        let tampered = postcard::to_allocvec(&short).unwrap();
        assert!(postcard::from_bytes::<Proofs>(&tampered).is_err());
    }

    #[test]
    fn a_changed_response_decodes_and_fails_verification() {
        let bytes = postcard::to_allocvec(&Proofs(proofs())).unwrap();
        let mut wire: Vec<WireProof> = postcard::from_bytes(&bytes).unwrap();
        wire[2].responses[1] += DklsScalar::ONE;
        let tampered = postcard::to_allocvec(&wire).unwrap();
        let Proofs(back) = postcard::from_bytes(&tampered).unwrap();
        assert!(back[1].verify(&[1]));
        assert!(!back[2].verify(&[2]));
    }
}
