//! Strict parsing of request JSON.

use serde::de::DeserializeOwned;

use crate::PluginError;

/// The largest request a plugin accepts, in bytes.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

/// Parse a request. Unknown fields are the type's business (use
/// `#[serde(deny_unknown_fields)]` to refuse them); the error names the line, column and reason.
pub fn parse_request<T: DeserializeOwned>(json: &str) -> Result<T, PluginError> {
    if json.len() > MAX_REQUEST_BYTES {
        return Err(PluginError::invalid_request(format!(
            "request is {} bytes; the limit is {MAX_REQUEST_BYTES}",
            json.len()
        )));
    }
    serde_json::from_str(json)
        .map_err(|e| PluginError::invalid_request(format!("request JSON: {e}")))
}
