//! Which operation a method and path reach.

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

/// The route a request reaches: the one place a method and path are matched. `path` is the
/// URL's path as sent (percent-encoded); a parameter is one segment of it, passed on as
/// written. `HEAD` reaches whatever `GET` reaches (the Worker answers it without the body),
/// and every `Allow` that names `GET` names `HEAD` too.
///
/// # Errors
/// 404 `not_found` for a path the API does not serve; 405 `method_not_allowed`, with
/// `Allow`, for a method this path does not serve.
pub fn route<'a>(method: &str, path: &'a str) -> Result<Route<'a>, ApiError> {
    // Not workers-rs' Router: it serves unknown methods as GET, and its 404/405 lack our envelope.
    let method = match method {
        "HEAD" => "GET",
        other => other,
    };
    let segments: Vec<&'a str> = path.split('/').collect();
    let refused = |allow| Err(ApiError::method_not_allowed(allow));
    let route = match (segments.as_slice(), method) {
        (["", "health"], "GET") => Route::Health,
        (["", "health"], _) => return refused("GET, HEAD"),
        (["", "sessions"], "POST") => Route::Create,
        (["", "sessions"], _) => return refused("POST"),
        (["", "session"], "GET") => Route::Get,
        (["", "session"], "DELETE") => Route::Delete,
        (["", "session"], _) => return refused("GET, HEAD, DELETE"),
        (["", "session", "data"], "PUT") => Route::SaveData,
        (["", "session", "data"], "PATCH") => Route::PatchData,
        (["", "session", "data"], _) => return refused("PUT, PATCH"),
        (["", "session", "renew"], "POST") => Route::Renew,
        (["", "session", "renew"], _) => return refused("POST"),
        (["", "session", "rotate"], "POST") => Route::Rotate,
        (["", "session", "rotate"], _) => return refused("POST"),
        // `/sessions/` is no path of ours; `/users//sessions` reaches the handler (400).
        (["", "sessions", id], "GET") if !id.is_empty() => Route::Find(id),
        (["", "sessions", id], "DELETE") if !id.is_empty() => Route::Revoke(id),
        (["", "sessions", id], _) if !id.is_empty() => return refused("GET, HEAD, DELETE"),
        (["", "users", user, "sessions"], "GET") => Route::ListUser(user),
        (["", "users", user, "sessions"], "DELETE") => Route::RevokeUser(user),
        (["", "users", _, "sessions"], _) => return refused("GET, HEAD, DELETE"),
        _ => return Err(ApiError::not_found("no such route")),
    };
    Ok(route)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_is_reached_by_its_method() {
        let cases = [
            ("GET", "/health", Route::Health),
            ("HEAD", "/health", Route::Health),
            ("POST", "/sessions", Route::Create),
            ("GET", "/session", Route::Get),
            ("HEAD", "/session", Route::Get),
            ("DELETE", "/session", Route::Delete),
            ("PUT", "/session/data", Route::SaveData),
            ("PATCH", "/session/data", Route::PatchData),
            ("POST", "/session/renew", Route::Renew),
            ("POST", "/session/rotate", Route::Rotate),
            ("GET", "/sessions/abc", Route::Find("abc")),
            ("HEAD", "/sessions/abc", Route::Find("abc")),
            ("DELETE", "/sessions/abc", Route::Revoke("abc")),
            ("GET", "/users/abc/sessions", Route::ListUser("abc")),
            ("HEAD", "/users/abc/sessions", Route::ListUser("abc")),
            ("DELETE", "/users/abc/sessions", Route::RevokeUser("abc")),
        ];
        for (method, path, expected) in cases {
            assert_eq!(route(method, path), Ok(expected), "{method} {path}");
        }
    }

    #[test]
    fn other_methods_get_405_with_allow() {
        let cases = [
            ("POST", "/health", "GET, HEAD"),
            ("OPTIONS", "/health", "GET, HEAD"),
            ("GET", "/sessions", "POST"),
            ("HEAD", "/sessions", "POST"),
            ("PUT", "/sessions/abc", "GET, HEAD, DELETE"),
            ("TRACE", "/sessions/abc", "GET, HEAD, DELETE"),
            ("POST", "/session", "GET, HEAD, DELETE"),
            ("PUT", "/session", "GET, HEAD, DELETE"),
            ("GET", "/session/data", "PUT, PATCH"),
            ("POST", "/session/data", "PUT, PATCH"),
            ("HEAD", "/session/renew", "POST"),
            ("PROPFIND", "/session/renew", "POST"),
            ("GET", "/session/rotate", "POST"),
            ("POST", "/users/abc/sessions", "GET, HEAD, DELETE"),
            // Methods are case-sensitive (RFC 9110): `get` is not `GET`.
            ("get", "/session", "GET, HEAD, DELETE"),
        ];
        for (method, path, allow) in cases {
            let error = route(method, path).unwrap_err();
            assert_eq!(
                (error.status, error.allow),
                (405, Some(allow)),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn paths_the_api_does_not_serve_get_404_whatever_the_method() {
        let paths = [
            "",
            "/",
            "//health",
            "/Health",
            "/health/",
            "/nope",
            "/sessions/",
            "/sessions/abc/",
            "/sessions/a/b",
            "/session/",
            "/session/x",
            "/session/data/",
            "/users/sessions",
            "/users/a/b/sessions",
            "/users/abc/sessions/",
        ];
        for path in paths {
            for method in ["GET", "POST", "DELETE", "PROPFIND"] {
                let error = route(method, path).unwrap_err();
                assert_eq!(
                    (error.status, error.code, error.allow),
                    (404, "not_found", None),
                    "{method} {path}"
                );
            }
        }
    }

    #[test]
    fn parameters_are_passed_on_as_written() {
        let cases = [
            ("/sessions/data", Route::Find("data")),
            ("/sessions/a%2Fb", Route::Find("a%2Fb")),
            ("/users/a%2Fb/sessions", Route::ListUser("a%2Fb")),
            ("/users/%20/sessions", Route::ListUser("%20")),
            // The handler refuses it (400), as the core refuses an empty user id.
            ("/users//sessions", Route::ListUser("")),
        ];
        for (path, expected) in cases {
            assert_eq!(route("GET", path), Ok(expected), "{path}");
        }
    }

    #[test]
    fn only_health_is_public() {
        assert!(is_public("/health"));
        for path in ["/sessions", "/session", "/", "/nope", "/health/"] {
            assert!(!is_public(path), "{path}");
        }
    }
}
