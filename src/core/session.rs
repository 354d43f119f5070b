//! What a session is: its owner, its data and its two timestamps (its id is [`crate::core::id`]).

use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use crate::core::error::Error;
use crate::core::id::SessionId;
use crate::core::token::Token;

/// The largest whole number a JS number holds exactly (2^53 - 1): the most a version, or a
/// time in milliseconds, may be, so each crosses to JS unchanged.
pub const MAX_EXACT: i64 = (1 << 53) - 1;

/// The most characters a user id may have.
pub const MAX_USER_ID_CHARS: usize = 256;

/// The deepest nesting of arrays and objects session data may have. SQLite's JSON functions
/// refuse deeper documents (its limit is 1,000), and later features query data with them.
pub const MAX_DATA_DEPTH: usize = 1_000;

/// The most characters of a reason text (an engine's message, a binding's name) that a
/// message, signal or log line may quote.
pub const MAX_SHOWN_CHARS: usize = 64;

/// How a reason text is quoted: whole when short, else its first [`MAX_SHOWN_CHARS`]
/// characters and an ellipsis, so no input can make a log line or message large. Never a
/// refused value: that is [`described`].
pub fn shown(text: &str) -> String {
    match text.char_indices().nth(MAX_SHOWN_CHARS) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", text.get(..end).unwrap_or_default()),
    }
}

/// How a refused string is told in messages, signals and log lines: by its type and length
/// alone, never quoted, since a value passed in the wrong place may be a credential. Past
/// [`MAX_USER_ID_CHARS`] only "more than" is said: a surface may pass only a prefix.
pub fn described(text: &str) -> String {
    match text.chars().take(MAX_USER_ID_CHARS + 1).count() {
        0 => "an empty string".to_owned(),
        n if n > MAX_USER_ID_CHARS => {
            format!("a string of more than {MAX_USER_ID_CHARS} characters")
        }
        n => format!("a string of {n} characters"),
    }
}

/// Checks a user id: 1 to [`MAX_USER_ID_CHARS`] characters (Unicode scalar values), and
/// not a session token.
///
/// # Errors
/// [`Error::InvalidArgument`] when it is empty or too long, or when [`Token::parse`] takes
/// it for a token.
pub fn validate_user_id(user_id: &str) -> Result<(), Error> {
    // The count is not quoted: a surface may pass only a prefix of an oversized id.
    let chars = user_id.chars().take(MAX_USER_ID_CHARS + 1).count();
    if chars == 0 || chars > MAX_USER_ID_CHARS {
        return Err(Error::InvalidArgument(format!(
            "userId must be 1 to {MAX_USER_ID_CHARS} characters"
        )));
    }
    // A token passed by mistake: user ids are stored and logged in clear, a secret never.
    if Token::parse(user_id).is_some() {
        return Err(Error::InvalidArgument(
            "userId must be a user's id, not a session token".to_owned(),
        ));
    }
    Ok(())
}

/// A session's data: the JSON text of one object, checked, with its top-level keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionData {
    json: String,
    keys: Vec<String>,
}

impl SessionData {
    /// The empty object, the data of a session created without any.
    pub fn empty() -> Self {
        SessionData {
            json: "{}".to_owned(),
            keys: Vec::new(),
        }
    }

    /// Checks that `json` is one JSON object of at most `max_bytes` UTF-8 bytes.
    ///
    /// # Errors
    /// [`Error::PayloadTooLarge`] over the limit (checked before parsing, so an oversized
    /// input costs no parse); [`Error::InvalidJson`] for text that is not JSON;
    /// [`Error::InvalidData`] for JSON that is not an object, that nests deeper than
    /// [`MAX_DATA_DEPTH`], or that holds a lone surrogate escape (`"\ud800"`), which no
    /// UTF-8 store can keep.
    pub fn from_json(json: String, max_bytes: usize) -> Result<Self, Error> {
        if json.len() > max_bytes {
            return Err(Error::PayloadTooLarge { limit: max_bytes });
        }
        check_shape(&json)?;
        let (keys, duplicated) = top_level_keys(&json)?;
        // Parsers disagree on which of two equal names wins (JavaScript keeps the last,
        // SQLite's json_patch replaces the first), so a patch of a duplicated key could
        // vanish for a JS reader: refused. (Only text input, an HTTP body, can hold one.)
        if duplicated {
            return Err(Error::InvalidData(
                "session data has a top-level key twice".to_owned(),
            ));
        }
        Ok(SessionData { json, keys })
    }

