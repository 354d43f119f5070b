//! What request bodies may be and mean.

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::Value;

use super::error::ApiError;
use crate::core::error::Error;
use crate::core::manager::{Arg, DataArg};
use crate::core::session::MAX_EXACT;

/// Room for `userId` and the wrapping object around `data` in a create body.
pub const CREATE_BODY_OVERHEAD: usize = 4096;
/// The whole limit of a rotate body, which holds only a `userId` (at most 256 characters).
pub const ROTATE_BODY_LIMIT: usize = 4096;

/// Whether a `Content-Type` names JSON (`application/json`, any parameters).
pub fn is_media(content_type: Option<&str>, media: &str) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|given| given.trim().eq_ignore_ascii_case(media))
}

/// The media type of a JSON body.
pub const JSON: &str = "application/json";
/// The media type of an RFC 7396 merge patch, which `PATCH /session/data` takes.
pub const MERGE_PATCH: &str = "application/merge-patch+json";

/// The version an `If-Match` header expects: none for an absent header or `*`, else the one
/// entity tag `"N"` this API sends as `ETag`.
///
/// # Errors
/// 400 `invalid_argument` for anything else (a list, a weak tag, a tag this API never sent):
/// it names no version a save could check.
pub fn if_match(value: Option<&str>) -> Result<Option<f64>, ApiError> {
    let Some(value) = value.map(str::trim) else {
        return Ok(None);
    };
    if value == "*" {
        return Ok(None);
    }
    // Written exactly as `etag` writes a version (no leading zero), and one this API can give.
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .filter(|v| !v.starts_with('0') && v.len() <= 16 && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&v| (1..=MAX_EXACT.unsigned_abs()).contains(&v))
        .map(|v| Some(v as f64))
        .ok_or_else(|| {
            ApiError::from(Error::InvalidArgument(
                "If-Match must be * or one entity tag as ETag gives it, such as \"3\"".to_owned(),
            ))
        })
}

/// The `ETag` of a session at `version`: a strong tag, `"N"`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Whether a `Content-Length` already says the body is over `limit`.
pub fn declared_too_large(content_length: Option<&str>, limit: usize) -> bool {
    content_length
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|len| len > limit as u64)
}

/// The name of the request header that carries a session's token. Never a URL: Workers
/// Logs and proxies record URLs, and a token is a credential.
pub const SESSION_TOKEN: &str = "Session-Token";

/// The token a session route acts on, from its `Session-Token` header. A present but
/// malformed token is passed on: the core answers it as not found, like an unknown one.
///
/// # Errors
/// 400 `invalid_argument` when the header is missing or empty (a client that forgot to
/// set it, told so rather than told that no session matches).
pub fn session_token(header: Option<String>) -> Result<String, ApiError> {
    header
        .filter(|token| !token.trim().is_empty())
        .ok_or_else(|| {
            ApiError::from(Error::InvalidArgument(format!(
                "this route needs the session's token in the `{SESSION_TOKEN}` header"
            )))
        })
}

/// The header that carries a D1 bookmark both ways (read replicas).
pub const D1_BOOKMARK: &str = "D1-Bookmark";
/// Longer than any bookmark D1 gives (about 60 characters).
pub const MAX_BOOKMARK_CHARS: usize = 1024;

/// Where a request's reads may start, from its `D1-Bookmark` header: the bookmark a
/// previous response gave (reads see at least that state), `first-primary` (the latest state,
/// for a check that must not see a replica's past), or none (any replica). Checked on
/// every route, replicas or not, so a malformed value is refused the same everywhere.
///
/// # Errors
/// 400 `invalid_argument` for a value that cannot be a bookmark: empty, over 1,024
/// characters, or with a character other than ASCII letters, digits and `-`.
pub fn bookmark(header: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(value) = header else {
        return Ok(None);
    };
    let valid = (1..=MAX_BOOKMARK_CHARS).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !valid {
        return Err(ApiError::from(Error::InvalidArgument(format!(
            "a bookmark must be one an earlier answer gave (letters, digits and -, at most \
             {MAX_BOOKMARK_CHARS} characters), or first-primary"
        ))));
    }
    Ok(Some(value))
}

/// A path segment with its percent-escapes decoded (the `{userId}` of `/users/{userId}/…`).
/// Only `%XX` is decoded: a `+` is a plus sign in a path.
///
/// # Errors
/// 400 `invalid_argument` for a `%` not followed by two hex digits, or bytes that are not
/// UTF-8 (the message names neither: the segment may be anything).
pub fn decode_segment(segment: &str) -> Result<String, ApiError> {
    let bad = || {
        ApiError::from(Error::InvalidArgument(
            "the userId in the path must be percent-encoded UTF-8".to_owned(),
        ))
    };
    let mut bytes = Vec::with_capacity(segment.len());
    let mut rest = segment.bytes();
    while let Some(byte) = rest.next() {
        if byte != b'%' {
            bytes.push(byte);
            continue;
        }
        let mut hex = || rest.next().and_then(|h| char::from(h).to_digit(16));
        match (hex(), hex()) {
            // Two hex digits are at most 255.
            (Some(high), Some(low)) => {
                bytes.push(u8::try_from(high * 16 + low).map_err(|_| bad())?)
            }
            _ => return Err(bad()),
        }
    }
    String::from_utf8(bytes).map_err(|_| bad())
}

