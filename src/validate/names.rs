//! Name rules of the systems the outputs land in: Kubernetes (DNS-1123), ESO data keys, POSIX
//! environment variables, Vault key paths, Helm values identifiers and Go durations. Each check
//! returns the rule broken, worded for the user, or `None`.

fn is_label_body(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// A DNS-1123 label: namespaces, environments, bundles.
pub fn dns1123_label(name: &str, max: usize) -> Option<String> {
    if name.len() > max {
        return Some(format!("longer than {max} characters ({})", name.len()));
    }
    (!is_label_body(name)).then(|| {
        "must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit".to_string()
    })
}

/// A DNS-1123 subdomain: Secret, ExternalSecret and store names.
pub fn dns1123_subdomain(name: &str) -> Option<String> {
    if name.len() > 253 {
        return Some(format!("longer than 253 characters ({})", name.len()));
    }
    (!name.split('.').all(is_label_body)).then(|| {
        "must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit".to_string()
    })
}

/// ESO's `secretKey` pattern `^[-._a-zA-Z0-9]+$`.
pub fn eso_data_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// A POSIX-portable environment variable name, `[A-Za-z_][A-Za-z0-9_]*`.
pub fn env_var(key: &str) -> bool {
    identifier(key)
}

fn identifier(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A key-map alias, readable as `.Values.keys.<alias>` in Helm.
pub fn alias(alias: &str) -> Option<String> {
    (!identifier(alias)).then(|| {
        "must start with a letter or '_' and hold only letters, digits and '_' (Helm reads it as .Values.keys.<alias>)".to_string()
    })
}

/// A Vault path relative to the mount: '/'-separated segments of letters, digits, '.', '_', '-'.
pub fn vault_path(path: &str) -> Option<String> {
    if path.is_empty() {
        return Some("is empty".into());
    }
    if path.starts_with('/') || path.ends_with('/') {
        return Some("must not start or end with '/'".into());
    }
    for segment in path.split('/') {
        if segment.is_empty() {
            return Some("has an empty segment ('//')".into());
        }
        if segment == "." || segment == ".." {
            return Some(format!("has a `{segment}` segment"));
        }
        if !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        {
            return Some(
                "segments may hold only letters, digits, '.', '_' and '-', separated by '/'".into(),
            );
        }
    }
    None
}

/// Owners and consumers: short names without spaces or control characters.
pub fn simple_name(name: &str) -> Option<String> {
    let mut bytes = name.bytes();
    let ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    (!ok).then(|| {
        "must start with a letter or digit and hold only letters, digits, '.', '_' and '-'".into()
    })
}

/// A Kubernetes Secret type such as `Opaque` or `kubernetes.io/dockerconfigjson`.
pub fn secret_type(kind: &str) -> Option<String> {
    let ok = !kind.is_empty()
        && kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'/'));
    (!ok).then(|| "must hold only letters, digits, '.', '_', '-' and '/'".into())
}

/// Plausible corrections of a broken name, most likely first: Kubernetes style (lowercase,
/// dashes), a Helm identifier (lowerCamelCase), a tidied Vault path.
pub fn repairs(name: &str) -> Vec<String> {
    use heck::ToLowerCamelCase;
    let mut kube: String = name
        .trim()
        .chars()
        .map(|c| match c {
            'A'..='Z' => c.to_ascii_lowercase(),
            'a'..='z' | '0'..='9' | '.' | '-' => c,
            _ => '-',
        })
        .collect();
    while kube.contains("--") {
        kube = kube.replace("--", "-");
    }
    let kube = kube.trim_matches(['-', '.']).to_string();
    let path = name
        .split('/')
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .map(|s| s.trim().replace(' ', "-"))
        .collect::<Vec<_>>()
        .join("/");
    vec![
        kube,
        name.to_lower_camel_case(),
        path,
        name.trim().replace(' ', "-"),
    ]
}

/// A Go duration suggestion for a value written with a unit Go lacks (`1d` → `24h`).
pub fn duration_fix(text: &str) -> Option<String> {
    let days: u64 = text.strip_suffix('d')?.parse().ok()?;
    Some(format!("{}h", days * 24))
}

/// A Go `time.ParseDuration` string without sign: `0`, `30s`, `1h30m`, `1.5h`.
pub fn go_duration(text: &str) -> bool {
    if text == "0" {
        return true;
    }
    let mut rest = text;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        let valid_number = !number.is_empty()
            && number != "."
            && number.matches('.').count() <= 1
            && number.bytes().any(|b| b.is_ascii_digit());
        if !valid_number {
            return false;
        }
        rest = &rest[digits..];
        let Some(unit) = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"]
            .into_iter()
            .find(|unit| rest.starts_with(unit) && !(unit == &"m" && rest.starts_with("ms")))
        else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels_and_subdomains() {
        assert_eq!(dns1123_label("ameide-int-tests", 63), None);
        assert!(dns1123_label("Ameide", 63).is_some());
        assert!(dns1123_label("-a", 63).is_some());
        assert!(dns1123_label("a-", 63).is_some());
        assert!(dns1123_label(&"a".repeat(64), 63).is_some());
        assert!(dns1123_label("a.b", 63).is_some());
        assert_eq!(dns1123_subdomain("platform-db-credentials"), None);
        assert_eq!(dns1123_subdomain("a.b-c"), None);
        assert!(dns1123_subdomain("a..b").is_some());
        assert!(dns1123_subdomain("a_b").is_some());
        assert!(dns1123_subdomain("").is_some());
        assert!(dns1123_subdomain(&"a".repeat(254)).is_some());
    }

    #[test]
    fn data_keys_and_env_vars() {
        assert!(eso_data_key(".dockerconfigjson"));
        assert!(eso_data_key("admin.password"));
        assert!(!eso_data_key("a b"));
        assert!(!eso_data_key(""));
        assert!(env_var("OTEL_EXPORTER_OTLP_ENDPOINT"));
        assert!(env_var("_X1"));
        assert!(!env_var("1X"));
        assert!(!env_var("client-secret"));
    }

    #[test]
    fn vault_paths() {
        assert_eq!(vault_path("platform-db-url"), None);
        assert_eq!(vault_path("gitlab/tokens/dev/platform"), None);
        assert!(vault_path("/a").is_some());
        assert!(vault_path("a//b").is_some());
        assert!(vault_path("a/../b").is_some());
        assert!(vault_path("a b").is_some());
    }

    #[test]
    fn go_durations() {
        for ok in ["0", "1h", "1m", "30s", "1h30m", "1.5h", "100ms", "2µs"] {
            assert!(go_duration(ok), "{ok}");
        }
        for bad in ["", "1", "h", "1d", "1 h", "-1h", "1h-", ".h", "1..2s"] {
            assert!(!go_duration(bad), "{bad}");
        }
    }

    #[test]
    fn repairs_offer_a_valid_spelling() {
        let fixes = repairs("Platform_DB");
        assert_eq!(fixes[0], "platform-db");
        assert_eq!(repairs("grafana-user")[1], "grafanaUser");
        assert_eq!(repairs("a//b/")[2], "a/b");
        assert_eq!(duration_fix("1d").as_deref(), Some("24h"));
        assert_eq!(duration_fix("1h"), None);
    }

    #[test]
    fn aliases_are_helm_identifiers() {
        assert_eq!(alias("grafanaUser"), None);
        assert!(alias("grafana-user").is_some());
        assert!(alias("9lives").is_some());
    }
}
