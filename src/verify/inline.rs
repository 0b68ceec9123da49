//! Zero Inline Secrets: which Secrets may carry data in a manifest, and which env variables look
//! like credentials that must come from a Secret instead of a literal.

/// Secret types Kubernetes or Helm write themselves: a service account token is filled in by the
/// token controller, a Helm release Secret is Helm's own bookkeeping.
const EXEMPT_SECRET_TYPES: &[&str] = &["kubernetes.io/service-account-token", "helm.sh/release.v1"];

pub(super) fn exempt_secret_type(secret_type: &str) -> bool {
    EXEMPT_SECRET_TYPES.contains(&secret_type)
}

/// Last words of a variable name that make it describe a credential rather than be one: where it
/// is (`_FILE`, `_PATH`, `_URL`, `_ENDPOINT`, `_HOST`), what it is called (`_NAME`, `_REF`,
/// `_ID`, as in `AWS_ACCESS_KEY_ID` or `DB_SECRET_NAME`), or how it behaves (`_TTL`,
/// `_LENGTH`, `_ENABLED`, ...).
const DESCRIBING_WORDS: &[&str] = &[
    "NAME",
    "NAMES",
    "REF",
    "REFS",
    "ID",
    "IDS",
    "FILE",
    "FILES",
    "PATH",
    "DIR",
    "URL",
    "URI",
    "ENDPOINT",
    "HOST",
    "PORT",
    "ENABLED",
    "DISABLED",
    "TTL",
    "LENGTH",
    "TYPE",
    "EXPIRY",
    "EXPIRATION",
    "SECONDS",
    "MINUTES",
    "HOURS",
    "DAYS",
    "TIMEOUT",
    "INTERVAL",
    "DURATION",
    "SIZE",
    "COUNT",
    "LIMIT",
    "HEADER",
    "FIELD",
    "PREFIX",
    "SUFFIX",
    "VERSION",
    "NAMESPACE",
    "MOUNT",
];

/// Whether an env variable name looks like a credential. The name is cut into words (at `_`,
/// `-`, `.` and camelCase humps, `dbPassword` → `DB PASSWORD`) and upper-cased; it is
/// credential-like when
/// - a word contains `PASSWORD`, `PASSWD`, `SECRET` or `CREDENTIAL`, or is `PASS`;
/// - a word ends with `TOKEN` (`GITHUB_TOKEN`, `apiToken`; not `TOKENIZER` or `MAX_TOKENS`,
///   which LLM services set to numbers);
/// - the last word is `KEY` after another word (`API_KEY`, `AWS_SECRET_ACCESS_KEY`), or is
///   `APIKEY`;
///
/// unless the last word only describes a credential (see `DESCRIBING_WORDS`:
/// `DB_SECRET_NAME`, `TOKEN_URL`, `AWS_ACCESS_KEY_ID`, `PASSWORD_FILE`), or a word is `PUBLIC`
/// (`PUBLIC_KEY`, `NEXT_PUBLIC_*`, which are public by design).
pub(super) fn credential_like(name: &str) -> bool {
    let words = words(name);
    let Some(last) = words.last() else {
        return false;
    };
    if DESCRIBING_WORDS.contains(&last.as_str()) || words.iter().any(|w| w == "PUBLIC") {
        return false;
    }
    words.iter().any(|w| {
        ["PASSWORD", "PASSWD", "SECRET", "CREDENTIAL"]
            .iter()
            .any(|c| w.contains(c))
            || w == "PASS"
            || w.ends_with("TOKEN")
    }) || (last == "KEY" && words.len() > 1)
        || last == "APIKEY"
}

/// Whether an env entry `name: value` (literal, not `valueFrom`) puts a credential inline. Not
/// when the value is empty, a boolean word (`ENABLE_TOKEN_AUTH: "true"`), an absolute file path
/// (`GOOGLE_APPLICATION_CREDENTIALS: /var/run/secrets/gcp/key.json`: the credential is in a
/// mounted file), or only refers to other variables (`$(DB_PASSWORD)`, which Kubernetes expands
/// from the container's own env).
pub(super) fn inline_credential(name: &str, value: &str) -> bool {
    let value = value.trim();
    if value.is_empty() || only_variable_refs(value) {
        return false;
    }
    if value.starts_with('/') && !value.contains(char::is_whitespace) {
        return false;
    }
    let boolean = ["true", "false", "yes", "no", "on", "off"]
        .iter()
        .any(|b| value.eq_ignore_ascii_case(b));
    !boolean && credential_like(name)
}

