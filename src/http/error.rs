//! The one error an HTTP client sees, and the one place it becomes a response.

use crate::error::Error;

/// A failed request: its status, stable code, message and any header the status needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// `Allow` for 405.
    pub allow: Option<&'static str>,
}

impl ApiError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            allow: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }

    pub fn session_not_found() -> Self {
        Self::not_found("no live session has this id")
    }

    pub fn unauthorized() -> Self {
        Self::new(
            401,
            "unauthorized",
            "a valid `Authorization: Bearer <token>` is required",
        )
    }

    pub fn not_configured(message: impl Into<String>) -> Self {
        Self::new(503, "not_configured", message)
    }

    pub fn method_not_allowed(allow: &'static str) -> Self {
        ApiError {
            allow: Some(allow),
            ..Self::new(405, "method_not_allowed", format!("allowed: {allow}"))
        }
    }

    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(400, "invalid_json", message)
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            415,
            "unsupported_media_type",
            "the body must be application/json",
        )
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::from(Error::PayloadTooLarge { limit })
    }

    /// `{"error":{"code","message"}}`.
    pub fn body(&self) -> String {
        serde_json::json!({ "error": { "code": self.code, "message": self.message } }).to_string()
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let status = match error {
            Error::InvalidArgument(_) | Error::InvalidData(_) | Error::InvalidJson(_) => 400,
            Error::PayloadTooLarge { .. } => 413,
            Error::Db(_) => 503,
            Error::Internal(_) => 500,
        };
        Self::new(status, error.code(), error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_map_to_their_statuses_and_codes() {
        let cases = [
            (Error::InvalidArgument("x".into()), 400, "invalid_argument"),
            (Error::InvalidData("x".into()), 400, "invalid_data"),
            (Error::InvalidJson("x".into()), 400, "invalid_json"),
            (
                Error::PayloadTooLarge { limit: 9 },
                413,
                "payload_too_large",
            ),
            (Error::Db("x".into()), 503, "db_error"),
            (Error::Internal("x".into()), 500, "internal"),
        ];
        for (error, status, code) in cases {
            let api = ApiError::from(error);
            assert_eq!((api.status, api.code), (status, code));
        }
    }

    #[test]
    fn body_is_the_error_envelope() {
        let body: serde_json::Value =
            serde_json::from_str(&ApiError::method_not_allowed("GET").body()).unwrap();
        assert_eq!(body["error"]["code"], "method_not_allowed");
        assert_eq!(body["error"]["message"], "allowed: GET");
    }
}
