//! The Worker's entry points on the `worker` crate (workers-rs): `#[event(fetch)]` and
//! `#[event(scheduled)]`, called by `worker/index.js`, with its `Router`, `Env`, `Request`
//! and `Response`. The session rules and the D1 store are the crate's own, as for the npm
//! package: workers-rs serves the HTTP side only.

use std::cell::RefCell;

use futures_util::StreamExt;
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_streams::readable::{sys::ReadableStream as RawStream, ReadableStream};
use worker::{
    event, Context, Env, Headers, Request, Response, RouteContext, Router, ScheduleContext,
    ScheduledEvent,
};

use super::auth::authorize;
use super::error::ApiError;
use super::render;
use super::request::{
    bookmark, create_args, declared_too_large, decode_segment, etag, if_match, is_media,
    rotate_args, session_token, CREATE_BODY_OVERHEAD, D1_BOOKMARK, JSON, MERGE_PATCH,
    ROTATE_BODY_LIMIT, SESSION_TOKEN,
};
use super::route::{is_public, Endpoint, Route, PARAM};
use crate::bridge::d1::{self, D1Sessions, D1Store};
use crate::bridge::wait::{drive, Stalled};
use crate::core::config::{Config, ConfigInput};
use crate::core::error::Error;
use crate::core::json::{self, Times};
use crate::core::manager::{Arg, DataArg, Manager, Outcome};
use crate::core::session::Session;

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

/// Answers one request. Never fails: every failure is an `ApiError` response, and one with
/// a detail for the operator also writes a log line.
#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    // The method as sent: the crate's `Method` reads an unknown method as GET.
    let method = request.inner().method();
    // A HEAD answer has GET's status and headers and no body. workerd drops a body on HEAD
    // itself, but only on the wire: the Response a caller of this module gets is ours.
    let head = method == "HEAD";
    let exchange = Exchange::default();
    let answered = serve(request, env, method, &exchange).await;
    // With read replicas, the newest bookmark, for the client's next request.
    let bookmark = exchange
        .d1
        .take()
        .and_then(|session| d1::bookmark(&session));
    let set_bookmark = |h: &Headers| {
        if let Some(bookmark) = &bookmark {
            let _ = h.set(D1_BOOKMARK, bookmark);
        }
    };
    Ok(match answered {
        Ok(reply) => respond(reply.status, reply.body, head, |h| {
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
            let body = Some(error.body());
            respond(error.status, body, head, |h| {
                if let Some(allow) = error.allow {
                    let _ = h.set("Allow", allow);
                }
                if error.status == 401 {
                    let _ = h.set("WWW-Authenticate", "Bearer");
                }
                set_bookmark(h);
            })
        }
    })
}

