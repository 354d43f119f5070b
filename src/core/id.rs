//! A session's public id: what names a session, and its shard, without being a credential.

use std::fmt;

use uuid::Uuid;

use crate::core::error::Error;

/// Length of the canonical hyphenated UUID text this crate issues.
const ID_LEN: usize = 36;

/// A session id this crate issued, in lowercase hyphenated form: a UUID v4 (122 random bits
/// from the platform CSPRNG), or, for sessions spread over several databases, a UUID v8
/// whose first 16 bits name the shard and whose other 106 free bits are random. An id names
/// its own shard, so a token finds its database with no lookup; a v4 id lives on the first.
/// Anything else cannot name a session, so it never reaches D1.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl SessionId {
    /// A fresh random id for a store of one database.
    pub fn generate() -> Self {
        SessionId(Uuid::new_v4().hyphenated().to_string())
    }

    /// A fresh random id on `shard`, from the platform CSPRNG.
    ///
    /// # Errors
    /// [`Error::Internal`] when the platform gives no randomness.
    pub fn on_shard(shard: u16) -> Result<Self, Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::Internal(format!("no randomness for a session id: {e}")))?;
        let [high, low, ..] = &mut bytes;
        [*high, *low] = shard.to_be_bytes();
        let uuid = uuid::Builder::from_custom_bytes(bytes).into_uuid();
        Ok(SessionId(uuid.hyphenated().to_string()))
    }

    /// The id `text` names, or `None` when no id this crate issues is written that way.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != ID_LEN {
            return None;
        }
        // At this length only the hyphenated form parses; lowercase makes it the canonical
        // text, so no id has two spellings.
        let uuid = Uuid::try_parse(text).ok()?;
        let canonical = matches!(uuid.get_version_num(), 4 | 8)
            && uuid.get_variant() == uuid::Variant::RFC4122
            && !text.bytes().any(|b| b.is_ascii_uppercase());
        canonical.then(|| SessionId(text.to_owned()))
    }

    /// The shard the id names: its first 16 bits for a v8 id, the first shard for a v4 one.
    pub fn shard(&self) -> u16 {
        let shard = |i| {
            self.0
                .get(i..i + 4)
                .and_then(|h| u16::from_str_radix(h, 16).ok())
        };
        match self.0.as_bytes().get(14) {
            Some(b'8') => shard(0).unwrap_or(0),
            _ => 0,
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
