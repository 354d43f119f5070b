//! Which handler a method and path reach.

use super::error::ApiError;

/// A request the API serves. Session ids are passed on as written: the core decides
/// whether they can name a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    Health,
    Create,
    Get(&'a str),
    Delete(&'a str),
    SaveData(&'a str),
    Renew(&'a str),
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
        (["sessions", id], "GET") => return Ok(Route::Get(id)),
        (["sessions", id], "DELETE") => return Ok(Route::Delete(id)),
        (["sessions", _], _) => ("GET, HEAD, DELETE", None),
        (["sessions", id, "data"], "PUT") => return Ok(Route::SaveData(id)),
        (["sessions", _, "data"], _) => ("PUT", None),
        (["sessions", id, "renew"], "POST") => return Ok(Route::Renew(id)),
        (["sessions", _, "renew"], _) => ("POST", None),
        _ => ("", Some(ApiError::not_found("no such route"))),
    };
    Err(found.unwrap_or_else(|| ApiError::method_not_allowed(allow)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_is_reached_by_its_method() {
        assert_eq!(route("GET", "/health"), Ok(Route::Health));
        assert_eq!(route("HEAD", "/health"), Ok(Route::Health));
        assert_eq!(route("HEAD", "/sessions/abc"), Ok(Route::Get("abc")));
        assert_eq!(route("POST", "/sessions"), Ok(Route::Create));
        assert_eq!(route("GET", "/sessions/abc"), Ok(Route::Get("abc")));
        assert_eq!(route("DELETE", "/sessions/abc"), Ok(Route::Delete("abc")));
        assert_eq!(
            route("PUT", "/sessions/abc/data"),
            Ok(Route::SaveData("abc"))
        );
        assert_eq!(
            route("POST", "/sessions/abc/renew"),
            Ok(Route::Renew("abc"))
        );
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
            ("GET", "/sessions/abc/data", "PUT"),
            ("PATCH", "/sessions/abc/data", "PUT"),
            ("HEAD", "/sessions/abc/renew", "POST"),
            ("PROPFIND", "/sessions/abc/renew", "POST"),
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
            "/sessions/a/other",
        ] {
            for method in ["GET", "HEAD", "OPTIONS", "PROPFIND"] {
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
        for path in ["/sessions", "/", "/nope", "/health/"] {
            assert!(!is_public(path), "{path}");
        }
    }
}
