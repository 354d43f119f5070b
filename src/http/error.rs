//! The one error an HTTP client sees, and the one place it becomes a response.

use super::auth::{Refusal, MIN_TOKEN_CHARS};
use crate::core::error::Error;

/// A failed request: its status, stable code, message and any header the status needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    /// What the client is told: never a secret, rejected input or a D1 internal.
    pub message: String,
    /// `Allow` for 405.
    pub allow: Option<&'static str>,
    /// What the operator needs and the client must not see (D1's own words, a bug's
    /// description). It goes to one JSON log line, never into the response.
    pub detail: Option<String>,
}

impl ApiError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            allow: None,
            detail: None,
        }
    }

    fn with_detail(self, detail: impl Into<String>) -> Self {
        ApiError {
            detail: Some(detail.into()),
            ..self
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }

    /// No live session has the public id in the path.
    pub fn session_not_found() -> Self {
        Self::not_found("no live session has this id")
    }

    /// No live session opens with the `Session-Token` given: one answer whether the token
    /// is malformed, unknown, expired or has the wrong secret, so a guess learns nothing.
    pub fn token_not_found() -> Self {
        Self::not_found("no live session has this token")
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

    /// A body that is not of `media`, the one media type the route takes.
    pub fn unsupported_media_type(media: &str) -> Self {
        Self::new(
            415,
            "unsupported_media_type",
            format!("the body must be {media}"),
        )
    }

    /// A request body over `limit` bytes (for a create, the data limit plus room for the
    /// wrapper, so the message names the body, not the data).
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            413,
            "payload_too_large",
            format!("the request body is larger than {limit} bytes"),
        )
    }

    /// A bug in the Worker, not a fault of the request or of D1: the client learns only
    /// that, and `detail` says what happened in the log.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, "internal", "internal error").with_detail(detail)
    }

    /// `{"error":{"code","message"}}`.
    pub fn body(&self) -> String {
        serde_json::json!({ "error": { "code": self.code, "message": self.message } }).to_string()
    }

    /// The log line for an error with a detail: `{"failure","status","detail"}`.
    pub fn log_line(&self) -> Option<String> {
        let detail = self.detail.as_ref()?;
        Some(
            serde_json::json!({ "failure": self.code, "status": self.status, "detail": detail })
                .to_string(),
        )
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidArgument(_) | Error::InvalidData(_) | Error::InvalidJson(_) => {
                Self::new(400, error.code(), error.to_string())
            }
            Error::PayloadTooLarge { .. } => Self::new(413, error.code(), error.to_string()),
            Error::Conflict(_) => Self::new(412, error.code(), error.to_string()),
            Error::UserMismatch => Self::new(409, error.code(), error.to_string()),
            // D1's message names tables, columns and SQLite's state: for the log only.
            Error::Db(_) => {
                Self::new(503, error.code(), "the database failed").with_detail(error.to_string())
            }
            Error::Internal(_) => Self::internal(error.to_string()),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            // The client gets the same 401 as a wrong token; only the operator is told why.
            Refusal::NoSecret => Self::unauthorized().with_detail(
                "the API_TOKEN secret is not set: every route but /health answers 401",
            ),
            Refusal::WrongBearer => Self::unauthorized(),
            Refusal::WeakSecret => Self::not_configured(format!(
                "the API_TOKEN secret is shorter than {MIN_TOKEN_CHARS} characters"
            )),
        }
    }
}

/// The store only ever waits on D1's promises, so a stall is a bug in this crate.
#[cfg(target_arch = "wasm32")]
impl From<crate::bridge::wait::Stalled> for ApiError {
    fn from(_: crate::bridge::wait::Stalled) -> Self {
        Self::internal("an operation stalled: it waited on something that is not a D1 promise")
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
            (Error::Conflict("x".into()), 412, "conflict"),
            (Error::Db("x".into()), 503, "db_error"),
            (Error::Internal("x".into()), 500, "internal"),
        ];
        for (error, status, code) in cases {
            let api = ApiError::from(error);
            assert_eq!((api.status, api.code), (status, code));
        }
    }

    #[test]
    fn a_database_failure_is_told_to_the_log_not_the_client() {
        let d1 = "D1_ERROR: no such table: sessions: SQLITE_ERROR";
        let api = ApiError::from(Error::Db(d1.into()));
        assert_eq!(api.message, "the database failed");
        assert!(!api.body().contains("D1_ERROR"), "{}", api.body());
        let line: serde_json::Value = serde_json::from_str(&api.log_line().unwrap()).unwrap();
        assert_eq!(line["failure"], "db_error");
        assert_eq!(line["status"], 503);
        assert!(line["detail"].as_str().unwrap().contains(d1));
    }

    #[test]
    fn an_internal_error_says_only_that_to_the_client() {
        let api = ApiError::internal("the bug");
        assert_eq!((api.status, api.code), (500, "internal"));
        let body: serde_json::Value = serde_json::from_str(&api.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({ "error": { "code": "internal", "message": "internal error" } })
        );
        assert!(api.log_line().unwrap().contains("the bug"));
    }

    #[test]
    fn refusals_become_401_except_a_weak_secret_shown_to_its_holder() {
        let missing = ApiError::from(Refusal::NoSecret);
        assert_eq!(missing.body(), ApiError::unauthorized().body());
        assert!(missing.log_line().unwrap().contains("API_TOKEN"));
        let wrong = ApiError::from(Refusal::WrongBearer);
        assert_eq!((wrong.status, wrong.log_line()), (401, None));
        let weak = ApiError::from(Refusal::WeakSecret);
        assert_eq!((weak.status, weak.code), (503, "not_configured"));
    }

    #[test]
    fn errors_without_a_detail_are_not_logged() {
        assert_eq!(ApiError::session_not_found().log_line(), None);
        assert_eq!(ApiError::token_not_found().log_line(), None);
        assert_eq!(
            ApiError::from(Error::InvalidData("x".into())).log_line(),
            None
        );
    }

    #[test]
    fn body_is_the_error_envelope() {
        let body: serde_json::Value =
            serde_json::from_str(&ApiError::method_not_allowed("GET").body()).unwrap();
        assert_eq!(body["error"]["code"], "method_not_allowed");
        assert_eq!(body["error"]["message"], "allowed: GET");
    }
}
