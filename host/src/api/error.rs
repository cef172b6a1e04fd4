//! Errors as the API reports them: a JSON body `{"error": {"code", "message"}}` with a stable
//! code and a fitting HTTP status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
    /// Seconds to wait before retrying (sent as `Retry-After`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400: the request cannot be understood.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 401: no valid access token.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: the caller may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404: nothing of this caller's by that name.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }

    /// 409: the resource is not in a state that allows this.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// 410: the resource existed but is gone (an ended session).
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, "gone", message)
    }

    /// 422: well-formed but not acceptable.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 429: too many requests; try again after `retry_after_secs`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests; try again in {retry_after_secs} s"),
            )
        }
    }

    /// 429: the caller has too many protocol sessions running.
    pub fn too_many_sessions(limit: usize) -> Self {
        Self {
            retry_after: Some(5),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_sessions",
                format!(
                    "at most {limit} protocol sessions may run at once; finish or wait for one"
                ),
            )
        }
    }

    /// 503 `server_busy` with `Retry-After`: a server-wide limit is reached; the request may be
    /// made again shortly.
    pub fn server_busy(message: impl Into<String>) -> Self {
        Self {
            retry_after: Some(5),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "server_busy", message)
        }
    }

    /// 500: the server failed; the details go to the log, not to the client.
    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(context, error = %error, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("internal error while {context}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": { "code": self.code, "message": self.message }
        });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "the database is unavailable");
            return ApiError {
                retry_after: Some(2),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    "the database is unavailable; try again shortly",
                )
            };
        }
        ApiError::internal("using the database", e)
    }
}

impl From<crate::plugin::Error> for ApiError {
    fn from(e: crate::plugin::Error) -> Self {
        match &e {
            crate::plugin::Error::Rejected { code, message, .. } => {
                ApiError::unprocessable("request_rejected", format!("{}: {message}", code.name()))
            }
            crate::plugin::Error::NotFound(_) => {
                ApiError::unprocessable("unsupported_chain", e.to_string())
            }
            _ => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "plugin_failed",
                format!("the chain plugin failed: {e}"),
            ),
        }
    }
}

impl From<crate::nodes::NodeError> for ApiError {
    fn from(e: crate::nodes::NodeError) -> Self {
        use crate::nodes::NodeError as N;
        let message = e.to_string();
        match e {
            N::NoEndpoint(_) => ApiError::unprocessable("no_node", message),
            N::NotARead(_) => ApiError::unprocessable("not_a_read", message),
            N::NotSendable(_) => ApiError::unprocessable("not_sendable", message),
            N::NeedsSender(_) => ApiError::unprocessable("needs_sender", message),
            N::Refused { .. } => ApiError::unprocessable("node_refused", message),
            N::Unreachable(_) | N::Garbage(_) => {
                ApiError::new(StatusCode::BAD_GATEWAY, "node_unavailable", message)
            }
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        let status = r.status();
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNPROCESSABLE_ENTITY => "invalid_request",
            _ => "malformed_json",
        };
        ApiError::new(status, code, r.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::bad_request(r.body_text())
    }
}
