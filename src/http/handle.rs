//! Serving one HTTP request: the caller let in, the route found, the manager opened, then
//! the route's operation run.

use wasm_bindgen::JsValue;
use worker::{Env, Request};

use super::auth::authorize;
use super::body::read_body;
use super::env::{manager_from, secret, Start};
use super::error::ApiError;
use super::render;
use super::reply::Reply;
use super::request::{
    bookmark, create_args, decode_segment, if_match, rotate_args, session_token,
    CREATE_BODY_OVERHEAD, D1_BOOKMARK, JSON, MERGE_PATCH, ROTATE_BODY_LIMIT, SESSION_TOKEN,
};
use super::route::{is_public, route, Route};
use super::run::run;
use crate::bridge::d1::{self, D1Sessions};
use crate::core::error::Error;
use crate::core::json::{self, Times};
use crate::core::manager::{Arg, DataArg, Manager};

/// What serving a request gave: its result, and with read replicas the newest bookmark of
/// the D1 session it ran in, which the response carries whatever the result.
pub(crate) struct Served {
    pub(crate) result: Result<Reply, ApiError>,
    pub(crate) bookmark: Option<String>,
}

/// Serves a request that came with `method` (as sent). Never fails: a failure is its
/// result's `ApiError`.
pub(crate) async fn serve(request: &Request, env: &Env, method: &str) -> Served {
    let path = request.path();
    let (route, manager, d1_session) = match open(request, env, method, &path) {
        Ok(Some(opened)) => opened,
        Ok(None) => return Served::before_d1(Ok(Reply::health())),
        Err(error) => return Served::before_d1(Err(error)),
    };
    let result = handle(route, &manager, request).await;
    // Read after the operation, so it is the newest.
    let bookmark = d1_session.and_then(|d1_session| d1::bookmark(&d1_session));
    Served { result, bookmark }
}

impl Served {
    /// A result reached before any D1 session was opened, so with no bookmark.
    fn before_d1(result: Result<Reply, ApiError>) -> Self {
        Served {
            result,
            bookmark: None,
        }
    }
}

/// A request's route, the manager for its operation and the D1 session that runs in.
type Opened<'a> = (Route<'a>, Manager<D1Sessions>, Option<JsValue>);

/// What a request's operation needs, checked in the order a refusal takes precedence: the
/// bearer token (every path but `/health`, unknown ones included), the route (404, 405),
/// the `D1-Bookmark` header, then the configuration. `None` for `/health`, which needs no
/// manager.
fn open<'a>(
    request: &Request,
    env: &Env,
    method: &str,
    path: &'a str,
) -> Result<Option<Opened<'a>>, ApiError> {
    if !is_public(path) {
        let bearer = header(request, "authorization");
        authorize(secret(env, "API_TOKEN").as_deref(), bearer.as_deref())?;
    }
    let route = route(method, path)?;
    if route == Route::Health {
        return Ok(None);
    }
    // Checked on every route; only reads start where it says.
    let bookmark = bookmark(header(request, D1_BOOKMARK))?;
    let start = match route.is_read() {
        true => Start::Read(bookmark.as_deref()),
        false => Start::Primary,
    };
    let (manager, d1_session) = manager_from(env, start)?;
    Ok(Some((route, manager, d1_session)))
}

