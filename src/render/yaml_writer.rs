//! The largest YAML sections, written without a YAML serializer: the `externalSecrets:` list of
//! a bundle file, and the key and fixture maps. serde-saphyr spent most of its time on them
//! asking of every field name and short value whether a YAML 1.1 reader could misread it.
//!
//! The bytes are serde-saphyr's, which the `.hbs` templates use: an ExternalSecret (or a map
//! entry) whose every string is short, on one line and written the same wherever it stands is
//! laid out here, each string plain when it plainly can be and otherwise as serde-saphyr writes
//! it alone. Any other ExternalSecret or entry (a template, a long or multi-line string, an empty
//! list or map) goes through serde-saphyr whole. The property tests render every drawn catalog
//! both ways.

use std::collections::BTreeMap;

use super::to_yaml;
use super::views::{DataEntry, DataFrom, ExternalSecretView};

/// serde-saphyr folds a single-line string longer than this many characters, in a way that
/// depends on where it stands; shorter ones it writes the same everywhere.
const LONGEST_UNFOLDED: usize = 80;

/// `externalSecrets:` and the list, indented by two spaces, as `{{yaml externalSecrets indent=2}}`
/// writes it.
pub(super) fn external_secrets(out: &mut String, items: &[ExternalSecretView]) {
    out.push_str("externalSecrets:\n");
    if items.is_empty() {
        indent_into(out, &to_yaml(&items).unwrap_or_default());
        return;
    }
    for item in items {
        match laid_out_by_hand(item) {
            true => write_item(out, item),
            false => indent_into(out, &to_yaml(&[item]).unwrap_or_default()),
        }
    }
}

/// `name:` and a map of strings, indented by two spaces, as `{{yaml map indent=2}}` writes it.
pub(super) fn string_map(out: &mut String, name: &str, map: &BTreeMap<&str, &str>) {
    out.push_str(name);
    out.push_str(":\n");
    if map.is_empty() {
        indent_into(out, &to_yaml(map).unwrap_or_default());
        return;
    }
    for (key, value) in map {
        match is_plain(key) && is_short_line(value) {
            true => field(out, "  ", key, value),
            // Alone, an entry is written as it is among the others, at the same depth.
            false => indent_into(
                out,
                &to_yaml(&BTreeMap::from([(key, value)])).unwrap_or_default(),
            ),
        }
    }
}

/// Whether `write_item` gives serde-saphyr's bytes for `item`.
fn laid_out_by_hand(item: &ExternalSecretView) -> bool {
    let spec = &item.spec;
    let mut strings = vec![
        item.name,
        item.namespace,
        spec.refresh_interval,
        spec.secret_store_ref.name,
        spec.target.name,
        spec.target.creation_policy,
        spec.target.deletion_policy,
    ];
    for (key, value) in &item.annotations {
        if !is_plain(key) {
            return false;
        }
        strings.push(value);
    }
    for entry in &spec.data {
        let remote = &entry.remote_ref;
        strings.extend([
            entry.secret_key,
            remote.key,
            remote.property,
            remote.conversion_strategy,
            remote.metadata_policy,
        ]);
    }
    for from in &spec.data_from {
        let extract = &from.extract;
        strings.extend([
            extract.key,
            extract.conversion_strategy,
            extract.metadata_policy,
        ]);
    }
    spec.target.template.is_none()
        && !item.annotations.is_empty()
        && !spec.data.is_empty()
        && strings.iter().all(|s| is_short_line(s))
}

/// One item of the list, at the indentation `section` gives it.
fn write_item(out: &mut String, item: &ExternalSecretView) {
    let spec = &item.spec;
    field(out, "  - ", "name", item.name);
    field(out, "    ", "namespace", item.namespace);
    out.push_str("    annotations:\n");
    for (key, value) in &item.annotations {
        field(out, "      ", key, value);
    }
    out.push_str("    spec:\n");
    field(out, "      ", "refreshInterval", spec.refresh_interval);
    out.push_str("      secretStoreRef:\n");
    field(
        out,
        "        ",
        "kind",
        spec.secret_store_ref.kind.keyword(),
    );
    field(out, "        ", "name", spec.secret_store_ref.name);
    out.push_str("      target:\n");
    field(out, "        ", "name", spec.target.name);
    field(
        out,
        "        ",
        "creationPolicy",
        spec.target.creation_policy,
    );
    field(
        out,
        "        ",
        "deletionPolicy",
        spec.target.deletion_policy,
    );
    out.push_str("      data:\n");
    for DataEntry {
        secret_key,
        remote_ref,
    } in &spec.data
    {
        field(out, "        - ", "secretKey", secret_key);
        out.push_str("          remoteRef:\n");
        field(out, "            ", "key", remote_ref.key);
        field(out, "            ", "property", remote_ref.property);
        field(
            out,
            "            ",
            "conversionStrategy",
            remote_ref.conversion_strategy,
        );
        field(
            out,
            "            ",
            "decodingStrategy",
            remote_ref.decoding_strategy.keyword(),
        );
        field(
            out,
            "            ",
            "metadataPolicy",
            remote_ref.metadata_policy,
        );
    }
    if !spec.data_from.is_empty() {
        out.push_str("      dataFrom:\n");
        for DataFrom { extract } in &spec.data_from {
            out.push_str("        - extract:\n");
            field(out, "            ", "key", extract.key);
            field(
                out,
                "            ",
                "conversionStrategy",
                extract.conversion_strategy,
            );
            field(
                out,
                "            ",
                "decodingStrategy",
                extract.decoding_strategy.keyword(),
            );
            field(
                out,
                "            ",
                "metadataPolicy",
                extract.metadata_policy,
            );
        }
    }
}