    /// Data read back from the store, which only ever holds what [`Self::from_json`] accepted.
    ///
    /// # Errors
    /// [`Error::Db`] when the stored text is not a JSON object (a row written by other means).
    pub fn from_stored(json: String) -> Result<Self, Error> {
        match top_level_keys(&json) {
            Ok((keys, _)) => Ok(SessionData { json, keys }),
            Err(e) => Err(Error::Db(format!("stored session data is unreadable: {e}"))),
        }
    }

    /// The JSON text.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The object's top-level keys, in the order the text has them, each once.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }
}

/// Checks nesting depth and `\u` escapes in one pass over the bytes, building nothing.
/// Hand-written because serde_json can only check depth by building the whole value (and
/// its limit is 128), and it accepts a lone surrogate escape in a skipped value. Syntax is
/// left to the parser: on text that is not JSON this may pass or fail, never panic.
fn check_shape(json: &str) -> Result<(), Error> {
    let invalid = |why: &str| Err(Error::InvalidData(format!("session data {why}")));
    let mut bytes = json.bytes();
    let mut depth = 0usize;
    let mut in_string = false;
    // A high surrogate escape waiting for its low half.
    let mut pending_high = false;
    while let Some(b) = bytes.next() {
        if !in_string {
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => {
                    depth += 1;
                    if depth > MAX_DATA_DEPTH {
                        return invalid(&format!("nests deeper than {MAX_DATA_DEPTH} levels"));
                    }
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            }
            continue;
        }
        let unit = match b {
            b'\\' => match bytes.next() {
                Some(b'u') => {
                    let hex: String = bytes.by_ref().take(4).map(char::from).collect();
                    u16::from_str_radix(&hex, 16).ok()
                }
                _ => None,
            },
            b'"' => {
                in_string = false;
                None
            }
            _ => None,
        };
        let is_low = unit.is_some_and(|u| (0xDC00..=0xDFFF).contains(&u));
        if pending_high != is_low {
            return invalid("holds a lone surrogate (\\ud800-\\udfff), which UTF-8 cannot keep");
        }
        pending_high = unit.is_some_and(|u| (0xD800..=0xDBFF).contains(&u));
    }
    Ok(())
}