/// The cron trigger: removes expired sessions in bounded batches and logs how many.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let manager = match manager_from(&env, Start::Primary) {
        Ok((manager, _)) => manager,
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
                // Shards share a batch out among them, so a short batch does not mean that
                // every shard is done: only an empty one does.
                if n == 0 {
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

/// What a handler hands back out of the Router: its answer, written once in [`fetch`] for
/// every route alike, and the D1 session it ran in (read replicas), whose bookmark the
/// answer carries.
#[derive(Default)]
struct Exchange {
    answer: RefCell<Option<Result<Reply, ApiError>>>,
    d1: RefCell<Option<JsValue>>,
}

async fn serve(
    request: Request,
    env: Env,
    method: String,
    exchange: &Exchange,
) -> Result<Reply, ApiError> {
    if !is_public(&request.path()) {
        let bearer = request.headers().get("authorization").ok().flatten();
        authorize(secret(&env, "API_TOKEN").as_deref(), bearer.as_deref())?;
    }
    let method = method.as_str();
    let router = Endpoint::ALL
        .into_iter()
        .fold(Router::with_data(exchange), |router, endpoint| {
            router.on_async(endpoint.pattern(), move |request, ctx| async move {
                let answered = handle(endpoint, method, request, &ctx).await;
                ctx.data.answer.replace(Some(answered));
                Response::empty()
            })
        });
    // The Router answers by itself only when no pattern matches the path (its plain 404):
    // then nothing was handed back, and the answer is ours.
    let _ = router.run(request, env).await;
    exchange
        .answer
        .take()
        .unwrap_or_else(|| Err(ApiError::not_found("no such route")))
}

async fn handle(
    endpoint: Endpoint,
    method: &str,
    request: Request,
    ctx: &RouteContext<&Exchange>,
) -> Result<Reply, ApiError> {
    let param = ctx.param(PARAM).map_or("", String::as_str);
    let route = endpoint.route(method, param)?;
    if route == Route::Health {
        return Ok(health());
    }
    let headers = request.headers().clone();
    let header = |name: &str| headers.get(name).ok().flatten();
    // Each session route asks for it first, before reading a body or asking D1. The value
    // is a credential: it is handed to the core and never logged nor echoed.
    let token = || session_token(header(SESSION_TOKEN)).map(Arg::Given);
    // Checked on every route; only reads start where it says.
    let bookmark = bookmark(header(D1_BOOKMARK))?;
    let start = match route.is_read() {
        true => Start::Read(bookmark.as_deref()),
        false => Start::Primary,
    };
    let (manager, session) = manager_from(&ctx.env, start)?;
    ctx.data.d1.replace(session);
    let limit = manager.config().max_data_bytes;
    match route {
        Route::Health => Ok(health()),
        Route::Create => {
            let limit = limit + CREATE_BODY_OVERHEAD;
            let body = read_body(&request, &headers, limit, true, JSON).await?;
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
            let expected = Arg::Given(if_match(header("if-match").as_deref())?);
            let body = read_body(&request, &headers, limit, false, JSON).await?;
            match settle(drive(manager.save(token, DataArg::Json(body), expected)).await)? {
                Some(session) => Ok(Reply::session(&session)),
                None => Err(ApiError::token_not_found()),
            }
        }
        Route::PatchData => {
            let token = token()?;
            // A patch of independent keys needs no version check; one sent anyway is refused
            // rather than ignored, so a client relying on it never gets an unchecked write.
            if if_match(header("if-match").as_deref())?.is_some() {
                return Err(ApiError::from(Error::InvalidArgument(
                    "PATCH takes no If-Match: use PUT with If-Match for a checked write".to_owned(),
                )));
            }
            let body = read_body(&request, &headers, limit, false, MERGE_PATCH).await?;
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
            let body = read_body(&request, &headers, ROTATE_BODY_LIMIT, true, JSON).await?;
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
            let url = request.inner().url();
            let query = url.split_once('?').map_or("", |(_, query)| query);
            let query = query.split('#').next().unwrap_or_default();
            let except = form_urlencoded::parse(query.as_bytes())
                .find(|(key, _)| key == "except")
                .map(|(_, value)| value.into_owned());
            let revoked = settle(drive(manager.revoke_user(user, Arg::Given(except))).await)?;
            Ok(Reply::json(200, render::revoked(revoked)))
        }
    }
}

/// Logs the outcome's signals (the audit trail `wrangler tail` shows), then hands over its
/// result. A stalled operation is a bug in this crate, so it answers 500 `internal`.
pub(crate) fn settle<T>(outcome: Result<Outcome<T>, Stalled>) -> Result<T, ApiError> {
    let outcome = outcome?;
    for signal in &outcome.signals {
        log(&render::log_line(signal));
    }
    outcome.result.map_err(ApiError::from)
}

/// Where an operation's queries start when the Worker reads through D1's replicas.
pub(crate) enum Start<'a> {
    /// At the primary: every write, and a read asked for the latest state.
    Primary,
    /// A read: at the client's bookmark, or at any replica without one.
    Read(Option<&'a str>),
}

/// The manager for one operation, on the D1 bindings `SESSION_SHARDS` names (`DB` alone by
/// default), and the D1 session it runs in when `SESSION_REPLICAS` is on (none otherwise,
/// or when the binding has no Sessions API or refuses: then it runs on the binding itself,
/// which reads the primary, never staler).
pub(crate) fn manager_from(
    env: &Env,
    start: Start,
) -> Result<(Manager<D1Sessions>, Option<JsValue>), ApiError> {
    let mut dbs = shard_bindings(env)?;
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
    let session = match (replicas(env)?, dbs.as_mut_slice()) {
        (false, _) => None,
        (true, [db]) => {
            let constraint = match start {
                Start::Primary => "first-primary",
                Start::Read(bookmark) => bookmark.unwrap_or("first-unconstrained"),
            };
            let session = d1::with_session(db, constraint);
            if let Some(session) = &session {
                *db = session.clone();
            }
            session
        }
        (true, _) => {
            return Err(ApiError::not_configured(
                "SESSION_REPLICAS works with one database, not with SESSION_SHARDS yet",
            ))
        }
    };
    let store = D1Store::for_table(dbs, &config.table)
        .ok_or_else(|| ApiError::not_configured("SESSION_SHARDS names too many bindings"))?;
    Ok((Manager::new(store, config), session))
}

/// The D1 bindings sessions live on, in the order the shards were added: those the
/// `SESSION_SHARDS` var names (comma-separated, for example `"DB,DB_1,DB_2"`), else `DB`.
/// Shards are only ever appended: an id names its shard by its place in this list.
fn shard_bindings(env: &Env) -> Result<Vec<JsValue>, ApiError> {
    let names = match is_set(env, "SESSION_SHARDS") {
        true => env
            .var("SESSION_SHARDS")
            .map(|v| v.to_string())
            .map_err(|_| ApiError::not_configured("SESSION_SHARDS must be a string"))?,
        false => "DB".to_owned(),
    };
    let names: Vec<&str> = names.split(',').map(str::trim).collect();
    // One binding twice would list its sessions twice and place some on the wrong shard.
    let distinct: std::collections::HashSet<&&str> = names.iter().collect();
    if distinct.len() != names.len() {
        return Err(ApiError::not_configured(
            "SESSION_SHARDS names a binding twice",
        ));
    }
    names
        .into_iter()
        .map(|name| {
            // The binding as it is: the store makes its own calls (src/bridge/d1).
            let db = Reflect::get(env, &name.into()).unwrap_or(JsValue::UNDEFINED);
            let has_prepare = Reflect::get(&db, &"prepare".into()).is_ok_and(|p| p.is_function());
            match has_prepare {
                true => Ok(db),
                false => Err(ApiError::not_configured(format!(
                    "the {} binding is missing",
                    crate::core::session::shown(name)
                ))),
            }
        })
        .collect()
}

/// Whether `SESSION_REPLICAS` turns read replicas on: `"true"` or `"false"` (the default).
fn replicas(env: &Env) -> Result<bool, ApiError> {
    if !is_set(env, "SESSION_REPLICAS") {
        return Ok(false);
    }
    // A string in `[vars]`, or a TOML boolean, which reaches the Worker as a JS boolean.
    let flag = Reflect::get(env, &"SESSION_REPLICAS".into())
        .ok()
        .and_then(|v| v.as_bool());
    let text = env.var("SESSION_REPLICAS").map(|v| v.to_string());
    match (flag, text.as_deref()) {
        (Some(flag), _) => Ok(flag),
        (None, Ok("true")) => Ok(true),
        (None, Ok("false")) => Ok(false),
        _ => Err(ApiError::not_configured(
            "SESSION_REPLICAS must be true or false",
        )),
    }
}

/// Whether `env` has `name` set to anything but `undefined` or `null`. The crate's typed
/// getters tell a binding's type by its constructor, which `null` has not: asked about one,
/// the JS exception would unwind through wasm.
fn is_set(env: &Env, name: &str) -> bool {
    Reflect::get(env, &name.into()).is_ok_and(|v| !v.is_undefined() && !v.is_null())
}

/// A secret (or a var holding one) as text; `None` when it is not set or not a string.
fn secret(env: &Env, name: &str) -> Option<String> {
    is_set(env, name)
        .then(|| env.secret(name).ok())
        .flatten()
        .map(|s| s.to_string())
}

/// A var that holds a number: a string in `[vars]` (`"3600"`), or a TOML number, which
/// reaches the Worker as a JS number; `None` when it is not set.
fn number_var(env: &Env, name: &'static str) -> Result<Option<f64>, ApiError> {
    if !is_set(env, name) {
        return Ok(None);
    }
    let number = match env.var(name) {
        Ok(text) => text.to_string().trim().parse().ok(),
        Err(_) => Reflect::get(env, &name.into())
            .ok()
            .and_then(|v| v.as_f64()),
    };
    number
        .map(Some)
        .ok_or_else(|| ApiError::not_configured(format!("{name} must be a number")))
}

/// The body as text, refusing (413) as soon as it is known to exceed `limit`: from
/// `Content-Length` before reading, or from the bytes read so far, so no more than `limit`
/// bytes are ever held. Headers are checked before the body is touched, and a body this
/// stops reading is let go of, never cancelled: `worker/index.js` reads what is left.
async fn read_body(
    request: &Request,
    headers: &Headers,
    limit: usize,
    may_be_empty: bool,
    media: &str,
) -> Result<String, ApiError> {
    // The stream as it is: getting it neither reads nor locks it.
    let Some(body) = request.inner().body() else {
        return match may_be_empty {
            true => Ok(String::new()),
            false => Err(ApiError::unsupported_media_type(media)),
        };
    };
    let header = |name: &str| headers.get(name).ok().flatten();
    let content_type = header("content-type");
    if !is_media(content_type.as_deref(), media) {
        // `curl -X POST` with no data sends no content type, and workerd hands the Worker
        // an empty stream rather than no body: an empty create body is still welcome.
        let untyped_empty = may_be_empty && content_type.is_none();
        return match untyped_empty && read_bytes(body, 0).await.is_ok() {
            true => Ok(String::new()),
            false => Err(ApiError::unsupported_media_type(media)),
        };
    }
    if declared_too_large(header("content-length").as_deref(), limit) {
        return Err(ApiError::payload_too_large(limit));
    }
    let bytes = read_bytes(body, limit).await?;
    String::from_utf8(bytes).map_err(|_| ApiError::invalid_json("the body is not UTF-8"))
}

/// The bytes of a body stream, refusing (413) as soon as they would be over `limit`. The
/// reader lets go of the stream when dropped without cancelling it: under `wrangler dev`, a
/// cancelled upload breaks the client's connection (500 or a reset) instead of answering.
async fn read_bytes(body: RawStream, limit: usize) -> Result<Vec<u8>, ApiError> {
    let unreadable = || ApiError::invalid_json("the body could not be read");
    let mut body = ReadableStream::from_raw(body);
    let mut chunks = body
        .try_get_reader()
        .map_err(|_| unreadable())?
        .into_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = Uint8Array::from(chunk.map_err(|_| unreadable())?);
        if bytes.len() + chunk.length() as usize > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        bytes.extend_from_slice(&chunk.to_vec());
    }
    Ok(bytes)
}

/// A response with `body` (JSON), `Cache-Control: no-store` and the headers `headers` sets;
/// for HEAD, the same status and headers with no body.
fn respond(
    status: u16,
    body: Option<String>,
    head: bool,
    headers: impl FnOnce(&Headers),
) -> Response {
    let h = Headers::new();
    if body.is_some() {
        let _ = h.set("Content-Type", "application/json");
    }
    // Every answer is one session's state, and two carry its token: no cache, shared or
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

pub(crate) fn log(line: &str) {
    worker::console_log!("{line}");
}
