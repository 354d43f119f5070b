//! Which handler a method and path reach.

use super::error::ApiError;

/// A request the API serves. Routes under `/session` act on the session the request's
/// `Session-Token` header names; the others take public ids and user ids from the path,
/// passed on as written (a user id still percent-encoded): the handler decodes them and the
/// core decides whether they can name anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    Health,
    Create,
    /// `GET /session`.
    Get,
    /// `PUT /session/data`.
    SaveData,
    /// `PATCH /session/data`: an RFC 7396 merge patch.
    PatchData,
    /// `POST /session/renew`.
    Renew,
    /// `POST /session/rotate`.
    Rotate,
    /// `DELETE /session`.
    Delete,
    /// `GET /sessions/{id}`.
    Find(&'a str),
    /// `DELETE /sessions/{id}`.
    Revoke(&'a str),
    /// `GET /users/{userId}/sessions`.
    ListUser(&'a str),
    /// `DELETE /users/{userId}/sessions`.
    RevokeUser(&'a str),
}

impl Route<'_> {
    /// Whether the route only reads (with read replicas, it may start at a replica).
    pub fn is_read(&self) -> bool {
        matches!(self, Route::Get | Route::Find(_) | Route::ListUser(_))
    }
}

/// Whether `path` is served without the bearer token: only `/health`. Everything else,
/// unknown paths included, asks for the token first, so routes are not revealed to strangers.
pub fn is_public(path: &str) -> bool {
    path == "/health"
}

/// A path the API serves, as the `worker` crate's `Router` matches it. The Router picks the
/// endpoint by path alone; the endpoint picks the route by method, so that a known path
/// with another method is answered as every refusal is (the error envelope, with `Allow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Health,
    Sessions,
    Session,
    SessionData,
    SessionRenew,
    SessionRotate,
    /// `/sessions/:id`.
    SessionById,
    /// `/users/:user/sessions`.
    UserSessions,
}

/// The name of the one parameter a pattern has.
pub const PARAM: &str = "p";

impl Endpoint {
    pub const ALL: [Endpoint; 8] = [
        Endpoint::Health,
        Endpoint::Sessions,
        Endpoint::Session,
        Endpoint::SessionData,
        Endpoint::SessionRenew,
        Endpoint::SessionRotate,
        Endpoint::SessionById,
        Endpoint::UserSessions,
    ];

    /// The Router's pattern (matchit syntax; the parameter is [`PARAM`]).
    pub fn pattern(self) -> &'static str {
        match self {
            Endpoint::Health => "/health",
            Endpoint::Sessions => "/sessions",
            Endpoint::Session => "/session",
            Endpoint::SessionData => "/session/data",
            Endpoint::SessionRenew => "/session/renew",
            Endpoint::SessionRotate => "/session/rotate",
            Endpoint::SessionById => "/sessions/:p",
            Endpoint::UserSessions => "/users/:p/sessions",
        }
    }

    /// The route `method` reaches here; `param` is the path's parameter as written (a user
    /// id still percent-encoded: the handler decodes it, and the core decides whether it
    /// can name anything). `HEAD` reaches whatever `GET` reaches (the Worker answers it
    /// without the body), and every `Allow` that names `GET` names `HEAD` too.
    ///
    /// # Errors
    /// 405 `method_not_allowed`, with `Allow`, for a method this path does not serve.
    pub fn route<'a>(self, method: &str, param: &'a str) -> Result<Route<'a>, ApiError> {
        let method = match method {
            "HEAD" => "GET",
            other => other,
        };
        let (found, allow) = match (self, method) {
            (Endpoint::Health, "GET") => (Some(Route::Health), ""),
            (Endpoint::Health, _) => (None, "GET, HEAD"),
            (Endpoint::Sessions, "POST") => (Some(Route::Create), ""),
            (Endpoint::Sessions, _) => (None, "POST"),
            (Endpoint::Session, "GET") => (Some(Route::Get), ""),
            (Endpoint::Session, "DELETE") => (Some(Route::Delete), ""),
            (Endpoint::Session, _) => (None, "GET, HEAD, DELETE"),
            (Endpoint::SessionData, "PUT") => (Some(Route::SaveData), ""),
            (Endpoint::SessionData, "PATCH") => (Some(Route::PatchData), ""),
            (Endpoint::SessionData, _) => (None, "PUT, PATCH"),
            (Endpoint::SessionRenew, "POST") => (Some(Route::Renew), ""),
            (Endpoint::SessionRenew, _) => (None, "POST"),
            (Endpoint::SessionRotate, "POST") => (Some(Route::Rotate), ""),
            (Endpoint::SessionRotate, _) => (None, "POST"),
            (Endpoint::SessionById, "GET") => (Some(Route::Find(param)), ""),
            (Endpoint::SessionById, "DELETE") => (Some(Route::Revoke(param)), ""),
            (Endpoint::SessionById, _) => (None, "GET, HEAD, DELETE"),
            (Endpoint::UserSessions, "GET") => (Some(Route::ListUser(param)), ""),
            (Endpoint::UserSessions, "DELETE") => (Some(Route::RevokeUser(param)), ""),
            (Endpoint::UserSessions, _) => (None, "GET, HEAD, DELETE"),
        };
        found.ok_or_else(|| ApiError::method_not_allowed(allow))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_is_reached_by_its_method() {
        let cases = [
            ("GET", Endpoint::Health, Route::Health),
            ("HEAD", Endpoint::Health, Route::Health),
            ("POST", Endpoint::Sessions, Route::Create),
            ("GET", Endpoint::Session, Route::Get),
            ("HEAD", Endpoint::Session, Route::Get),
            ("DELETE", Endpoint::Session, Route::Delete),
            ("PUT", Endpoint::SessionData, Route::SaveData),
            ("PATCH", Endpoint::SessionData, Route::PatchData),
            ("POST", Endpoint::SessionRenew, Route::Renew),
            ("POST", Endpoint::SessionRotate, Route::Rotate),
            ("GET", Endpoint::SessionById, Route::Find("abc")),
            ("HEAD", Endpoint::SessionById, Route::Find("abc")),
            ("DELETE", Endpoint::SessionById, Route::Revoke("abc")),
            ("GET", Endpoint::UserSessions, Route::ListUser("abc")),
            ("HEAD", Endpoint::UserSessions, Route::ListUser("abc")),
            ("DELETE", Endpoint::UserSessions, Route::RevokeUser("abc")),
        ];
        for (method, endpoint, expected) in cases {
            assert_eq!(
                endpoint.route(method, "abc"),
                Ok(expected),
                "{method} {endpoint:?}"
            );
        }
    }

    #[test]
    fn other_methods_get_405_with_allow() {
        let cases = [
            ("POST", Endpoint::Health, "GET, HEAD"),
            ("OPTIONS", Endpoint::Health, "GET, HEAD"),
            ("GET", Endpoint::Sessions, "POST"),
            ("HEAD", Endpoint::Sessions, "POST"),
            ("PUT", Endpoint::SessionById, "GET, HEAD, DELETE"),
            ("TRACE", Endpoint::SessionById, "GET, HEAD, DELETE"),
            ("POST", Endpoint::Session, "GET, HEAD, DELETE"),
            ("PUT", Endpoint::Session, "GET, HEAD, DELETE"),
            ("GET", Endpoint::SessionData, "PUT, PATCH"),
            ("POST", Endpoint::SessionData, "PUT, PATCH"),
            ("HEAD", Endpoint::SessionRenew, "POST"),
            ("PROPFIND", Endpoint::SessionRenew, "POST"),
            ("GET", Endpoint::SessionRotate, "POST"),
            ("POST", Endpoint::UserSessions, "GET, HEAD, DELETE"),
            // Methods are case-sensitive (RFC 9110): `get` is not `GET`.
            ("get", Endpoint::Session, "GET, HEAD, DELETE"),
        ];
        for (method, endpoint, allow) in cases {
            let error = endpoint.route(method, "abc").unwrap_err();
            assert_eq!(
                (error.status, error.allow),
                (405, Some(allow)),
                "{method} {endpoint:?}"
            );
        }
    }

    #[test]
    fn patterns_are_distinct_and_only_health_is_public() {
        let patterns: std::collections::HashSet<_> =
            Endpoint::ALL.iter().map(|e| e.pattern()).collect();
        assert_eq!(patterns.len(), Endpoint::ALL.len());
        assert!(is_public(Endpoint::Health.pattern()));
        for path in ["/sessions", "/session", "/", "/nope", "/health/"] {
            assert!(!is_public(path), "{path}");
        }
    }
}
