//! Constructors for [`PluginError`] values and summary lines.

use crate::{Detail, ErrorCode, PluginError};

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
}