/// The body's top-level fields, each as its raw JSON text, or `None` for an empty body.
/// Only the outer object is parsed here, and a body of another shape (an array, a string)
/// is refused with `shape` rather than read positionally.
fn fields(body: &str, shape: Error) -> Result<Option<BTreeMap<String, &RawValue>>, ApiError> {
    if body.trim().is_empty() {
        return Ok(None);
    }
    let fields = serde_json::from_str(body).map_err(|e| {
        if e.is_data() {
            ApiError::from(shape)
        } else {
            ApiError::invalid_json(format!("not valid JSON: {e}"))
        }
    })?;
    Ok(Some(fields))
}

/// A `userId` field as the core's argument: absent and `null` are both `Given(None)`.
fn user_id_arg(raw: Option<&RawValue>) -> Arg<Option<String>> {
    match raw.map(|raw| serde_json::from_str(raw.get())) {
        None | Some(Ok(Value::Null)) => Arg::Given(None),
        Some(Ok(Value::String(user))) => Arg::Given(Some(user)),
        Some(Ok(other)) => Arg::WrongType {
            shown: json_type(&other).to_owned(),
        },
        // The body already parsed as JSON, so what cannot be read as a value here is a
        // string escape no UTF-8 text can hold (a lone surrogate, `"\ud800"`).
        Some(Err(_)) => Arg::Malformed {
            shown: "a string with a lone surrogate".to_owned(),
        },
    }
}

/// A create body, `{ "userId"?: string | null, "data"?: object }` (or nothing), as the
/// core's arguments. The data's JSON text is passed on as written, for the core to check.
///
/// # Errors
/// 400 `invalid_json` for text that is not JSON, `invalid_data` for JSON that is not an object.
pub fn create_args(body: &str) -> Result<(Arg<Option<String>>, DataArg), ApiError> {
    let shape =
        Error::InvalidData("the body must be a JSON object: { \"userId\"?, \"data\"? }".to_owned());
    let Some(mut fields) = fields(body, shape)? else {
        return Ok((Arg::Given(None), DataArg::Absent));
    };
    let user_id = user_id_arg(fields.remove("userId"));
    let data = fields
        .remove("data")
        .map_or(DataArg::Absent, |raw| DataArg::Json(raw.get().to_owned()));
    Ok((user_id, data))
}

/// A rotate body, `{ "userId"?: string | null }` (or nothing), as the core's argument:
/// absent or `null` keeps the session's user (a rotation never signs a user out; deleting
/// the session does).
///
/// # Errors
/// 400 `invalid_json` for text that is not JSON, `invalid_argument` for JSON that is not
/// an object (there is no session data in this body to be invalid).
pub fn rotate_args(body: &str) -> Result<Arg<Option<String>>, ApiError> {
    let shape =
        Error::InvalidArgument("the body must be a JSON object: { \"userId\"? }".to_owned());
    let user_id = fields(body, shape)?.and_then(|mut fields| fields.remove("userId"));
    Ok(user_id_arg(user_id))
}