/// Runs `route`'s operation on `manager` and says how it went.
async fn handle(
    route: Route<'_>,
    manager: &Manager<D1Sessions>,
    request: &Request,
) -> Result<Reply, ApiError> {
    // Each session route asks for it first, before reading a body or asking D1. The value
    // is a credential: it is handed to the core and never logged nor echoed.
    let token = || session_token(header(request, SESSION_TOKEN)).map(Arg::Given);
    let limit = manager.config().max_data_bytes;
    let bound = manager.config().operation_timeout_ms;
    match route {
        // `open` stops before this for `/health`, which must work with no D1 configured.
        Route::Health => Ok(Reply::health()),
        Route::Create => {
            let limit = limit + CREATE_BODY_OVERHEAD;
            let body = read_body(request, limit, true, JSON).await?;
            let (user_id, data) = create_args(&body)?;
            let created = run(bound, manager.create(user_id, data)).await?;
            Ok(Reply::created(&created))
        }
        Route::Get => run(bound, manager.get(token()?))
            .await?
            .map(|session| Reply::session(&session))
            .ok_or_else(ApiError::token_not_found),
        Route::SaveData => {
            let token = token()?;
            let expected = Arg::Given(if_match(header(request, "if-match").as_deref())?);
            let body = read_body(request, limit, false, JSON).await?;
            run(bound, manager.save(token, DataArg::Json(body), expected))
                .await?
                .map(|session| Reply::session(&session))
                .ok_or_else(ApiError::token_not_found)
        }
        Route::PatchData => {
            let token = token()?;
            // A patch of independent keys needs no version check; one sent anyway is refused
            // rather than ignored, so a client relying on it never gets an unchecked write.
            if if_match(header(request, "if-match").as_deref())?.is_some() {
                return Err(ApiError::from(Error::InvalidArgument(
                    "PATCH takes no If-Match: use PUT with If-Match for a checked write".to_owned(),
                )));
            }
            let body = read_body(request, limit, false, MERGE_PATCH).await?;
            run(bound, manager.patch(token, DataArg::Json(body), true))
                .await?
                .map(|session| Reply::session(&session))
                .ok_or_else(ApiError::token_not_found)
        }
        Route::Renew => {
            let token = token()?;
            // Found means the token parsed, so its public id is what `shown` gives.
            let id = token.shown();
            run(bound, manager.renew(token))
                .await?
                .map(|until| Reply::json(200, render::renewal(&id, until)))
                .ok_or_else(ApiError::token_not_found)
        }
        Route::Rotate => {
            let token = token()?;
            let body = read_body(request, ROTATE_BODY_LIMIT, true, JSON).await?;
            let user_id = rotate_args(&body)?;
            run(bound, manager.rotate(token, user_id))
                .await?
                .map(|rotation| Reply::json(200, json::rotation(&rotation, Times::Iso)))
                .ok_or_else(ApiError::token_not_found)
        }
        Route::Delete => run(bound, manager.delete(token()?))
            .await?
            .then(Reply::no_content)
            .ok_or_else(ApiError::token_not_found),
        Route::Find(id) => run(bound, manager.find(Arg::Given(id.to_owned())))
            .await?
            .map(|listed| Reply::json(200, json::listed(&listed, Times::Iso)))
            .ok_or_else(ApiError::session_not_found),
        Route::Revoke(id) => run(bound, manager.revoke(Arg::Given(id.to_owned())))
            .await?
            .then(Reply::no_content)
            .ok_or_else(ApiError::session_not_found),
        Route::ListUser(user) => {
            let user = Arg::Given(Some(decode_segment(user)?));
            let sessions = run(bound, manager.list_user(user)).await?;
            Ok(Reply::json(200, render::sessions(&sessions)))
        }
        Route::RevokeUser(user) => {
            let user = Arg::Given(Some(decode_segment(user)?));
            let except = Arg::Given(query_param(request, "except"));
            let revoked = run(bound, manager.revoke_user(user, except)).await?;
            Ok(Reply::json(200, render::revoked(revoked)))
        }
    }
}

/// A request header's value, `None` when absent or unreadable.
fn header(request: &Request, name: &str) -> Option<String> {
    request.headers().get(name).ok().flatten()
}

/// The first value of query parameter `key`, with the query's own decoding (`+` is a space
/// there), as any client encodes it.
fn query_param(request: &Request, key: &str) -> Option<String> {
    let url = request.inner().url();
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let query = query.split('#').next().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.into_owned())
}
