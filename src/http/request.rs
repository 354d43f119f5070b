//! What request bodies may be and mean.

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::Value;

use super::error::ApiError;
use crate::error::Error;
use crate::manager::{Arg, DataArg};

/// Room for `userId` and the wrapping object around `data` in a create body.
pub const CREATE_BODY_OVERHEAD: usize = 4096;

/// Whether a `Content-Type` names JSON (`application/json`, any parameters).
pub fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// Whether a `Content-Length` already says the body is over `limit`.
pub fn declared_too_large(content_length: Option<&str>, limit: usize) -> bool {
    content_length
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|len| len > limit as u64)
}

/// A create body, `{ "userId"?: string | null, "data"?: object }` (or nothing), as the
/// core's arguments. The data's JSON text is passed on as written, for the core to check.
///
/// # Errors
/// 400 `invalid_json` for text that is not JSON, `invalid_data` for JSON that is not an object.
pub fn create_args(body: &str) -> Result<(Arg<Option<String>>, DataArg), ApiError> {
    if body.trim().is_empty() {
        return Ok((Arg::Given(None), DataArg::Absent));
    }
    // A map of raw values: only the outer object is parsed here, and a body of another
    // shape (an array, a string) is refused rather than read positionally.
    let mut fields: BTreeMap<String, &RawValue> = serde_json::from_str(body).map_err(|e| {
        if e.is_data() {
            ApiError::from(Error::InvalidData(
                "the body must be a JSON object: { \"userId\"?, \"data\"? }".to_owned(),
            ))
        } else {
            ApiError::invalid_json(format!("not valid JSON: {e}"))
        }
    })?;
    let user_id = match fields
        .remove("userId")
        .map(|raw| serde_json::from_str(raw.get()))
    {
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
    };
    let data = fields
        .remove("data")
        .map_or(DataArg::Absent, |raw| DataArg::Json(raw.get().to_owned()));
    Ok((user_id, data))
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
    fn json_content_types() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        for ct in [
            None,
            Some(""),
            Some("text/plain"),
            Some("application/jsonx"),
        ] {
            assert!(!is_json(ct), "{ct:?}");
        }
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
    fn bad_create_bodies() {
        assert_eq!(create_args("{").unwrap_err().code, "invalid_json");
        assert_eq!(create_args("[1]").unwrap_err().code, "invalid_data");
        assert_eq!(create_args("\"x\"").unwrap_err().code, "invalid_data");
    }
}
