//! The Worker's entry points (`handleFetch`, `handleScheduled`, called by `worker/index.js`)
//! and the JS I/O they need: env, headers, the body stream, responses, log lines.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, ReadableStreamDefaultReader, Request, Response, ResponseInit, Url};

use super::auth::authorize;
use super::error::ApiError;
use super::render;
use super::request::{
    create_args, declared_too_large, decode_segment, etag, if_match, is_media, rotate_args,
    session_token, CREATE_BODY_OVERHEAD, JSON, MERGE_PATCH, ROTATE_BODY_LIMIT, SESSION_TOKEN,
};
use super::route::{is_public, route, Route};
use crate::config::{Config, ConfigInput};
use crate::error::Error;
use crate::json::{self, Times};
use crate::manager::{Arg, DataArg, Manager, Outcome};
use crate::session::Session;
use crate::store::d1::D1Store;
use crate::wait::{drive, Stalled};

/// Rows one purge statement removes, and how many statements one cron run may issue:
/// bounded work per invocation, each statement an index range scan on `expires_at`.
const PURGE_BATCH: u32 = 1_000;
const PURGE_MAX_BATCHES: u32 = 100;

/// A successful answer.
struct Reply {
    status: u16,
    body: Option<String>,
    location: Option<String>,
    etag: Option<String>,
}

impl Reply {
    fn json(status: u16, body: String) -> Self {
        Reply {
            status,
            body: Some(body),
            location: None,
            etag: None,
        }
    }

    /// 200 with a session, and its version as `ETag` (what `If-Match` checks).
    fn session(session: &Session) -> Self {
        Reply {
            etag: Some(etag(session.version)),
            ..Reply::json(200, json::session(session, Times::Iso))
        }
    }

    fn no_content() -> Self {
        Reply {
            status: 204,
            body: None,
            location: None,
            etag: None,
        }
    }
}

