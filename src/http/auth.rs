//! Who may use the API: the bearer token, checked against the `API_TOKEN` secret.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The shortest `API_TOKEN` the Worker trusts, in characters. A shorter secret could be
/// guessed, so it counts as not configured and the API fails closed.
pub const MIN_TOKEN_CHARS: usize = 32;

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No `API_TOKEN` is set, so nobody can be let in.
    NoSecret,
    /// The bearer token is missing or is not the secret.
    WrongBearer,
    /// The caller presented the secret, but it is shorter than [`MIN_TOKEN_CHARS`].
    WeakSecret,
}

/// Whether a request with this `Authorization` header may use the API, given the configured
/// `secret`. The bearer is checked before the secret's length, so only a caller who already
/// holds a weak secret learns that it is weak; everyone else sees the same refusal whether
/// the secret is missing, weak or strong.
///
/// # Errors
/// The [`Refusal`] that applies.
pub fn authorize(secret: Option<&str>, header: Option<&str>) -> Result<(), Refusal> {
    // Trimmed like the bearer: a secret stored with a trailing newline (`echo ... |
    // wrangler secret put`) would otherwise never match anything.
    let secret = secret
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(Refusal::NoSecret)?;
    if !bearer_matches(header, secret) {
        return Err(Refusal::WrongBearer);
    }
    if secret.chars().count() < MIN_TOKEN_CHARS {
        return Err(Refusal::WeakSecret);
    }
    Ok(())
}

/// Whether an `Authorization` header carries `Bearer <expected>`. The scheme is
/// case-insensitive (RFC 9110); the token comparison takes the same time wherever the
/// first difference is.
fn bearer_matches(header: Option<&str>, expected: &str) -> bool {
    let Some((scheme, token)) = header.and_then(|h| h.trim().split_once(' ')) else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer") && same_secret(token.trim(), expected)
}

/// Compares SHA-256 digests with `subtle`: its slice compare returns early on a length
/// difference, and digests share one length, so the time tells nothing of the secret.
fn same_secret(given: &str, expected: &str) -> bool {
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    given.as_slice().ct_eq(expected.as_slice()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_bearer_token_matches() {
        assert!(bearer_matches(Some("Bearer s3cret"), "s3cret"));
        assert!(bearer_matches(Some("bearer s3cret"), "s3cret"));
        for header in [
            None,
            Some(""),
            Some("Bearer"),
            Some("Bearer "),
            Some("Bearer s3cre"),
            Some("Bearer s3cret!"),
            Some("Basic s3cret"),
            Some("s3cret"),
            Some("Bearer S3CRET"),
        ] {
            assert!(!bearer_matches(header, "s3cret"), "{header:?}");
        }
    }

    #[test]
    fn a_prefix_of_the_secret_with_a_zero_byte_does_not_match() {
        assert!(!same_secret("ab\0", "ab"));
        assert!(!same_secret("ab", "ab\0"));
        assert!(same_secret("ab", "ab"));
    }

    #[test]
    fn a_missing_secret_lets_nobody_in() {
        for secret in [None, Some("")] {
            for header in [None, Some("Bearer "), Some("Bearer x")] {
                assert_eq!(authorize(secret, header), Err(Refusal::NoSecret));
            }
        }
    }

    #[test]
    fn a_weak_secret_is_told_only_to_whoever_holds_it() {
        let weak = "w".repeat(MIN_TOKEN_CHARS - 1);
        let bearer = format!("Bearer {weak}");
        assert_eq!(
            authorize(Some(&weak), Some(&bearer)),
            Err(Refusal::WeakSecret)
        );
        assert_eq!(
            authorize(Some(&weak), Some("Bearer guess")),
            Err(Refusal::WrongBearer)
        );
        assert_eq!(
            authorize(Some("x"), Some("Bearer x")),
            Err(Refusal::WeakSecret)
        );
    }

    #[test]
    fn the_length_rule_counts_characters_not_bytes() {
        let strong = "é".repeat(MIN_TOKEN_CHARS);
        assert_eq!(
            authorize(Some(&strong), Some(&format!("Bearer {strong}"))),
            Ok(())
        );
        let weak = "é".repeat(MIN_TOKEN_CHARS - 1);
        assert_eq!(
            authorize(Some(&weak), Some(&format!("Bearer {weak}"))),
            Err(Refusal::WeakSecret)
        );
    }

    #[test]
    fn a_strong_secret_admits_its_bearer_only() {
        let strong = "s".repeat(MIN_TOKEN_CHARS);
        assert_eq!(
            authorize(Some(&strong), Some(&format!("Bearer {strong}"))),
            Ok(())
        );
        assert_eq!(
            authorize(Some(&strong), Some("Bearer s")),
            Err(Refusal::WrongBearer)
        );
    }
}
