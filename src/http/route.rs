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

/// Whether `path` is served without the bearer token: only `/health`. Everything else,
/// unknown paths included, asks for the token first, so routes are not revealed to strangers.
pub fn is_public(path: &str) -> bool {
    path == "/health"
}

/// `HEAD` reaches whatever `GET` reaches (the Worker answers it without the body), and
/// every `Allow` that names `GET` names `HEAD` too.
///
/// # Errors
/// 404 `not_found` for an unknown path, 405 `method_not_allowed` (with `Allow`) for a
/// known path and another method.
pub fn route<'a>(method: &str, path: &'a str) -> Result<Route<'a>, ApiError> {
    let method = match method {
        "HEAD" => "GET",
        other => other,
    };
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let (allow, found) = match (segments.as_slice(), method) {
        (["health"], "GET") => return Ok(Route::Health),
        (["health"], _) => ("GET, HEAD", None),
        (["sessions"], "POST") => return Ok(Route::Create),
        (["sessions"], _) => ("POST", None),
        (["session"], "GET") => return Ok(Route::Get),
        (["session"], "DELETE") => return Ok(Route::Delete),
        (["session"], _) => ("GET, HEAD, DELETE", None),
        (["session", "data"], "PUT") => return Ok(Route::SaveData),
        (["session", "data"], "PATCH") => return Ok(Route::PatchData),
        (["session", "data"], _) => ("PUT, PATCH", None),
        (["session", "renew"], "POST") => return Ok(Route::Renew),
        (["session", "renew"], _) => ("POST", None),
        (["session", "rotate"], "POST") => return Ok(Route::Rotate),
        (["session", "rotate"], _) => ("POST", None),
        (["sessions", id], "GET") => return Ok(Route::Find(id)),
        (["sessions", id], "DELETE") => return Ok(Route::Revoke(id)),
        (["sessions", _], _) => ("GET, HEAD, DELETE", None),
        (["users", user, "sessions"], "GET") => return Ok(Route::ListUser(user)),
        (["users", user, "sessions"], "DELETE") => return Ok(Route::RevokeUser(user)),
        (["users", _, "sessions"], _) => ("GET, HEAD, DELETE", None),
        _ => ("", Some(ApiError::not_found("no such route"))),
    };
    Err(found.unwrap_or_else(|| ApiError::method_not_allowed(allow)))
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
            ("GET", "/users/u%201/sessions", Route::ListUser("u%201")),
            ("HEAD", "/users/u/sessions", Route::ListUser("u")),
            ("DELETE", "/users/u/sessions", Route::RevokeUser("u")),
            // An empty user id reaches the handler, which refuses it as a bad argument.
            ("GET", "/users//sessions", Route::ListUser("")),
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
            ("POST", "/users/u/sessions", "GET, HEAD, DELETE"),
            ("PUT", "/users/%zz/sessions", "GET, HEAD, DELETE"),
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
    fn unknown_paths_are_404() {
        for path in [
            "/",
            "/nope",
            "/sessions/a/b/c",
            "/health/x",
            // The token routes of the old API, which took the credential in the URL.
            "/sessions/a/data",
            "/sessions/a/renew",
            "/session/other",
            "/session/data/x",
            "/users",
            "/users/u",
            "/users/u/other",
            "/users/u/sessions/x",
        ] {
            for method in ["GET", "HEAD", "PUT", "POST", "OPTIONS", "PROPFIND"] {
                assert_eq!(
                    route(method, path).unwrap_err().status,
                    404,
                    "{method} {path}"
                );
            }
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
