//! Building RLP lists of mixed items (transactions are lists of integers, byte strings and lists).

use alloy_rlp::{Encodable, Header};

/// An RLP list under construction.
#[derive(Default)]
pub struct RlpList {
    payload: Vec<u8>,
}

impl RlpList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append an item. Byte strings must be passed as `&[u8]` or `[u8; N]`, not `Vec<u8>`
    /// (which alloy-rlp encodes as a list of integers).
    pub fn push<E: Encodable + ?Sized>(&mut self, item: &E) -> &mut Self {
        item.encode(&mut self.payload);
        self
    }

    /// Append an already encoded item (for example a nested list).
    pub fn push_encoded(&mut self, encoded: &[u8]) -> &mut Self {
        self.payload.extend_from_slice(encoded);
        self
    }

    /// The encoded list.
    pub fn finish(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.payload.len() + 9);
        Header {
            list: true,
            payload_length: self.payload.len(),
        }
        .encode(&mut out);
        out.extend_from_slice(&self.payload);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Examples from the RLP page of the Ethereum documentation
    /// (https://ethereum.org/developers/docs/data-structures-and-encoding/rlp/).
    #[test]
    fn documented_examples() {
        let mut l = RlpList::new();
        l.push(&b"cat"[..]).push(&b"dog"[..]);
        assert_eq!(l.finish(), b"\xc8\x83cat\x83dog");
        assert_eq!(RlpList::new().finish(), [0xc0]);
        let mut enc = Vec::new();
        0u64.encode(&mut enc);
        assert_eq!(enc, [0x80]);
        let mut enc = Vec::new();
        1024u64.encode(&mut enc);
        assert_eq!(enc, [0x82, 0x04, 0x00]);
        // [ [], [[]], [ [], [[]] ] ]
        let empty = RlpList::new().finish();
        let one = {
            let mut l = RlpList::new();
            l.push_encoded(&empty);
            l.finish()
        };
        let two = {
            let mut l = RlpList::new();
            l.push_encoded(&empty).push_encoded(&one);
            l.finish()
        };
        let mut set = RlpList::new();
        set.push_encoded(&empty)
            .push_encoded(&one)
            .push_encoded(&two);
        assert_eq!(
            set.finish(),
            [0xc7, 0xc0, 0xc1, 0xc0, 0xc3, 0xc0, 0xc1, 0xc0]
        );
    }
}