/// `{lead}{key}: {value}` and a line break; `key` is plain (a field name, or checked by
/// `laid_out_by_hand`) and `value` short and on one line.
fn field(out: &mut String, lead: &str, key: &str, value: &str) {
    out.push_str(lead);
    out.push_str(key);
    out.push_str(": ");
    match is_plain(value) {
        true => out.push_str(value),
        // Quoted, or plain after all: serde-saphyr writes a short one-line string the same alone
        // as in a mapping.
        false => out.push_str(&to_yaml(&value).unwrap_or_default()),
    }
    out.push('\n');
}

/// serde-saphyr's text of a whole value, indented by two spaces, as `{{yaml value indent=2}}`
/// writes it under its section's name.
pub(super) fn indent_into(out: &mut String, text: &str) {
    for line in text.split('\n') {
        if !line.is_empty() {
            out.push_str("  ");
        }
        out.push_str(line);
        out.push('\n');
    }
}

fn is_short_line(s: &str) -> bool {
    s.len() <= LONGEST_UNFOLDED && !s.contains(['\n', '\r'])
}

/// Whether `s` is certainly written plain, as a key and as a value: a letter, then letters,
/// digits, `-`, `_`, `.` and `/` only, and none of the words YAML 1.1 reads as a boolean, null or
/// number. Anything else is left to serde-saphyr.
fn is_plain(s: &str) -> bool {
    const MISREAD: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
    ];
    s.len() <= LONGEST_UNFOLDED
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
        && !MISREAD.iter().any(|word| s.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// serde-saphyr's text of `value` under a key, against `field`'s.
    fn by_serde_saphyr(value: &str) -> String {
        let map = std::collections::BTreeMap::from([("key", value)]);
        format!("{}\n", to_yaml(&map).unwrap())
    }

    fn by_hand(value: &str) -> String {
        let mut out = String::new();
        field(&mut out, "", "key", value);
        out
    }

    #[test]
    fn every_short_string_is_written_as_serde_saphyr_writes_it() {
        for value in [
            "plain",
            "ameide/team-3/db-password",
            "Default",
            "None",
            "v2",
            "1h",
            "17",
            "0x1F",
            "1e3",
            "2024-01-01",
            "yes",
            "No",
            "ON",
            "null",
            "NaN",
            ".inf",
            "~",
            "",
            " lead",
            "trail ",
            "a: b",
            "a:b",
            "#x",
            "x #y",
            "{{ .password }}",
            "-",
            "-a",
            "?",
            "@x",
            "'q'",
            "\"q\"",
            "tab\there",
            "é",
            "a,b",
            "[a]",
            "*ref",
            "&anchor",
            "!tag",
            "%x",
            "<<",
            "=",
            "---",
            "...",
            "a\\b",
        ] {
            assert_eq!(by_hand(value), by_serde_saphyr(value), "{value:?}");
        }
    }

    #[test]
    fn string_maps_are_written_as_serde_saphyr_writes_them() {
        let long = "x".repeat(120);
        let long_words = "word ".repeat(30);
        let entries = [
            ("plain", "value"),
            ("agentsDbPassword", "agents-db-password"),
            ("on", "yes"),
            ("a key", "multi\nline\n"),
            ("long", long.as_str()),
            ("words", long_words.trim_end()),
            ("quoted", "17"),
            ("empty", ""),
        ];
        for map in [BTreeMap::new(), BTreeMap::from(entries)] {
            let mut by_hand = String::new();
            string_map(&mut by_hand, "fixtures", &map);
            let mut whole = "fixtures:\n".to_string();
            indent_into(&mut whole, &to_yaml(&map).unwrap());
            assert_eq!(by_hand, whole);
        }
    }

    #[test]
    fn only_plain_looking_strings_are_taken_for_plain() {
        for plain in ["a", "app-01", "x.y/z_w", "Base64URL"] {
            assert!(is_plain(plain), "{plain:?}");
        }
        for not_plain in [
            "",
            "1h",
            "-a",
            "y",
            "Off",
            "a b",
            "a:b",
            "é",
            &"a".repeat(81),
        ] {
            assert!(!is_plain(not_plain), "{not_plain:?}");
        }
    }
}
