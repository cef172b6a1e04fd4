//! Constructors for [`PluginError`] values and summary lines, and the checks of a lone
//! signature that every one-payload request makes.

use crate::{Detail, ErrorCode, PluginError, Scheme, Signature};

impl Detail {
    /// A labelled line of a summary.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Detail {
            label: label.into(),
            value: value.into(),
        }
    }
}

impl PluginError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        PluginError {
            code,
            message: message.into(),
        }
    }

    /// The request is malformed.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    /// The request asks for something the plugin does not do.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unsupported, message)
    }

    /// The network cannot be served.
    pub fn unknown_network(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnknownNetwork, message)
    }

    /// The public key is unusable.
    pub fn invalid_public_key(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidPublicKey, message)
    }

    /// A signature is unusable.
    pub fn invalid_signature(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidSignature, message)
    }

    /// A bug in the plugin (an invariant it keeps did not hold).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    /// A choice the plugin does not offer: `kind "swap" (supported: transfer, message)`.
    pub fn unsupported_choice(what: &str, got: &str, supported: &[&str]) -> Self {
        Self::unsupported(format!(
            "{what} {got:?} (supported: {})",
            supported.join(", ")
        ))
    }
}

/// The one signature of a request with one payload.
pub fn only_signature(signatures: &[Signature]) -> Result<&Signature, PluginError> {
    match signatures {
        [sig] => Ok(sig),
        _ => Err(PluginError::invalid_signature(format!(
            "one signature is needed, {} given",
            signatures.len()
        ))),
    }
}

/// The 64 bytes of a Schnorr-family signature (`R || s`, `x(R) || s` or Monero's `c || r`),
/// checked to be of `scheme`.
pub fn signature_bytes(sig: &Signature, scheme: Scheme) -> Result<[u8; 64], PluginError> {
    if sig.scheme != scheme {
        return Err(PluginError::invalid_signature(format!(
            "the signature must be {scheme:?}, got {:?}",
            sig.scheme
        )));
    }
    sig.bytes.as_slice().try_into().map_err(|_| {
        PluginError::invalid_signature(format!("a signature is 64 bytes, got {}", sig.bytes.len()))
    })
}
