//! keccak-256, the hash of Ethereum and Conflux.

use sha3::{Digest, Keccak256};

/// keccak-256 of `data`.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}
