//! Credential hygiene: fixtures are committed to git, so a fixture that looks like a real secret
//! (a private key, a cloud or forge token, a JWT, a long random string) is a finding.

use crate::model::Key;

/// What kind of real credential a fixture of `key` looks like, unless the catalog allows it with a
/// reason: `explain` and `list` show such a value redacted, as reports do.
pub fn suspected(key: &Key, value: &str) -> Option<&'static str> {
    match key.credential_like_allowed {
        true => None,
        false => looks_like_credential(value),
    }
}

/// What kind of real credential `value` looks like, if any.
pub fn looks_like_credential(value: &str) -> Option<&'static str> {
    if value.contains("-----BEGIN") && value.contains("PRIVATE KEY") {
        return Some("a private key block");
    }
    for token in tokens(value) {
        if let Some(kind) = known_format(token) {
            return Some(kind);
        }
    }
    for token in tokens(value) {
        if token.len() >= 32 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some("a long random hex string");
        }
        let has_digit = token.bytes().any(|b| b.is_ascii_digit());
        let has_letter = token.bytes().any(|b| b.is_ascii_alphabetic());
        if token.len() >= 20 && has_digit && has_letter && entropy(token) >= 4.0 {
            return Some("a long random string");
        }
    }
    None
}

/// Runs of characters that tokens and keys are made of.
fn tokens(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| {
            !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-' | '.'))
        })
        .filter(|t| !t.is_empty())
}

fn known_format(token: &str) -> Option<&'static str> {
    let alnum_run =
        |s: &str, min: usize| s.len() >= min && s.bytes().all(|b| b.is_ascii_alphanumeric());
    let upper_digits = |s: &str| {
        s.len() == 16
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    if let Some(rest) = token
        .strip_prefix("AKIA")
        .or_else(|| token.strip_prefix("ASIA"))
        && upper_digits(rest)
    {
        return Some("an AWS access key");
    }
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        if token
            .strip_prefix(prefix)
            .is_some_and(|rest| alnum_run(rest, 30))
        {
            return Some("a GitHub token");
        }
    }
    if token
        .strip_prefix("github_pat_")
        .is_some_and(|rest| rest.len() >= 22)
    {
        return Some("a GitHub token");
    }
    if token
        .strip_prefix("glpat-")
        .is_some_and(|rest| rest.len() >= 20)
    {
        return Some("a GitLab token");
    }
    if ["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"]
        .iter()
        .any(|p| token.starts_with(p))
        && token.len() >= 20
    {
        return Some("a Slack token");
    }
    let parts: Vec<&str> = token.split('.').collect();
    let base64url = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts.iter().all(|p| base64url(p))
        && parts[1].len() >= 8
    {
        return Some("a JWT");
    }
    None
}

/// Shannon entropy in bits per character.
fn entropy(text: &str) -> f64 {
    let mut counts = [0usize; 256];
    for byte in text.bytes() {
        counts[byte as usize] += 1;
    }
    let length = text.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / length;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::looks_like_credential;

    #[test]
    fn real_looking_credentials_are_caught() {
        let cases = [
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
                "a private key block",
            ),
            ("AKIAIOSFODNN7EXAMPLE", "an AWS access key"),
            ("ghp_0123456789abcdefghijABCDEFGHIJ012345", "a GitHub token"),
            ("glpat-abcdefghij0123456789", "a GitLab token"),
            ("xoxb-123456789012-abcdefghijkl", "a Slack token"),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "a JWT",
            ),
            (
                "sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "a long random hex string",
            ),
            ("Xq3vT9pLm2Rk8sWz4YbN7cJd", "a long random string"),
        ];
        for (value, kind) in cases {
            assert_eq!(looks_like_credential(value), Some(kind), "{value}");
        }
    }

    #[test]
    fn obvious_dev_values_pass() {
        for value in [
            "platform_dev_password",
            "C1tr0n3lla!",
            "postgresql://postgres-ameide-rw.ameide.svc.cluster.local:5432/agents_runtime",
            "pk-lf-local",
            "2025-11-01T00:00:00Z",
            "www_ameide_platform_keycloak_secret",
            "http://otel-collector.ameide.svc.cluster.local:4318",
            "",
        ] {
            assert_eq!(looks_like_credential(value), None, "{value}");
        }
    }
}