/// How a value of the wrong type is named in messages and logs: by its type, never its
/// content.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookmarks_are_checked_on_the_way_in() {
        assert_eq!(bookmark(None), Ok(None));
        for good in [
            "00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683",
            "first-primary",
        ] {
            assert_eq!(bookmark(Some(good.to_owned())), Ok(Some(good.to_owned())));
        }
        for bad in [
            String::new(),
            "a b".to_owned(),
            "x".repeat(1025),
            "é".to_owned(),
        ] {
            let error = bookmark(Some(bad.clone())).unwrap_err();
            assert_eq!(
                (error.status, error.code),
                (400, "invalid_argument"),
                "{bad}"
            );
        }
    }

    #[test]
    fn json_content_types() {
        assert!(is_media(Some("application/json"), JSON));
        assert!(is_media(Some("Application/JSON; charset=utf-8"), JSON));
        assert!(is_media(Some("application/merge-patch+json"), MERGE_PATCH));
        for ct in [
            None,
            Some(""),
            Some("text/plain"),
            Some("application/jsonx"),
            Some("application/merge-patch+json"),
        ] {
            assert!(!is_media(ct, JSON), "{ct:?}");
        }
        assert!(!is_media(Some("application/json"), MERGE_PATCH));
    }

    #[test]
    fn if_match_names_one_version_or_none() {
        assert_eq!(if_match(None).unwrap(), None);
        assert_eq!(if_match(Some("*")).unwrap(), None);
        assert_eq!(if_match(Some("\"3\"")).unwrap(), Some(3.0));
        assert_eq!(if_match(Some(" \"12\" ")).unwrap(), Some(12.0));
        for bad in [
            "3",
            "W/\"3\"",
            "\"3\", \"4\"",
            "\"\"",
            "\"x\"",
            "\"-1\"",
            "\"0\"",
            "\"01\"",
            "\"9007199254740992\"",
            "\"99999999999999999\"",
        ] {
            assert_eq!(if_match(Some(bad)).unwrap_err().status, 400, "{bad}");
        }
        assert_eq!(etag(7), "\"7\"");
    }

    #[test]
    fn declared_length_over_the_limit() {
        assert!(declared_too_large(Some("101"), 100));
        assert!(!declared_too_large(Some("100"), 100));
        assert!(!declared_too_large(None, 100));
        assert!(!declared_too_large(Some("junk"), 100));
    }

    #[test]
    fn create_bodies() {
        assert_eq!(
            create_args("").unwrap(),
            (Arg::Given(None), DataArg::Absent)
        );
        assert_eq!(
            create_args(r#"{"userId":"u","data":{"a":[1]}}"#).unwrap(),
            (
                Arg::Given(Some("u".into())),
                DataArg::Json(r#"{"a":[1]}"#.into())
            )
        );
        assert_eq!(
            create_args(r#"{"userId":null}"#).unwrap(),
            (Arg::Given(None), DataArg::Absent)
        );
        assert_eq!(
            create_args(r#"{"userId":{"secret":1}}"#).unwrap().0,
            Arg::WrongType {
                shown: "an object".into()
            }
        );
        assert_eq!(
            create_args(r#"{"data":[1]}"#).unwrap().1,
            DataArg::Json("[1]".into())
        );
    }

    #[test]
    fn a_user_id_with_a_lone_surrogate_is_malformed() {
        assert!(matches!(
            create_args(r#"{"userId":"a\ud800b"}"#).unwrap().0,
            Arg::Malformed { .. }
        ));
    }

    #[test]
    fn rotate_bodies() {
        for body in ["", " ", "{}", r#"{"userId":null}"#, r#"{"other":1}"#] {
            assert_eq!(rotate_args(body).unwrap(), Arg::Given(None), "{body}");
        }
        assert_eq!(
            rotate_args(r#"{"userId":"u"}"#).unwrap(),
            Arg::Given(Some("u".into()))
        );
        assert_eq!(
            rotate_args(r#"{"userId":5}"#).unwrap(),
            Arg::WrongType {
                shown: "a number".into()
            }
        );
        assert!(matches!(
            rotate_args(r#"{"userId":"\udc00"}"#).unwrap(),
            Arg::Malformed { .. }
        ));
        assert_eq!(rotate_args("{").unwrap_err().code, "invalid_json");
        assert_eq!(rotate_args("[1]").unwrap_err().code, "invalid_argument");
        assert_eq!(rotate_args("null").unwrap_err().code, "invalid_argument");
    }

    #[test]
    fn a_session_token_header_must_be_there_and_not_blank() {
        assert_eq!(session_token(Some("a.b".into())).unwrap(), "a.b");
        // Malformed tokens pass: the core answers them as not found.
        assert_eq!(session_token(Some("junk".into())).unwrap(), "junk");
        for header in [None, Some(String::new()), Some("  ".into())] {
            let error = session_token(header.clone()).unwrap_err();
            assert_eq!(
                (error.status, error.code),
                (400, "invalid_argument"),
                "{header:?}"
            );
            assert!(error.message.contains("Session-Token"));
        }
    }

    #[test]
    fn path_segments_are_percent_decoded_as_utf8() {
        let cases = [
            ("user-42", "user-42"),
            ("u%201", "u 1"),
            ("a+b", "a+b"),
            ("a%2Fb%2fc", "a/b/c"),
            ("%C3%A9t%C3%A9", "été"),
            ("%F0%9F%98%80", "😀"),
            ("%25", "%"),
            ("", ""),
        ];
        for (segment, decoded) in cases {
            assert_eq!(decode_segment(segment).unwrap(), decoded, "{segment}");
        }
        for bad in [
            "%",
            "%2",
            "%zz",
            "a%g1",
            "%FF",
            "%C3",
            "%ED%A0%80",
            "%C0%AF",
        ] {
            let error = decode_segment(bad).unwrap_err();
            assert_eq!(
                (error.status, error.code),
                (400, "invalid_argument"),
                "{bad}"
            );
            assert!(!error.message.contains(bad), "{bad}");
        }
    }

    #[test]
    fn bad_create_bodies() {
        assert_eq!(create_args("{").unwrap_err().code, "invalid_json");
        assert_eq!(create_args("[1]").unwrap_err().code, "invalid_data");
        assert_eq!(create_args("\"x\"").unwrap_err().code, "invalid_data");
    }
}
