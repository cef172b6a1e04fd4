//! Base58 with the Bitcoin alphabet (Solana addresses and blockhashes, Bitcoin legacy
//! addresses), with errors that name the field.

use crate::PluginError;

/// Encode bytes.
pub fn encode(bytes: &[u8]) -> String {
    bs58::encode(bytes).into_string()
}

/// Decode `s` (the field `what`).
pub fn decode(s: &str, what: &str) -> Result<Vec<u8>, PluginError> {
    bs58::decode(s)
        .into_vec()
        .map_err(|e| PluginError::invalid_request(format!("{what}: not base58: {e}")))
}

/// Decode `s` (the field `what`) into exactly `N` bytes.
pub fn decode_fixed<const N: usize>(s: &str, what: &str) -> Result<[u8; N], PluginError> {
    let v = decode(s, what)?;
    let n = v.len();
    v.try_into().map_err(|_| {
        PluginError::invalid_request(format!("{what}: {n} bytes where {N} are expected"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names_bad_fields() {
        // The system program's id is 32 zero bytes.
        assert_eq!(encode(&[0; 32]), "11111111111111111111111111111111");
        assert_eq!(
            decode_fixed::<32>("11111111111111111111111111111111", "k").unwrap(),
            [0; 32]
        );
        let e = decode("0OIl", "to").unwrap_err();
        assert!(e.message.contains("to: not base58"), "{}", e.message);
        let e = decode_fixed::<32>("111", "to").unwrap_err();
        assert!(e.message.contains("3 bytes where 32"), "{}", e.message);
    }
}