/// `$(A)` or `$(A)$(B)`: nothing but references to other variables.
fn only_variable_refs(value: &str) -> bool {
    let mut rest = value;
    while !rest.is_empty() {
        let Some(inner) = rest.strip_prefix("$(") else {
            return false;
        };
        let Some(end) = inner.find(')') else {
            return false;
        };
        let variable = &inner[..end];
        if variable.is_empty()
            || !variable
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return false;
        }
        rest = &inner[end + 1..];
    }
    true
}

fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_uppercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_like_names() {
        for name in [
            "PASSWORD",
            "DB_PASSWORD",
            "postgres-password",
            "dbPassword",
            "PGPASSWORD",
            "REDIS_PASS",
            "MYSQL_ROOT_PASSWD",
            "GITHUB_TOKEN",
            "apiToken",
            "HF_TOKEN",
            "OAUTH_CLIENT_SECRET",
            "SECRET_KEY_BASE",
            "JWT_SECRET",
            "AWS_SECRET_ACCESS_KEY",
            "API_KEY",
            "OPENAI_API_KEY",
            "apiKey",
            "APIKEY",
            "STRIPE_PRIVATE_KEY",
            "GOOGLE_APPLICATION_CREDENTIALS_JSON",
            "db.password",
        ] {
            assert!(credential_like(name), "{name} should be credential-like");
        }
    }

    #[test]
    fn names_that_describe_a_credential_are_not_one() {
        for name in [
            "DB_SECRET_NAME",
            "GRAFANA_SECRET_REF",
            "AWS_ACCESS_KEY_ID",
            "POSTGRES_PASSWORD_FILE",
            "TOKEN_URL",
            "OAUTH_TOKEN_ENDPOINT",
            "PASSWORD_MIN_LENGTH",
            "TOKEN_TTL",
            "SESSION_TOKEN_EXPIRY_SECONDS",
            "JWT_PUBLIC_KEY",
            "NEXT_PUBLIC_API_KEY",
            "MAX_TOKENS",
            "TOKENIZER_MODEL",
            "KEY",
            "MONKEY",
            "PASSTHROUGH",
            "BYPASS_CACHE",
            "LOG_LEVEL",
            "DATABASE_URL",
            "",
            "___",
        ] {
            assert!(
                !credential_like(name),
                "{name} should not be credential-like"
            );
        }
    }

    #[test]
    fn literal_values_that_are_no_credential() {
        assert!(inline_credential("DB_PASSWORD", "hunter2"));
        assert!(inline_credential("DB_PASSWORD", "12345"));
        assert!(!inline_credential("DB_PASSWORD", ""));
        assert!(!inline_credential("DB_PASSWORD", "  "));
        assert!(!inline_credential("ENABLE_TOKEN_AUTH", "true"));
        assert!(!inline_credential("DB_PASSWORD", "$(PGPASSWORD)"));
        assert!(!inline_credential("DB_PASSWORD", "$(A)$(B)"));
        assert!(inline_credential("DB_PASSWORD", "x$(A)"));
        assert!(inline_credential("DB_PASSWORD", "$(A"));
        assert!(!inline_credential("LOG_LEVEL", "debug"));
        assert!(!inline_credential(
            "GOOGLE_APPLICATION_CREDENTIALS",
            "/var/run/secrets/gcp/key.json"
        ));
    }

    #[test]
    fn exempt_types() {
        assert!(exempt_secret_type("kubernetes.io/service-account-token"));
        assert!(exempt_secret_type("helm.sh/release.v1"));
        assert!(!exempt_secret_type("Opaque"));
        assert!(!exempt_secret_type(""));
    }
}
