//! What a request gets back: a [`Reply`] or an [`ApiError`], and the one place either
//! becomes a `Response`.

use worker::{Headers, Response};

use super::error::ApiError;
use super::request::{etag, D1_BOOKMARK};
use super::run::log;
use crate::core::json::{self, Times};
use crate::core::manager::Created;
use crate::core::session::Session;

/// Seconds a client waits before it tries again after a `503 db_error`: D1's stalls mostly
/// pass within seconds, and a shorter wait would only add load to a struggling database.
const RETRY_AFTER_SECS: &str = "5";

/// A request that succeeded: its status, JSON body and the headers that go with them.
pub(crate) struct Reply {
    status: u16,
    body: Option<String>,
    location: Option<String>,
    etag: Option<String>,
}

impl Reply {
    /// `status` with a JSON `body`.
    pub(crate) fn json(status: u16, body: String) -> Self {
        Reply {
            status,
            body: Some(body),
            location: None,
            etag: None,
        }
    }

    /// 200 `{"status":"ok"}`.
    pub(crate) fn health() -> Self {
        Reply::json(200, r#"{"status":"ok"}"#.to_owned())
    }

    /// 201 with the new session and its token, and where the session can be found.
    pub(crate) fn created(created: &Created) -> Self {
        Reply {
            // The public id only: a URL is logged, so it must never hold the token.
            location: Some(format!("/sessions/{}", created.session.id)),
            ..Reply::json(201, json::created(created, Times::Iso))
        }
    }

    /// 200 with a session, and its version as `ETag` (what `If-Match` checks).
    pub(crate) fn session(session: &Session) -> Self {
        Reply {
            etag: Some(etag(session.version)),
            ..Reply::json(200, json::session(session, Times::Iso))
        }
    }

    pub(crate) fn no_content() -> Self {
        Reply {
            status: 204,
            body: None,
            location: None,
            etag: None,
        }
    }
}

/// The response for `result`, with `bookmark` as `D1-Bookmark` (read replicas) whatever the
/// result. An error with a detail for the operator also writes a log line. For `HEAD`, GET's
/// status and headers without the body: workerd drops a HEAD body only on the wire, and the
/// Response a caller of this module gets is ours.
pub(crate) fn respond(
    result: Result<Reply, ApiError>,
    bookmark: Option<&str>,
    head: bool,
) -> Response {
    let set_bookmark = |h: &Headers| {
        if let Some(bookmark) = bookmark {
            let _ = h.set(D1_BOOKMARK, bookmark);
        }
    };
    match result {
        Ok(reply) => response(reply.status, reply.body, head, |h| {
            if let Some(location) = &reply.location {
                let _ = h.set("Location", location);
            }
            if let Some(etag) = &reply.etag {
                let _ = h.set("ETag", etag);
            }
            set_bookmark(h);
        }),
        Err(error) => {
            if let Some(line) = error.log_line() {
                log(&line);
            }
            response(error.status, Some(error.body()), head, |h| {
                if let Some(allow) = error.allow {
                    let _ = h.set("Allow", allow);
                }
                if error.status == 401 {
                    let _ = h.set("WWW-Authenticate", "Bearer");
                }
                // D1 failed or stalled: a client may try again shortly; a misconfiguration waits.
                if error.code == "db_error" {
                    let _ = h.set("Retry-After", RETRY_AFTER_SECS);
                }
                set_bookmark(h);
            })
        }
    }
}

/// A response with `body` (JSON), `Cache-Control: no-store` and the headers `headers` sets;
/// for HEAD, the same status and headers with no body.
fn response(
    status: u16,
    body: Option<String>,
    head: bool,
    headers: impl FnOnce(&Headers),
) -> Response {
    let h = Headers::new();
    if body.is_some() {
        let _ = h.set("Content-Type", "application/json");
    }
    // Every response tells of one session's state, and two carry its token: no cache, shared or
    // private, may keep one.
    let _ = h.set("Cache-Control", "no-store");
    headers(&h);
    let response = match body.filter(|_| !head) {
        Some(body) => Response::from_bytes(body.into_bytes()),
        None => Response::empty(),
    };
    // Neither constructor can fail for a byte body; the fallback keeps that a non-issue.
    let response = response.unwrap_or_else(|_| Response::builder().empty());
    response.with_status(status).with_headers(h)
}