/// Parses only the outer object: values are skipped, not built, so the cost is one pass, and
/// skipping does not recurse, so no nesting depth can exhaust the (small) wasm stack. The
/// keys once each, in order, and whether one was there twice.
fn top_level_keys(json: &str) -> Result<(Vec<String>, bool), Error> {
    struct Keys(Vec<String>, bool);

    impl<'de> Deserialize<'de> for Keys {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(KeysVisitor)
        }
    }

    struct KeysVisitor;

    impl<'de> Visitor<'de> for KeysVisitor {
        type Value = Keys;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
            let mut keys = Vec::new();
            let mut seen = HashSet::new();
            let mut duplicated = false;
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                if seen.insert(key.clone()) {
                    keys.push(key);
                } else {
                    duplicated = true;
                }
            }
            Ok(Keys(keys, duplicated))
        }
    }

    match serde_json::from_str::<Keys>(json) {
        Ok(Keys(keys, duplicated)) => Ok((keys, duplicated)),
        // serde's message would quote the value: session data must never reach a log.
        Err(e) if e.is_data() => Err(Error::InvalidData(
            "session data must be a JSON object".to_owned(),
        )),
        Err(e) => Err(Error::InvalidJson(format!("not valid JSON: {e}"))),
    }
}

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: Option<String>,
    pub data: SessionData,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// 1 at creation, raised by every data write (by one, rarely two: see `store::d1::sql`),
    /// not by a renewal or rotation.
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back_and_differ() {
        let a = SessionId::generate();
        let b = SessionId::generate();
        assert_ne!(a, b);
        assert_eq!(SessionId::parse(a.as_str()), Some(a));
    }

    #[test]
    fn shard_ids_name_their_shard_and_parse_back() {
        for shard in [0, 1, 2, 255, 4095, u16::MAX] {
            let id = SessionId::on_shard(shard).unwrap();
            assert_eq!(id.as_str().get(14..15), Some("8"), "{id}");
            assert_eq!(id.shard(), shard, "{id}");
            assert_eq!(SessionId::parse(id.as_str()), Some(id));
        }
        assert_ne!(
            SessionId::on_shard(3).unwrap(),
            SessionId::on_shard(3).unwrap()
        );
        // A v4 id lives on the first shard.
        assert_eq!(SessionId::generate().shard(), 0);
    }

    #[test]
    fn strings_that_cannot_be_issued_ids_are_rejected() {
        let id = SessionId::generate().to_string();
        let long = "a".repeat(10_000);
        let rejected = [
            "",
            "not-an-id",
            "' OR 1=1 --",
            "00000000-0000-0000-0000-000000000000",
            "6ba7b810-9dad-11d1-80b4-00c04fd430c8", // v1
            "6ba7b810-9dad-41d1-c0b4-00c04fd430c8", // v4, but not the RFC 4122 variant
            "6ba7b810-9dad-71d1-80b4-00c04fd430c8", // v7
            &id.to_uppercase(),
            &id.replace('-', ""),
            &format!("{{{id}}}"),
            &long,
            "😀😀😀😀😀😀😀😀😀",
        ];
        for text in rejected {
            assert_eq!(SessionId::parse(text), None, "{text}");
        }
    }

    #[test]
    fn user_id_length_is_bounded() {
        assert!(validate_user_id("u").is_ok());
        assert!(validate_user_id(&"é".repeat(256)).is_ok());
        assert_eq!(validate_user_id("").unwrap_err().code(), "invalid_argument");
        assert_eq!(
            validate_user_id(&"x".repeat(257)).unwrap_err().code(),
            "invalid_argument"
        );
    }

    #[test]
    fn data_keeps_top_level_keys_in_order_and_refuses_one_twice() {
        let data = SessionData::from_json(r#"{"b":1,"a":{"x":[1,2]}}"#.into(), 100).unwrap();
        assert_eq!(data.keys(), ["b", "a"]);
        let twice = SessionData::from_json(r#"{"b":1,"a":2,"b":3}"#.into(), 100).unwrap_err();
        assert_eq!(twice.code(), "invalid_data");
        // What the store holds is read as it is, once each.
        let stored = SessionData::from_stored(r#"{"b":1,"b":3}"#.into()).unwrap();
        assert_eq!(stored.keys(), ["b"]);
    }

    #[test]
    fn data_that_is_not_an_object_is_invalid_data() {
        for json in ["[]", "\"s\"", "1", "null", "true"] {
            let err = SessionData::from_json(json.into(), 100).unwrap_err();
            assert_eq!(err.code(), "invalid_data", "{json}");
        }
    }

    #[test]
    fn error_messages_never_quote_the_data() {
        for json in [
            "\"hunter2\"",
            "[\"hunter2\"]",
            "{\"a\":\"hunter2\"",
            "12345678",
        ] {
            let err = SessionData::from_json(json.into(), 100).unwrap_err();
            assert!(!err.to_string().contains("hunter2"), "{err}");
            assert!(!err.to_string().contains("12345678"), "{err}");
        }
    }

    #[test]
    fn text_that_is_not_json_is_invalid_json() {
        for json in ["", "{", "{\"a\":}", "{} {}", "nope"] {
            let err = SessionData::from_json(json.into(), 100).unwrap_err();
            assert_eq!(err.code(), "invalid_json", "{json:?}");
        }
    }

    fn nested(depth: usize) -> String {
        // The outer object is level 1.
        let inner = depth - 1;
        format!("{{\"a\":{}1{}}}", "[".repeat(inner), "]".repeat(inner))
    }

    #[test]
    fn nesting_is_bounded_at_a_thousand_levels_without_recursion() {
        assert_eq!(
            SessionData::from_json(nested(MAX_DATA_DEPTH), usize::MAX)
                .unwrap()
                .keys(),
            ["a"]
        );
        for depth in [MAX_DATA_DEPTH + 1, 100_000] {
            let err = SessionData::from_json(nested(depth), usize::MAX).unwrap_err();
            assert_eq!(err.code(), "invalid_data", "{depth}");
            assert!(err.to_string().contains("1000 levels"), "{err}");
        }
        // Brackets inside strings are text, not nesting.
        let text = format!("{{\"a\":\"{}\"}}", "[".repeat(5_000));
        assert!(SessionData::from_json(text, usize::MAX).is_ok());
    }

    #[test]
    fn lone_surrogate_escapes_are_invalid_data() {
        for json in [
            r#"{"\ud800":1}"#,
            r#"{"a":"x\udc00"}"#,
            r#"{"a":["\ud800"]}"#,
            r#"{"a":"\ud800\u0041"}"#,
            r#"{"a":"\uDBFF"}"#,
        ] {
            let err = SessionData::from_json(json.into(), 100).unwrap_err();
            assert_eq!(err.code(), "invalid_data", "{json}");
        }
        for json in [
            r#"{"a":"\ud83d\ude00"}"#,
            r#"{"a":"\\ud800"}"#,
            r#"{"a":"😀\u00e9"}"#,
        ] {
            assert!(SessionData::from_json(json.into(), 100).is_ok(), "{json}");
        }
    }

    #[test]
    fn rejected_input_is_shown_by_a_bounded_prefix() {
        assert_eq!(shown("short"), "short");
        let long = "é".repeat(1_000_000);
        let quoted = shown(&long);
        assert_eq!(quoted.chars().count(), MAX_SHOWN_CHARS + 1);
        assert!(quoted.ends_with('…'));
    }

    #[test]
    fn refused_strings_are_described_by_length_never_quoted() {
        assert_eq!(described(""), "an empty string");
        assert_eq!(described("é😀"), "a string of 2 characters");
        let long = "x".repeat(MAX_USER_ID_CHARS + 1);
        assert_eq!(described(&long), "a string of more than 256 characters");
        assert!(!described("secret").contains("secret"));
    }

    #[test]
    fn a_user_id_shaped_like_a_token_is_refused() {
        let token = Token::generate(SessionId::generate()).unwrap().reveal();
        let error = validate_user_id(&token).unwrap_err();
        assert_eq!(error.code(), "invalid_argument");
        let (id, secret) = token.split_once('.').unwrap();
        assert!(!error.to_string().contains(secret) && !error.to_string().contains(id));
        // A shard's id (UUID v8) makes a token too.
        let sharded = Token::generate(SessionId::on_shard(3).unwrap()).unwrap();
        assert!(validate_user_id(&sharded.reveal()).is_err());
        // What is not a token stays a user id: a bare public id, an email, a near miss.
        for fine in [
            id.to_owned(),
            "user@example.com".to_owned(),
            format!("{id}.{secret}x"),
            format!("user.{secret}"),
        ] {
            assert_eq!(validate_user_id(&fine), Ok(()), "{fine}");
        }
    }

    #[test]
    fn size_limit_counts_utf8_bytes() {
        let json = r#"{"k":"éé"}"#.to_owned(); // 12 bytes, 10 characters
        assert!(SessionData::from_json(json.clone(), 12).is_ok());
        assert_eq!(
            SessionData::from_json(json, 11).unwrap_err(),
            Error::PayloadTooLarge { limit: 11 }
        );
    }

    #[test]
    fn unreadable_stored_data_is_a_db_error() {
        assert_eq!(
            SessionData::from_stored("[1]".into()).unwrap_err().code(),
            "db_error"
        );
    }
}
