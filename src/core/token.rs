//! The credential a session's holder presents: the token `<id>.<secret>`.
//!
//! The id is public: it names the session in signals, logs, URLs and user listings. The
//! secret is the credential: 256 bits from the platform CSPRNG, which the store never
//! sees. The store keeps only its SHA-256 ([`SecretHash`]), so a copy of the table or of
//! the logs gives no one a session. Both halves are URL-safe and fit a cookie unquoted.

use base64ct::{Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::core::error::Error;
use crate::core::id::SessionId;

/// Random bytes in a secret: 256 bits, twice the floor of 128.
const SECRET_BYTES: usize = 32;
/// Characters of a secret in unpadded base64url (4 per 3 bytes, rounded up).
const SECRET_CHARS: usize = 43;

/// A session's token: the id that names it and the secret that proves its holder.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    id: SessionId,
    secret: String,
}

/// Never the secret, so a token that reaches a debug print or a panic message leaks nothing.
impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token({}.…)", self.id)
    }
}

impl Token {
    /// A fresh token for the session `id`: a new secret.
    ///
    /// # Errors
    /// [`Error::Internal`] when the platform has no randomness to give (nothing is issued).
    pub fn generate(id: SessionId) -> Result<Self, Error> {
        let mut bytes = [0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::Internal(format!("no randomness for a secret: {e}")))?;
        Ok(Token {
            id,
            secret: Base64UrlUnpadded::encode_string(&bytes),
        })
    }

    /// The token `text` is, or `None` when no token this crate issues is written that way
    /// (such a string names no session, so it never reaches the store).
    pub fn parse(text: &str) -> Option<Self> {
        let (id, secret) = text.split_once('.')?;
        let id = SessionId::parse(id)?;
        let canonical = secret.len() == SECRET_CHARS
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        canonical.then(|| Token {
            id,
            secret: secret.to_owned(),
        })
    }

    /// The public id.
    pub fn id(&self) -> &SessionId {
        &self.id
    }

    /// What the store keeps in place of the secret.
    pub fn hash(&self) -> SecretHash {
        SecretHash(Base64UrlUnpadded::encode_string(&Sha256::digest(
            self.secret.as_bytes(),
        )))
    }

    /// The token as its holder keeps it. Handed out only by create and rotate.
    pub fn reveal(&self) -> String {
        format!("{}.{}", self.id, self.secret)
    }
}

/// The public id a session argument names, as messages and signals show it: the text before
/// the first `.` when that is an id this crate issues, else the empty string. Never more:
/// whatever follows the dot may be a secret (or, for a caller's mistake, some other
/// credential), and nothing may write one to an signal or a log line.
pub fn shown_id(text: &str) -> String {
    let id = text.split_once('.').map_or(text, |(id, _)| id);
    SessionId::parse(id).map_or_else(String::new, |id| id.as_str().to_owned())
}

/// The SHA-256 of a secret, in unpadded base64url: what the store holds and matches on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHash(String);

impl SecretHash {
    /// A hash as the store read it back.
    pub fn from_stored(text: String) -> Self {
        SecretHash(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the two are the same hash, in time that depends only on their lengths (which
    /// every hash this crate writes shares), so a read leaks nothing of the stored hash.
    pub fn matches(&self, other: &SecretHash) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_an_id_and_a_256_bit_url_safe_secret() {
        let token = Token::generate(SessionId::generate()).unwrap();
        let text = token.reveal();
        let (id, secret) = text.split_once('.').unwrap();
        assert_eq!(id, token.id().as_str());
        assert_eq!(secret.len(), SECRET_CHARS);
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        assert_eq!(Token::parse(&text), Some(token.clone()));
        // Two tokens never share a secret.
        let other = Token::generate(token.id().clone()).unwrap();
        assert_ne!(other.reveal(), text);
        assert!(!other.hash().matches(&token.hash()));
    }

    #[test]
    #[allow(clippy::string_slice)]
    fn only_issued_shapes_parse() {
        let token = Token::generate(SessionId::generate()).unwrap().reveal();
        let (id, secret) = token.split_once('.').unwrap();
        for bad in [
            String::new(),
            id.to_owned(),
            format!("{id}."),
            format!("{id}.{secret}x"),
            format!("{id}.{}", &secret[1..]),
            format!("{id}.{}+", &secret[1..]),
            format!("{}.{secret}", id.to_uppercase()),
            format!("{id}.{secret}.{secret}"),
            format!(".{secret}"),
        ] {
            assert_eq!(Token::parse(&bad), None, "{bad}");
        }
    }

    #[test]
    fn the_hash_is_sha256_of_the_secret_text() {
        // The plain-JS baseline and any operator's SQL compute it the same way.
        let token = Token::parse(
            "9b2f6f4e-0f6c-4c8e-8a5e-2b0d9c1e7a11.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )
        .unwrap();
        let expected = Sha256::digest(b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(
            token.hash().as_str(),
            Base64UrlUnpadded::encode_string(&expected)
        );
        assert_eq!(token.hash().as_str().len(), 43);
    }

    #[test]
    fn debug_and_shown_never_carry_the_secret() {
        let token = Token::generate(SessionId::generate()).unwrap();
        let text = token.reveal();
        let secret = text.split_once('.').unwrap().1;
        assert!(!format!("{token:?}").contains(secret));
        assert_eq!(shown_id(&text), token.id().as_str());
        assert_eq!(shown_id(token.id().as_str()), token.id().as_str());
        assert_eq!(
            shown_id(&format!("{}.garbage", token.id())),
            token.id().as_str()
        );
        assert_eq!(shown_id("eyJhbGciOiJIUzI1NiJ9.payload.signature"), "");
        assert_eq!(shown_id(secret), "");
    }
}
