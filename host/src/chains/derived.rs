//! Wallet keys at the networks' derivation paths, kept once derived.
//!
//! Every signing request, bridge connection and address listing needs the wallet's key at the
//! network's path: non-hardened HD derivation of the group key, a few scalar multiplications per
//! level (about 0.14 ms for Ed25519 and 0.31 ms for secp256k1 at a five-level path on the 2-core
//! machine). The result depends only on the scheme, the group key, its chain code and the path,
//! all public, so it is kept in a bounded cache keyed by all four: a refresh keeps the key and so
//! the children, and a different key or chain code is a different entry.

use mpcw_engine::hd::ExtendedPublicKey;
use mpcw_engine::Scheme;

/// Derived keys kept at most (an entry is about 200 bytes).
const CAPACITY: u64 = 100_000;

/// What a derived key depends on.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Parent {
    scheme: Scheme,
    public_key: Vec<u8>,
    chain_code: [u8; 32],
    path: Vec<u32>,
}

/// Children of group keys at derivation paths.
#[derive(Clone)]
pub struct DerivedKeys {
    cache: moka::sync::Cache<Parent, ExtendedPublicKey>,
}

impl Default for DerivedKeys {
    fn default() -> Self {
        Self {
            cache: moka::sync::Cache::new(CAPACITY),
        }
    }
}

impl DerivedKeys {
    /// The child of `parent` (a group key of `scheme`) at `path`: the one derived before, or
    /// derived now and kept. Failures are not kept.
    pub fn derive(
        &self,
        scheme: Scheme,
        parent: &ExtendedPublicKey,
        path: &[u32],
    ) -> Result<ExtendedPublicKey, mpcw_engine::Error> {
        let key = Parent {
            scheme,
            public_key: parent.public_key.clone(),
            chain_code: parent.chain_code,
            path: path.to_vec(),
        };
        if let Some(child) = self.cache.get(&key) {
            return Ok(child);
        }
        let child = mpcw_engine::hd::derive(scheme, parent, path)?;
        self.cache.insert(key, child.clone());
        Ok(child)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parent(public_key: &str, chain_code: u8) -> ExtendedPublicKey {
        ExtendedPublicKey {
            public_key: hex::decode(public_key).unwrap(),
            chain_code: [chain_code; 32],
        }
    }

    // secp256k1's generator and an Ed25519 public key (RFC 8032, test 1): valid group keys.
    const SECP: &str = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
    const ED: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    #[test]
    fn a_kept_child_is_the_derived_one_and_every_input_counts() {
        let keys = DerivedKeys::default();
        let cases = [
            (
                Scheme::EcdsaSecp256k1,
                parent(SECP, 1),
                vec![44, 60, 0, 0, 0],
            ),
            (
                Scheme::EcdsaSecp256k1,
                parent(SECP, 2),
                vec![44, 60, 0, 0, 0],
            ),
            (
                Scheme::EcdsaSecp256k1,
                parent(SECP, 1),
                vec![44, 60, 0, 0, 1],
            ),
            (Scheme::SchnorrBip340, parent(SECP, 1), vec![86, 0, 0, 0, 0]),
            (Scheme::Ed25519, parent(ED, 1), vec![44, 501, 0, 0]),
        ];
        let mut seen = Vec::new();
        for _ in 0..2 {
            for (scheme, parent, path) in &cases {
                let fresh = mpcw_engine::hd::derive(*scheme, parent, path).unwrap();
                assert_eq!(keys.derive(*scheme, parent, path).unwrap(), fresh);
                seen.push(fresh.public_key);
            }
        }
        seen.truncate(cases.len());
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), cases.len(), "each input gives its own child");
    }

    #[test]
    fn a_key_that_fails_to_derive_is_refused_each_time() {
        let keys = DerivedKeys::default();
        let bad = ExtendedPublicKey {
            public_key: vec![2; 10],
            chain_code: [0; 32],
        };
        for _ in 0..2 {
            assert!(keys.derive(Scheme::EcdsaSecp256k1, &bad, &[0]).is_err());
        }
    }
}
