//! Strict parsing of request JSON, with errors that name the field at fault.

use serde::de::DeserializeOwned;

use crate::PluginError;

/// The largest request a plugin accepts, in bytes.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

fn check_size(json: &str) -> Result<(), PluginError> {
    if json.len() > MAX_REQUEST_BYTES {
        return Err(PluginError::invalid_request(format!(
            "request is {} bytes; the limit is {MAX_REQUEST_BYTES}",
            json.len()
        )));
    }
    Ok(())
}

/// Deserialize `value` as `T`; an error names the path of the field at fault, e.g.
/// `messages[0].amount: invalid type: ...`.
fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, PluginError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            PluginError::invalid_request(format!("request: {inner}"))
        } else {
            PluginError::invalid_request(format!("{path}: {inner}"))
        }
    })
}

/// Parse a request as `T` (a struct; unknown fields are the type's business, refused with
/// `#[serde(deny_unknown_fields)]`). Malformed JSON names the line and column; a field of the
/// wrong type or range names the field.
pub fn parse_request<T: DeserializeOwned>(json: &str) -> Result<T, PluginError> {
    check_size(json)?;
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| PluginError::invalid_request(format!("request JSON: {e}")))?;
    from_value(value)
}

/// A request whose shape depends on its `"kind"`: the kind, and the other fields to give to
/// [`RequestFields::parse`] once the plugin has chosen the type for that kind.
///
/// ```ignore
/// let (kind, fields) = mpcw_plugin_sdk::request_kind(json)?;
/// match kind.as_str() {
///     "transfer" => Request::Transfer(fields.parse()?),
///     other => return Err(PluginError::unsupported(format!("kind {other:?}"))),
/// }
/// ```
pub fn request_kind(json: &str) -> Result<(String, RequestFields), PluginError> {
    check_size(json)?;
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| PluginError::invalid_request(format!("request JSON: {e}")))?;
    let serde_json::Value::Object(mut map) = value else {
        return Err(PluginError::invalid_request(
            "request: expected a JSON object with a \"kind\"",
        ));
    };
    match map.remove("kind") {
        Some(serde_json::Value::String(kind)) => Ok((kind, RequestFields(map))),
        Some(_) => Err(PluginError::invalid_request("kind: expected a string")),
        None => Err(PluginError::invalid_request("kind: missing")),
    }
}

/// The fields of a request other than its kind.
#[derive(Debug, Clone)]
pub struct RequestFields(serde_json::Map<String, serde_json::Value>);

impl RequestFields {
    /// Deserialize the fields as `T`; errors name the field at fault.
    pub fn parse<T: DeserializeOwned>(self) -> Result<T, PluginError> {
        from_value(serde_json::Value::Object(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        amount: u64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Transfer {
        items: Vec<Item>,
    }

    #[test]
    fn errors_name_the_field() {
        let (kind, fields) =
            request_kind(r#"{"kind": "transfer", "items": [{"amount": 1}, {"amount": -1}]}"#)
                .unwrap();
        assert_eq!(kind, "transfer");
        let e = fields.parse::<Transfer>().unwrap_err();
        assert!(e.message.starts_with("items[1].amount: "), "{}", e.message);
        let (_, fields) = request_kind(r#"{"kind": "transfer", "items": [], "x": 1}"#).unwrap();
        assert!(fields
            .parse::<Transfer>()
            .unwrap_err()
            .message
            .contains("`x`"));
        assert!(request_kind(r#"{"items": []}"#)
            .unwrap_err()
            .message
            .contains("kind"));
        assert!(request_kind("[1]").unwrap_err().message.contains("object"));
        assert!(request_kind("{").unwrap_err().message.contains("line 1"));
        let big = format!("\"{}\"", "x".repeat(MAX_REQUEST_BYTES));
        assert!(request_kind(&big).unwrap_err().message.contains("limit"));
    }
}
