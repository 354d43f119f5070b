//! Bearer-token checks.

/// Whether an `Authorization` header carries `Bearer <expected>`. The scheme is
/// case-insensitive (RFC 9110); the token comparison takes the same time wherever the
/// first difference is.
pub fn bearer_matches(header: Option<&str>, expected: &str) -> bool {
    let Some((scheme, token)) = header.and_then(|h| h.trim().split_once(' ')) else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer")
        && constant_time_eq(token.trim().as_bytes(), expected.as_bytes())
}

/// Compares every byte of `expected` whatever `given` holds, so the time taken depends
/// only on the secret's length, never on how much of it a guess got right.
fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = u8::from(given.len() != expected.len());
    for (i, e) in expected.iter().enumerate() {
        diff |= given.get(i).copied().unwrap_or(0) ^ e;
    }
    std::hint::black_box(diff) == 0
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
        assert!(!constant_time_eq(b"ab\0", b"ab"));
        assert!(!constant_time_eq(b"ab", b"ab\0"));
    }
}
