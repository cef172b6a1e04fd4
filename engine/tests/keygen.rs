//! Distributed key generation for every scheme.

mod common;

use common::dkg;
use mpcw_engine::Scheme;

#[test]
fn dkg_2_of_3_agrees_on_one_key_for_every_scheme() {
    for scheme in Scheme::ALL {
        let (_, _, shares) = dkg(scheme, 2, 3);
        let pk = shares[0].public_key();
        for (i, s) in shares.iter().enumerate() {
            assert_eq!(s.index() as usize, i);
            assert_eq!(s.public_key(), pk, "{scheme}: party {i} has another key");
            assert_eq!(s.threshold(), 2);
            assert_eq!(s.parties(), 3);
            assert!(s.chain_code().is_some());
        }
    }
}
