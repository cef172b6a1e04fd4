//! 256-bit unsigned integers and their JSON forms.

pub use ruint::aliases::U256;

use crate::PluginError;

/// Parse a quantity written as a decimal string ("1000"), a `0x` hex string ("0x3e8") or a JSON
/// number. `what` names the field in the error.
pub fn parse_quantity(value: &serde_json::Value, what: &str) -> Result<U256, PluginError> {
    let bad = |why: &str| PluginError::invalid_request(format!("{what}: {why}"));
    match value {
        serde_json::Value::Number(n) => n
            .as_u64()
            .map(U256::from)
            .ok_or_else(|| bad("must be a non-negative integer (write large values as strings)")),
        serde_json::Value::String(s) => {
            let s = s.trim();
            if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                if hex.is_empty() {
                    return Err(bad("empty hex quantity"));
                }
                U256::from_str_radix(hex, 16).map_err(|e| bad(&format!("bad hex quantity: {e}")))
            } else {
                if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad("must be decimal digits or 0x-prefixed hex"));
                }
                U256::from_str_radix(s, 10).map_err(|e| bad(&format!("{e}")))
            }
        }
        _ => Err(bad("must be a string or a number")),
    }
}

/// Like [`parse_quantity`] but the value must fit in 64 bits.
pub fn parse_u64(value: &serde_json::Value, what: &str) -> Result<u64, PluginError> {
    let v = parse_quantity(value, what)?;
    u64::try_from(v)
        .map_err(|_| PluginError::invalid_request(format!("{what}: does not fit in 64 bits")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_forms_and_rejects_overflow() {
        assert_eq!(parse_quantity(&json!(1000), "v").unwrap(), U256::from(1000));
        assert_eq!(
            parse_quantity(&json!("0x3e8"), "v").unwrap(),
            U256::from(1000)
        );
        assert_eq!(
            parse_quantity(&json!("1000"), "v").unwrap(),
            U256::from(1000)
        );
        let too_big = format!("0x1{}", "0".repeat(64));
        assert!(parse_quantity(&json!(too_big), "v").is_err());
        assert!(parse_quantity(&json!(-1), "v").is_err());
        assert!(parse_quantity(&json!("1e18"), "v").is_err());
        assert!(parse_quantity(&json!(true), "v").is_err());
        assert!(parse_u64(&json!("18446744073709551616"), "v").is_err());
    }
}