fn health() -> Reply {
    Reply::json(200, r#"{"status":"ok"}"#.to_owned())
}

/// Answers one request. Never rejects: every failure is an `ApiError` response, and one
/// with a detail for the operator also writes a log line.
#[wasm_bindgen(js_name = handleFetch)]
pub async fn handle_fetch(request: Request, env: JsValue) -> Response {
    // A HEAD answer has GET's status and headers and no body. workerd drops a body on HEAD
    // itself, but only on the wire: the Response a caller of this module gets is ours.
    let head = request.method() == "HEAD";
    match serve(&request, &env).await {
        Ok(reply) => respond(reply.status, reply.body.as_deref(), head, |h| {
            if let Some(location) = &reply.location {
                let _ = h.set("Location", location);
            }
            if let Some(etag) = &reply.etag {
                let _ = h.set("ETag", etag);
            }
        }),
        Err(error) => {
            if let Some(line) = error.log_line() {
                log(&line);
            }
            respond(error.status, Some(&error.body()), head, |h| {
                if let Some(allow) = error.allow {
                    let _ = h.set("Allow", allow);
                }
                if error.status == 401 {
                    let _ = h.set("WWW-Authenticate", "Bearer");
                }
            })
        }
    }
}

/// The cron trigger: removes expired sessions in bounded batches and logs how many.
#[wasm_bindgen(js_name = handleScheduled)]
pub async fn handle_scheduled(env: JsValue) {
    let manager = match manager_from(&env) {
        Ok(manager) => manager,
        Err(error) => return log(&purge_line(0, Some(&error))),
    };
    let mut removed = 0;
    for _ in 0..PURGE_MAX_BATCHES {
        let batch = match drive(manager.purge_expired(PURGE_BATCH)).await {
            Ok(batch) => batch.map_err(ApiError::from),
            Err(stalled) => Err(ApiError::from(stalled)),
        };
        match batch {
            Ok(n) => {
                removed += n;
                if n < PURGE_BATCH {
                    break;
                }
            }
            Err(error) => return log(&purge_line(removed, Some(&error))),
        }
    }
    log(&purge_line(removed, None));
}

/// The cron run's one log line. Nobody but the operator reads it, so a failure is told in
/// full: the detail when there is one (D1's own words), else the message.
fn purge_line(removed: u32, error: Option<&ApiError>) -> String {
    let error = error.map(|e| e.detail.as_deref().unwrap_or(&e.message));
    serde_json::json!({ "housekeeping": "purge_expired", "removed": removed, "error": error })
        .to_string()
}

async fn serve(request: &Request, env: &JsValue) -> Result<Reply, ApiError> {
    let url = Url::new(&request.url()).map_err(|_| ApiError::not_found("unreadable URL"))?;
    let path = url.pathname();
    if is_public(&path) {
        route(&request.method(), &path)?;
        return Ok(health());
    }
    let headers = request.headers();
    authorize(
        string_binding(env, "API_TOKEN").as_deref(),
        header(&headers, "authorization").as_deref(),
    )?;
    let route = route(&request.method(), &path)?;
    // Each session route asks for it first, before reading a body or asking D1. The value
    // is a credential: it is handed to the core and never logged nor echoed.
    let token = || session_token(header(&headers, SESSION_TOKEN)).map(Arg::Given);
    let manager = manager_from(env)?;
    let limit = manager.config().max_data_bytes;
    match route {
        Route::Health => Ok(health()),
        Route::Create => {
            let body =
                read_body(request, &headers, limit + CREATE_BODY_OVERHEAD, true, JSON).await?;
            let (user_id, data) = create_args(&body)?;
            let created = settle(drive(manager.create(user_id, data)).await)?;
            Ok(Reply {
                // The public id only: a URL is logged, so it must never hold the token.
                location: Some(format!("/sessions/{}", created.session.id)),
                ..Reply::json(201, json::created(&created, Times::Iso))
            })
        }
        Route::Get => match settle(drive(manager.get(token()?)).await)? {
            Some(session) => Ok(Reply::session(&session)),
            None => Err(ApiError::token_not_found()),
        },
        Route::SaveData => {
            let token = token()?;
            let expected = Arg::Given(if_match(header(&headers, "if-match").as_deref())?);
            let body = read_body(request, &headers, limit, false, JSON).await?;
            match settle(drive(manager.save(token, DataArg::Json(body), expected)).await)? {
                Some(session) => Ok(Reply::session(&session)),
                None => Err(ApiError::token_not_found()),
            }
        }
        Route::PatchData => {
            let token = token()?;
            // A patch of independent keys needs no version check; one sent anyway is refused
            // rather than ignored, so a client relying on it never gets an unchecked write.
            if if_match(header(&headers, "if-match").as_deref())?.is_some() {
                return Err(ApiError::from(Error::InvalidArgument(
                    "PATCH takes no If-Match: use PUT with If-Match for a checked write".to_owned(),
                )));
            }
            let body = read_body(request, &headers, limit, false, MERGE_PATCH).await?;
            match settle(drive(manager.patch(token, DataArg::Json(body), true)).await)? {
                Some(session) => Ok(Reply::session(&session)),
                None => Err(ApiError::token_not_found()),
            }
        }
        Route::Renew => {
            let token = token()?;
            // Found means the token parsed, so its public id is what `shown` gives.
            let id = token.shown();
            match settle(drive(manager.renew(token)).await)? {
                Some(until) => Ok(Reply::json(200, render::renewal(&id, until))),
                None => Err(ApiError::token_not_found()),
            }
        }
        Route::Rotate => {
            let token = token()?;
            let body = read_body(request, &headers, ROTATE_BODY_LIMIT, true, JSON).await?;
            let user_id = rotate_args(&body)?;
            match settle(drive(manager.rotate(token, user_id)).await)? {
                Some(rotation) => Ok(Reply::json(200, json::rotation(&rotation, Times::Iso))),
                None => Err(ApiError::token_not_found()),
            }
        }
        Route::Delete => match settle(drive(manager.delete(token()?)).await)? {
            true => Ok(Reply::no_content()),
            false => Err(ApiError::token_not_found()),
        },
        Route::Find(id) => match settle(drive(manager.find(Arg::Given(id.to_owned()))).await)? {
            Some(listed) => Ok(Reply::json(200, json::listed(&listed, Times::Iso))),
            None => Err(ApiError::session_not_found()),
        },
        Route::Revoke(id) => {
            match settle(drive(manager.revoke(Arg::Given(id.to_owned()))).await)? {
                true => Ok(Reply::no_content()),
                false => Err(ApiError::session_not_found()),
            }
        }
        Route::ListUser(user) => {
            let user = Arg::Given(Some(decode_segment(user)?));
            let sessions = settle(drive(manager.list_user(user)).await)?;
            Ok(Reply::json(200, render::sessions(&sessions)))
        }
        Route::RevokeUser(user) => {
            let user = Arg::Given(Some(decode_segment(user)?));
            // The query's own decoding (`+` is a space there), as any client encodes it.
            let except = Arg::Given(url.search_params().get("except"));
            let revoked = settle(drive(manager.revoke_user(user, except)).await)?;
            Ok(Reply::json(200, render::revoked(revoked)))
        }
    }
}

/// Logs the outcome's signals (the audit trail `wrangler tail` shows), then hands over its
/// result. A stalled operation is a bug in this crate, so it answers 500 `internal`.
fn settle<T>(outcome: Result<Outcome<T>, Stalled>) -> Result<T, ApiError> {
    let outcome = outcome?;
    for event in &outcome.events {
        log(&render::log_line(event));
    }
    outcome.result.map_err(ApiError::from)
}

fn manager_from(env: &JsValue) -> Result<Manager<D1Store>, ApiError> {
    let db = Reflect::get(env, &"DB".into()).unwrap_or(JsValue::UNDEFINED);
    let has_prepare = Reflect::get(&db, &"prepare".into()).is_ok_and(|p| p.is_function());
    if !has_prepare {
        return Err(ApiError::not_configured("the DB binding is missing"));
    }
    let config = Config::from_input(ConfigInput {
        timeout_secs: number_var(env, "SESSION_TIMEOUT")?,
        absolute_timeout_secs: number_var(env, "SESSION_ABSOLUTE_TIMEOUT")?,
        ..ConfigInput::default()
    })
    .map_err(|e| {
        let var = match e.option {
            "absoluteTimeout" => "SESSION_ABSOLUTE_TIMEOUT",
            _ => "SESSION_TIMEOUT",
        };
        ApiError::not_configured(format!("{var}: {}", e.message))
    })?;
    let store = D1Store::for_table(db, &config.table);
    Ok(Manager::new(store, config))
}

/// A var that holds a number (wrangler's `[vars]` are strings); `None` when it is not set.
fn number_var(env: &JsValue, name: &'static str) -> Result<Option<f64>, ApiError> {
    match Reflect::get(env, &name.into()) {
        Ok(v) if v.is_undefined() => Ok(None),
        Ok(v) => v
            .as_f64()
            .or_else(|| v.as_string().and_then(|s| s.trim().parse().ok()))
            .map(Some)
            .ok_or_else(|| ApiError::not_configured(format!("{name} must be a number"))),
        Err(_) => Ok(None),
    }
}

fn string_binding(env: &JsValue, name: &str) -> Option<String> {
    Reflect::get(env, &name.into()).ok()?.as_string()
}

fn header(headers: &Headers, name: &str) -> Option<String> {
    headers.get(name).ok().flatten()
}

/// The body as text, refusing (413) as soon as it is known to exceed `limit`: from
/// `Content-Length` before reading, or from the bytes read so far, so no more than `limit`
/// bytes are ever held.
async fn read_body(
    request: &Request,
    headers: &Headers,
    limit: usize,
    may_be_empty: bool,
    media: &str,
) -> Result<String, ApiError> {
    let Some(stream) = request.body() else {
        return match may_be_empty {
            true => Ok(String::new()),
            false => Err(ApiError::unsupported_media_type(media)),
        };
    };
    let content_type = header(headers, "content-type");
    if !is_media(content_type.as_deref(), media) {
        // `curl -X POST` with no data sends no content type, and workerd hands the Worker
        // an empty stream rather than no body: an empty create body is still welcome.
        let untyped_empty = may_be_empty && content_type.is_none();
        return match untyped_empty && read_bytes(stream, 0).await.is_ok() {
            true => Ok(String::new()),
            false => Err(ApiError::unsupported_media_type(media)),
        };
    }
    if declared_too_large(header(headers, "content-length").as_deref(), limit) {
        return Err(ApiError::payload_too_large(limit));
    }
    let bytes = read_bytes(stream, limit).await?;
    String::from_utf8(bytes).map_err(|_| ApiError::invalid_json("the body is not UTF-8"))
}

/// The bytes of a body stream, refusing (413) as soon as they are over `limit`.
async fn read_bytes(stream: web_sys::ReadableStream, limit: usize) -> Result<Vec<u8>, ApiError> {
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let unreadable = |_| ApiError::invalid_json("the body could not be read");
    let mut bytes = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(unreadable)?;
        if Reflect::get(&chunk, &"done".into()).map_or(true, |d| d.is_truthy()) {
            break;
        }
        let value = Reflect::get(&chunk, &"value".into()).map_err(unreadable)?;
        let value = value.dyn_into::<Uint8Array>().map_err(unreadable)?;
        let len = value.length() as usize;
        if bytes.len() + len > limit {
            // Stop the upload; the answer does not depend on whether cancelling worked.
            let _ = reader.cancel();
            return Err(ApiError::payload_too_large(limit));
        }
        let start = bytes.len();
        bytes.resize(start + len, 0);
        if let Some(tail) = bytes.get_mut(start..) {
            value.copy_to(tail);
        }
    }
    Ok(bytes)
}

/// A response with `body` (JSON), `Cache-Control: no-store` and the headers `headers` sets;
/// for HEAD, the same status and headers with no body.
fn respond(
    status: u16,
    body: Option<&str>,
    head: bool,
    headers: impl FnOnce(&Headers),
) -> Response {
    let init = ResponseInit::new();
    init.set_status(status);
    if let Ok(h) = Headers::new() {
        if body.is_some() {
            let _ = h.set("Content-Type", "application/json");
        }
        // Every answer is one session's state, and two carry its token: no cache, shared or
        // private, may keep one.
        let _ = h.set("Cache-Control", "no-store");
        headers(&h);
        init.set_headers(&h);
    }
    let body = body.filter(|_| !head);
    Response::new_with_opt_str_and_init(body, &init)
        .or_else(|_| Response::new_with_opt_str_and_init(None, &init))
        .unwrap_or_else(|_| Response::error())
}

fn log(line: &str) {
    web_sys::console::log_1(&line.into());
}
