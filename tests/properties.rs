//! Property tests: random valid catalogs compile cleanly, render deterministically and
//! independently of how their definitions are spread over files, survive `generate` + `check`,
//! and random damage to a valid catalog never panics the compiler or misplaces a diagnostic.
//!
//! - (a) `valid_catalogs_generate_then_check_clean` (and every YAML output parses)
//! - (b) `rendering_is_deterministic` (and the built-in writers give what the `.hbs` templates give)
//! - (c) `file_layout_does_not_change_outputs`
//! - (d) `mutated_catalogs_never_panic`
//! - (e) `values_round_trip_through_the_yaml_outputs` (fixture map and key map read back)
//! - (f) `accepted_outputs_generate_then_check_clean` (valid catalogs plus an `[outputs]` table)
//!
//! A generated catalog is built in two steps: proptest draws loose raw material (`RawPlan`,
//! shrinkable), and `assemble` turns it into a consistent `Plan` (unique names, unique aliases,
//! references resolved by index, every key read by some secret). `emit` then writes the plan as
//! TOML text, by hand, with a `Layout` saying which file holds which definition, in which order,
//! and in which textual style.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use heck::ToLowerCamelCase;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

use secretcat::diagnostics::{Code, Severity};
use secretcat::render::{Templates, render};
use secretcat::{Compiled, compile_sources, emit, report};

// ---------------------------------------------------------------------------------------------
// The plan: a valid catalog as data.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Store {
    name: String,
    mount: String,
    kind: Option<&'static str>,
    refresh_interval: Option<&'static str>,
    server: Option<String>,
    property: Option<String>,
}

#[derive(Debug, Clone)]
struct Env {
    name: String,
    fixtures: bool,
    description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Layer15,
    Integration,
    Chart,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Layer15 => "layer15",
            Kind::Integration => "integration",
            Kind::Chart => "chart",
        }
    }
}

#[derive(Debug, Clone)]
struct Bundle {
    name: String,
    kind: Kind,
    namespace: String,
    release: Option<String>,
    owner: Option<String>,
    description: Option<String>,
}

#[derive(Debug, Clone)]
enum Source {
    Fixture(String),
    Generate {
        length: u64,
        charset: Option<&'static str>,
    },
    External(String),
}

#[derive(Debug, Clone)]
struct Key {
    path: String,
    alias: Option<String>,
    owner: Option<String>,
    description: Option<String>,
    source: Source,
    min_length: Option<u64>,
    rotation: Option<String>,
}

#[derive(Debug, Clone)]
enum DataRef {
    Plain(String),
    /// `{ key, property = "value" }`
    Table(String),
}

#[derive(Debug, Clone)]
struct Consumer {
    name: String,
    via: &'static str,
    requires: Vec<String>,
}

#[derive(Debug, Clone)]
struct Secret {
    name: String,
    bundle: String,
    namespace: Option<String>,
    owner: Option<String>,
    description: Option<String>,
    secret_type: Option<&'static str>,
    refresh_interval: Option<&'static str>,
    environments: Option<Vec<String>>,
    data: Vec<(String, DataRef)>,
    consumers: Vec<Consumer>,
    rotation: Option<String>,
}

#[derive(Debug, Clone)]
struct Plan {
    store: Store,
    envs: Vec<Env>,
    bundles: Vec<Bundle>,
    keys: Vec<Key>,
    secrets: Vec<Secret>,
    /// `[outputs]` fields; empty (the defaults) except in the outputs property.
    outputs: Vec<(&'static str, String)>,
}

// ---------------------------------------------------------------------------------------------
// Raw material and strategies.
// ---------------------------------------------------------------------------------------------

const VIAS: &[&str] = &[
    "existingSecret",
    "existingSecrets",
    "extraSecretRefs",
    "envFrom",
    "secretKeyRef",
    "volume",
    "imagePullSecrets",
];
const DURATIONS: &[&str] = &["0", "30s", "1m", "1h", "1h30m", "1.5h", "100ms", "2µs"];
const CHARSETS: &[&str] = &["alphanumeric", "hex", "base64url"];
const SECRET_TYPES: &[&str] = &[
    "Opaque",
    "kubernetes.io/dockerconfigjson",
    "kubernetes.io/tls",
];

/// Strings a YAML 1.1 reader (Helm) would take for something other than a string, and other
/// texts YAML and TOML writers get wrong.
const TRICKY: &[&str] = &[
    "yes",
    "Yes",
    "YES",
    "no",
    "No",
    "NO",
    "y",
    "Y",
    "n",
    "N",
    "on",
    "On",
    "ON",
    "off",
    "Off",
    "OFF",
    "true",
    "True",
    "FALSE",
    "~",
    "null",
    "Null",
    "NULL",
    "0x1F",
    "0o17",
    "017",
    "0b101",
    "1_000",
    "+12",
    "-0",
    "1e3",
    "1.5",
    ".5",
    "6.8523015e+5",
    ".inf",
    "-.Inf",
    ".NaN",
    "12:30",
    "190:20:30",
    "1:2:3.5",
    "2024-01-01",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43",
    "<<",
    "=",
    "",
    " ",
    "  lead",
    "trail  ",
    "-",
    "- a",
    "? x",
    "a: b",
    "a #b",
    "#x",
    "&a",
    "*a",
    "!tag",
    "!!str x",
    "%YAML 1.1",
    "---",
    "...",
    "'",
    "\"",
    "''",
    "\"\"",
    "|",
    ">",
    "|-",
    "{}",
    "[]",
    "{a: 1}",
    "[a, b]",
    "@x",
    "`x`",
    ",",
    "\\",
    "\\n",
    "{{ .password }}",
    "{{x}}",
    "C1tr0n3lla!",
    "postgresql://u:p@h:5432/db?x=1&y=2",
    "line1\nline2",
    "a\r\nb",
    "\ttab",
    "trailing\n",
    "\n",
    "\u{0}",
    "\u{7f}",
    "\u{1b}[0m",
    "\u{85}",
    "\u{a0}",
    "\u{2028}",
    "\u{2029}",
    "\u{feff}x",
    "\u{200b}",
    "é",
    "😀",
    "\u{fffd}",
    "\u{e000}",
    "ünïcødé: ✓",
    "'''",
    "\"\"\"",
];

const TRICKY_CHARS: &[char] = &[
    '"', '\'', '\\', '\n', '\r', '\t', '\0', '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}', '\u{2029}',
    '\u{feff}', ':', '#', '-', '?', '|', '>', '!', '&', '*', '%', '@', '`', '{', '}', '[', ']',
    ',', ' ', '~', '\u{1b}', 'é', '😀', '\u{200b}', '\u{fffd}', '=', '.', '/', '$',
];

fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        3 => prop::sample::select(TRICKY_CHARS),
        4 => prop::char::range('a', 'z'),
    ]
}

/// Arbitrary text: tricky words, random characters, and the two combined.
fn text() -> impl Strategy<Value = String> {
    let chars = || prop::collection::vec(tricky_char(), 0..24).prop_map(String::from_iter);
    prop_oneof![
        3 => prop::sample::select(TRICKY).prop_map(str::to_string),
        3 => chars(),
        1 => (prop::sample::select(TRICKY), chars(), prop::sample::select(TRICKY))
            .prop_map(|(a, b, c)| format!("{a}{b}{c}")),
        1 => ".{0,40}",
    ]
}

fn label() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?"
}

fn subdomain() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?){0,2}"
}

fn simple_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9][a-zA-Z0-9._-]{0,12}"
}

fn vault_path() -> impl Strategy<Value = String> {
    // The first segment starts with a letter: the default alias (lowerCamelCase of the path)
    // must be a Helm identifier.
    (
        "[A-Za-z][A-Za-z0-9._-]{0,9}",
        prop::collection::vec("[A-Za-z0-9._-]{1,10}", 0..3),
    )
        .prop_map(|(first, rest)| std::iter::once(first).chain(rest).collect::<Vec<_>>())
        .prop_filter("no `.` or `..` segments", |segments| {
            segments.iter().all(|s| s != "." && s != "..")
        })
        .prop_map(|segments| segments.join("/"))
}

fn eso_key() -> impl Strategy<Value = String> {
    "[-._a-zA-Z0-9]{1,16}"
}

fn env_var() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_]{0,16}"
}

fn opt<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(0.4, s)
}

fn store() -> impl Strategy<Value = Store> {
    (
        subdomain(),
        vault_path(),
        opt(prop::sample::select(
            &["ClusterSecretStore", "SecretStore"][..],
        )),
        opt(prop::sample::select(DURATIONS)),
        opt(text()),
        // A store property other than `value` turns `{ property = "value" }` on a seeded key
        // into a `fixture-property` finding, which a valid catalog may have.
        prop::option::weighted(0.15, text().prop_filter("non-empty", |p| !p.is_empty())),
    )
        .prop_map(
            |(name, mount, kind, refresh_interval, server, property)| Store {
                name,
                mount,
                kind,
                refresh_interval,
                server,
                property,
            },
        )
}

fn env() -> impl Strategy<Value = Env> {
    (label(), any::<bool>(), opt(text())).prop_map(|(name, fixtures, description)| Env {
        name,
        fixtures,
        description,
    })
}

fn bundle() -> impl Strategy<Value = Bundle> {
    (
        label(),
        prop::sample::select(&[Kind::Layer15, Kind::Integration, Kind::Chart][..]),
        label(),
        any::<bool>(),
        opt(simple_name()),
        opt(text()),
    )
        .prop_map(
            |(name, kind, namespace, release, owner, description)| Bundle {
                release: release.then(|| format!("rel-{name}")),
                name,
                kind,
                namespace,
                owner,
                description,
            },
        )
}

fn source() -> impl Strategy<Value = Source> {
    prop_oneof![
        3 => text().prop_map(Source::Fixture),
        2 => (1u64..=64, opt(prop::sample::select(CHARSETS)))
            .prop_map(|(length, charset)| Source::Generate { length, charset }),
        1 => text().prop_map(Source::External),
    ]
}

fn key() -> impl Strategy<Value = Key> {
    (
        vault_path(),
        prop::option::weighted(0.2, "[a-zA-Z_][a-zA-Z0-9_]{0,12}"),
        opt(simple_name()),
        opt(text()),
        source(),
        prop::option::weighted(0.2, 1u64..=64),
        opt(text()),
    )
        .prop_map(
            |(path, alias, owner, description, source, min_length, rotation)| {
                // A generated value shorter than min_length is an error; keep it valid.
                let min_length = match (&source, min_length) {
                    (Source::Generate { length, .. }, Some(min)) => Some(min.min(*length)),
                    (_, min) => min,
                };
                Key {
                    path,
                    alias,
                    owner,
                    description,
                    source,
                    min_length,
                    rotation,
                }
            },
        )
}

#[derive(Debug, Clone)]
struct RawSecret {
    name: String,
    bundle: Index,
    namespace: Option<String>,
    owner: Option<String>,
    description: Option<String>,
    secret_type: Option<&'static str>,
    refresh_interval: Option<&'static str>,
    environments: Option<Vec<Index>>,
    /// (ESO data key, env-var data key, key, `{ key, property }` form)
    data: Vec<(String, String, Index, bool)>,
    /// (name, via, requires: one flag per data entry)
    consumers: Vec<(String, &'static str, Vec<bool>)>,
    rotation: Option<String>,
}

fn raw_secret() -> impl Strategy<Value = RawSecret> {
    (
        (
            subdomain(),
            any::<Index>(),
            prop::option::weighted(0.2, label()),
            opt(simple_name()),
            opt(text()),
            prop::option::weighted(0.15, prop::sample::select(SECRET_TYPES)),
            prop::option::weighted(0.2, prop::sample::select(DURATIONS)),
        ),
        (
            prop::option::weighted(0.25, prop::collection::vec(any::<Index>(), 1..3)),
            prop::collection::vec(
                (
                    eso_key(),
                    env_var(),
                    any::<Index>(),
                    prop::bool::weighted(0.3),
                ),
                1..5,
            ),
            prop::collection::vec(
                (
                    simple_name(),
                    prop::sample::select(VIAS),
                    prop::collection::vec(any::<bool>(), 6),
                ),
                0..3,
            ),
            opt(text()),
        ),
    )
        .prop_map(
            |(
                (name, bundle, namespace, owner, description, secret_type, refresh_interval),
                (environments, data, consumers, rotation),
            )| RawSecret {
                name,
                bundle,
                namespace,
                owner,
                description,
                secret_type,
                refresh_interval,
                environments,
                data,
                consumers,
                rotation,
            },
        )
}

#[derive(Debug, Clone)]
struct RawPlan {
    store: Store,
    envs: Vec<Env>,
    bundles: Vec<Bundle>,
    keys: Vec<Key>,
    secrets: Vec<RawSecret>,
}

fn raw_plan() -> impl Strategy<Value = RawPlan> {
    (
        store(),
        prop::collection::vec(env(), 1..=3),
        prop::collection::vec(bundle(), 1..=4),
        prop::collection::vec(key(), 1..=8),
        prop::collection::vec(raw_secret(), 1..=5),
    )
        .prop_map(|(store, envs, bundles, keys, secrets)| RawPlan {
            store,
            envs,
            bundles,
            keys,
            secrets,
        })
}

/// The default alias of a key, as the README documents it: lowerCamelCase of the path.
fn effective_alias(key: &Key) -> String {
    key.alias
        .clone()
        .unwrap_or_else(|| key.path.to_lower_camel_case())
}

/// Every output path of a set of bundles under the default `[outputs]`.
fn bundle_output(bundle: &Bundle) -> String {
    match bundle.kind {
        Kind::Layer15 => format!("vault-secrets-{}.yaml", bundle.name),
        Kind::Integration => format!(
            "{}.yaml",
            bundle.release.clone().unwrap_or(bundle.name.clone())
        ),
        Kind::Chart => format!("charts/{}/externalsecrets.yaml", bundle.name),
    }
}

/// Make the raw material consistent: drop later duplicates of every name, resolve indices, and
/// make every key read by some secret.
fn assemble(raw: RawPlan) -> Plan {
    let mut seen = BTreeSet::new();
    let envs: Vec<Env> = raw
        .envs
        .into_iter()
        .filter(|e| seen.insert(e.name.clone()))
        .collect();

    let mut names = BTreeSet::new();
    let mut outputs = BTreeSet::new();
    let bundles: Vec<Bundle> = raw
        .bundles
        .into_iter()
        .filter(|b| names.insert(b.name.clone()) && outputs.insert(bundle_output(b)))
        .collect();

    let mut paths = BTreeSet::new();
    let mut aliases = BTreeSet::new();
    let keys: Vec<Key> = raw
        .keys
        .into_iter()
        .filter(|k| paths.insert(k.path.clone()) && aliases.insert(effective_alias(k)))
        .collect();

    let mut seen = BTreeSet::new();
    let mut secrets: Vec<Secret> = raw
        .secrets
        .into_iter()
        .filter(|s| seen.insert(s.name.clone()))
        .map(|s| {
            let bundle = s.bundle.get(&bundles);
            let integration = bundle.kind == Kind::Integration;
            let mut data_keys = BTreeSet::new();
            let data: Vec<(String, DataRef)> = s
                .data
                .iter()
                .filter_map(|(eso, env, key, table)| {
                    let data_key = if integration { env } else { eso };
                    let path = key.get(&keys).path.clone();
                    data_keys.insert(data_key.clone()).then(|| {
                        let reference = if *table {
                            DataRef::Table(path)
                        } else {
                            DataRef::Plain(path)
                        };
                        (data_key.clone(), reference)
                    })
                })
                .collect();
            let consumers = s
                .consumers
                .iter()
                .map(|(name, via, mask)| Consumer {
                    name: name.clone(),
                    via,
                    requires: data
                        .iter()
                        .zip(mask)
                        .filter(|(_, pick)| **pick)
                        .map(|((k, _), _)| k.clone())
                        .collect(),
                })
                .collect();
            let environments = s.environments.as_ref().map(|picks| {
                picks
                    .iter()
                    .map(|i| i.get(&envs).name.clone())
                    .collect::<Vec<_>>()
            });
            Secret {
                name: s.name,
                bundle: bundle.name.clone(),
                namespace: s.namespace,
                owner: s.owner,
                description: s.description,
                secret_type: s.secret_type,
                refresh_interval: s.refresh_interval,
                environments,
                data,
                consumers,
                rotation: s.rotation,
            }
        })
        .collect();

    // Every key is read by some secret.
    let used: BTreeSet<String> = secrets
        .iter()
        .flat_map(|s| s.data.iter())
        .map(|(_, r)| match r {
            DataRef::Plain(p) | DataRef::Table(p) => p.clone(),
        })
        .collect();
    let count = secrets.len();
    for (i, key) in keys.iter().enumerate() {
        if used.contains(&key.path) {
            continue;
        }
        let secret = &mut secrets[i % count];
        let mut n = i;
        let data_key = loop {
            let candidate = format!("K_{n}");
            if secret.data.iter().all(|(k, _)| *k != candidate) {
                break candidate;
            }
            n += 100;
        };
        secret
            .data
            .push((data_key, DataRef::Plain(key.path.clone())));
    }

    Plan {
        store: raw.store,
        envs,
        bundles,
        keys,
        secrets,
        outputs: Vec::new(),
    }
}

fn plan() -> impl Strategy<Value = Plan> {
    raw_plan().prop_map(assemble)
}

/// `[outputs]` values: the usual spellings, other folders, and spellings that are relative and
/// inside the root but not normalised (`./`, `//`, a trailing `/`, a backslash, which is an
/// ordinary file name character on Unix), plus some that name the same file or folder twice.
const OUTPUT_FIELDS: &[(&str, &[&str])] = &[
    (
        "dir",
        &[
            "generated",
            "out",
            "deploy/generated",
            ".",
            "./",
            "./gen",
            "gen/",
            "gen//sub",
            "gen/./sub",
            "a b",
            "ünï",
        ],
    ),
    (
        "key_map",
        &[
            "vault-secrets.base.yaml",
            "keys.yaml",
            "maps/keys.yaml",
            "./keys.yaml",
            "maps//keys.yaml",
        ],
    ),
    (
        "layer15",
        &[
            "vault-secrets-{bundle}.yaml",
            "l15/{bundle}.yaml",
            "l15/{release}.yaml",
            "l15//{bundle}.yaml",
            "./l15-{bundle}.yaml",
            "l15\\{bundle}.yaml",
        ],
    ),
    (
        "integration",
        &[
            "{release}.yaml",
            "int/{release}.yaml",
            "int/{bundle}/{release}.yaml",
            "./int-{release}.yaml",
            "int\\{release}.yaml",
        ],
    ),
    (
        "chart",
        &[
            "charts/{bundle}/externalsecrets.yaml",
            "charts/{bundle}.yaml",
            "charts//{bundle}/es.yaml",
            "c/./{bundle}.yaml",
        ],
    ),
    (
        "fixtures",
        &[
            "foundation-vault-bootstrap.fixtures.yaml",
            "fixtures.yaml",
            "./fixtures.yaml",
            "maps",
            "./keys.yaml",
        ],
    ),
    (
        "schema",
        &[
            "catalog.schema.json",
            "schema/catalog.json",
            "./catalog.schema.json",
        ],
    ),
    (
        "docs",
        &[
            "SECRETS.md",
            "docs/SECRETS.md",
            "docs//SECRETS.md",
            "./SECRETS.md",
        ],
    ),
];

fn outputs() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    prop::collection::vec(
        prop::option::weighted(0.35, any::<Index>()),
        OUTPUT_FIELDS.len(),
    )
    .prop_map(|picks| {
        OUTPUT_FIELDS
            .iter()
            .zip(picks)
            .filter_map(|((field, values), pick)| pick.map(|i| (*field, i.get(values).to_string())))
            .collect()
    })
}

// ---------------------------------------------------------------------------------------------
// Writing a plan as TOML.
// ---------------------------------------------------------------------------------------------

/// A TOML basic string.
fn basic(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' || c == '\u{7f}' => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML string value: a literal string when the style asks for it and the text allows it.
fn tstr(s: &str, style: &Style) -> String {
    let literal_ok =
        !s.contains('\'') && s.chars().all(|c| c == '\t' || !(c < ' ' || c == '\u{7f}'));
    if style.literal_strings && literal_ok {
        format!("'{s}'")
    } else {
        basic(s)
    }
}

/// A TOML key: bare when possible.
fn tkey(s: &str) -> String {
    let bare = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { s.to_string() } else { basic(s) }
}

#[derive(Debug, Clone)]
struct Style {
    literal_strings: bool,
    inline_data: bool,
    dotted_generate: bool,
    schema_directive: bool,
    blank_lines: bool,
    /// Sort keys for the fields of a table (field groups are ordered by them).
    field_order: Vec<u8>,
}

fn style() -> impl Strategy<Value = Style> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 12),
    )
        .prop_map(
            |(
                literal_strings,
                inline_data,
                dotted_generate,
                schema_directive,
                blank_lines,
                field_order,
            )| Style {
                literal_strings,
                inline_data,
                dotted_generate,
                schema_directive,
                blank_lines,
                field_order,
            },
        )
}

/// A table: header plus field groups (each group one or more lines that stay together), the
/// groups ordered by the style.
fn table(header: String, groups: Vec<String>, style: &Style) -> String {
    let mut groups: Vec<(u8, usize, String)> = groups
        .into_iter()
        .enumerate()
        .map(|(i, g)| (style.field_order[i % style.field_order.len()], i, g))
        .collect();
    groups.sort();
    let mut out = format!("{header}\n");
    for (_, _, group) in groups {
        out.push_str(&group);
        out.push('\n');
    }
    out
}

fn push_opt(groups: &mut Vec<String>, field: &str, value: &Option<String>, style: &Style) {
    if let Some(value) = value {
        groups.push(format!("{field} = {}", tstr(value, style)));
    }
}

fn bundle_toml(b: &Bundle, style: &Style) -> String {
    let mut groups = vec![
        format!("kind = {}", tstr(b.kind.word(), style)),
        format!("namespace = {}", tstr(&b.namespace, style)),
    ];
    push_opt(&mut groups, "release", &b.release, style);
    push_opt(&mut groups, "owner", &b.owner, style);
    push_opt(&mut groups, "description", &b.description, style);
    table(format!("[bundles.{}]", tkey(&b.name)), groups, style)
}

fn key_toml(k: &Key, style: &Style) -> String {
    let mut groups = Vec::new();
    push_opt(&mut groups, "alias", &k.alias, style);
    push_opt(&mut groups, "owner", &k.owner, style);
    push_opt(&mut groups, "description", &k.description, style);
    match &k.source {
        Source::Fixture(value) => groups.push(format!("fixture = {}", tstr(value, style))),
        Source::External(from) => groups.push(format!("external = {}", tstr(from, style))),
        Source::Generate { length, charset } => {
            if style.dotted_generate {
                let mut lines = format!("generate.length = {length}");
                if let Some(charset) = charset {
                    lines.push_str(&format!("\ngenerate.charset = {}", tstr(charset, style)));
                }
                groups.push(lines);
            } else {
                let charset = charset
                    .map(|c| format!(", charset = {}", tstr(c, style)))
                    .unwrap_or_default();
                groups.push(format!("generate = {{ length = {length}{charset} }}"));
            }
        }
    }
    if let Some(min) = k.min_length {
        groups.push(format!("min_length = {min}"));
    }
    push_opt(&mut groups, "rotation", &k.rotation, style);
    table(format!("[keys.{}]", tkey(&k.path)), groups, style)
}

fn data_value(r: &DataRef, style: &Style) -> String {
    match r {
        DataRef::Plain(path) => tstr(path, style),
        DataRef::Table(path) => format!(
            "{{ key = {}, property = {} }}",
            tstr(path, style),
            tstr("value", style)
        ),
    }
}

fn list(items: &[String], style: &Style) -> String {
    let items: Vec<String> = items.iter().map(|i| tstr(i, style)).collect();
    format!("[{}]", items.join(", "))
}

fn secret_toml(s: &Secret, style: &Style) -> String {
    let mut groups = vec![format!("bundle = {}", tstr(&s.bundle, style))];
    push_opt(&mut groups, "namespace", &s.namespace, style);
    push_opt(&mut groups, "owner", &s.owner, style);
    push_opt(&mut groups, "description", &s.description, style);
    if let Some(t) = s.secret_type {
        groups.push(format!("type = {}", tstr(t, style)));
    }
    if let Some(r) = s.refresh_interval {
        groups.push(format!("refresh_interval = {}", tstr(r, style)));
    }
    if let Some(envs) = &s.environments {
        groups.push(format!("environments = {}", list(envs, style)));
    }
    if style.inline_data {
        let entries: Vec<String> = s
            .data
            .iter()
            .map(|(k, r)| format!("{} = {}", tkey(k), data_value(r, style)))
            .collect();
        groups.push(format!("data = {{ {} }}", entries.join(", ")));
    } else {
        let lines: Vec<String> = s
            .data
            .iter()
            .map(|(k, r)| format!("data.{} = {}", tkey(k), data_value(r, style)))
            .collect();
        groups.push(lines.join("\n"));
    }
    if !s.consumers.is_empty() {
        let consumers: Vec<String> = s
            .consumers
            .iter()
            .map(|c| {
                format!(
                    "  {{ name = {}, via = {}, requires = {} }},",
                    tstr(&c.name, style),
                    tstr(c.via, style),
                    list(&c.requires, style)
                )
            })
            .collect();
        groups.push(format!("consumers = [\n{}\n]", consumers.join("\n")));
    }
    push_opt(&mut groups, "rotation", &s.rotation, style);
    table(format!("[secrets.{}]", tkey(&s.name)), groups, style)
}

fn store_toml(s: &Store, style: &Style) -> String {
    let mut groups = vec![
        format!("name = {}", tstr(&s.name, style)),
        format!("mount = {}", tstr(&s.mount, style)),
    ];
    if let Some(kind) = s.kind {
        groups.push(format!("kind = {}", tstr(kind, style)));
    }
    if let Some(r) = s.refresh_interval {
        groups.push(format!("refresh_interval = {}", tstr(r, style)));
    }
    push_opt(&mut groups, "server", &s.server, style);
    push_opt(&mut groups, "property", &s.property, style);
    table("[store]".into(), groups, style)
}

fn env_toml(e: &Env, style: &Style) -> String {
    let mut groups = vec![format!("fixtures = {}", e.fixtures)];
    push_opt(&mut groups, "description", &e.description, style);
    table(format!("[environments.{}]", tkey(&e.name)), groups, style)
}

/// One definition that may live in any file.
#[derive(Debug, Clone, Copy)]
enum Item {
    Bundle(usize),
    Key(usize),
    Secret(usize),
}

/// Where each definition goes and how the files are written.
#[derive(Debug, Clone)]
struct Layout {
    /// Fragment file names (1-4, unique, none is `secretcat.toml`).
    fragments: Vec<String>,
    /// Bundles stay in secretcat.toml (the usual layout) or go anywhere.
    bundles_in_root: bool,
    /// Per definition: which file (0 = secretcat.toml when allowed) and a sort key.
    placement: Vec<(Index, u32)>,
    style: Style,
}

fn fragment_name() -> impl Strategy<Value = String> {
    "([a-z][a-z0-9_-]{0,6}/)?[a-z][a-z0-9_.-]{0,8}".prop_map(|n| format!("{n}.toml"))
}

fn layout(bundles_in_root: bool) -> impl Strategy<Value = Layout> {
    (
        prop::collection::btree_set(fragment_name(), 1..=4),
        prop::collection::vec((any::<Index>(), any::<u32>()), 20),
        style(),
    )
        .prop_filter_map(
            "fragments other than secretcat.toml",
            move |(names, placement, style)| {
                let fragments: Vec<String> = names
                    .into_iter()
                    .filter(|n| n != "secretcat.toml")
                    .collect();
                (!fragments.is_empty()).then_some(Layout {
                    fragments,
                    bundles_in_root,
                    placement,
                    style,
                })
            },
        )
}

fn items(plan: &Plan) -> Vec<Item> {
    (0..plan.bundles.len())
        .map(Item::Bundle)
        .chain((0..plan.keys.len()).map(Item::Key))
        .chain((0..plan.secrets.len()).map(Item::Secret))
        .collect()
}

/// The catalog files of a plan under a layout, as `compile_sources` takes them.
fn emit(plan: &Plan, layout: &Layout) -> Vec<(PathBuf, String)> {
    let style = &layout.style;
    // File 0 is secretcat.toml, 1.. the fragments.
    let mut files: Vec<Vec<(u32, usize, String)>> = vec![Vec::new(); layout.fragments.len() + 1];
    for (n, item) in items(plan).into_iter().enumerate() {
        let (index, order) = &layout.placement[n % layout.placement.len()];
        let order = order.wrapping_add(n as u32);
        let (file, text) = match item {
            Item::Bundle(i) if layout.bundles_in_root => (0, bundle_toml(&plan.bundles[i], style)),
            Item::Bundle(i) => (
                index.index(files.len()),
                bundle_toml(&plan.bundles[i], style),
            ),
            Item::Key(i) => (
                1 + index.index(layout.fragments.len()),
                key_toml(&plan.keys[i], style),
            ),
            Item::Secret(i) => (
                1 + index.index(layout.fragments.len()),
                secret_toml(&plan.secrets[i], style),
            ),
        };
        files[file].push((order, n, text));
    }
    let separator = if style.blank_lines { "\n" } else { "" };
    let mut sources = Vec::new();
    for (i, mut tables) in files.into_iter().enumerate() {
        tables.sort();
        let mut text = String::new();
        if style.schema_directive {
            let depth = if i == 0 {
                0
            } else {
                layout.fragments[i - 1].matches('/').count()
            };
            text.push_str(&format!(
                "#:schema {}../generated/catalog.schema.json\n# A generated catalog file.\n{separator}",
                "../".repeat(depth)
            ));
        }
        if i == 0 {
            text.push_str(&store_toml(&plan.store, style));
            if !plan.outputs.is_empty() {
                let groups = plan
                    .outputs
                    .iter()
                    .map(|(field, path)| format!("{field} = {}", tstr(path, style)))
                    .collect();
                text.push_str(separator);
                text.push_str(&table("[outputs]".into(), groups, style));
            }
            for env in &plan.envs {
                text.push_str(separator);
                text.push_str(&env_toml(env, style));
            }
        }
        for (_, _, table) in tables {
            text.push_str(separator);
            text.push_str(&table);
        }
        let path = if i == 0 {
            "secretcat.toml".to_string()
        } else {
            layout.fragments[i - 1].clone()
        };
        sources.push((PathBuf::from(path), text));
    }
    sources
}

// ---------------------------------------------------------------------------------------------
// Helpers over the library.
// ---------------------------------------------------------------------------------------------

/// Case counts are fixed here so that the whole file stays well under a minute in a debug
/// build on two cores. Failures are not persisted: a failing case is printed, shrunk, in full.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn show(compiled: &Compiled) -> String {
    compiled
        .diagnostics
        .iter()
        .map(|d| report::text(&compiled.files, d))
        .collect::<Vec<_>>()
        .join("\n")
}

fn show_sources(sources: &[(PathBuf, String)]) -> String {
    sources
        .iter()
        .map(|(p, t)| format!("=== {} ===\n{t}", p.display()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Compile and render a catalog that must be valid.
fn compile_valid(
    sources: &[(PathBuf, String)],
) -> Result<(Compiled, BTreeMap<String, String>), TestCaseError> {
    let compiled = compile_sources(sources.to_vec());
    prop_assert!(
        !compiled.has_errors(),
        "valid catalog did not compile:\n{}\n--- catalog ---\n{}",
        show(&compiled),
        show_sources(sources)
    );
    // Findings (mount-prefix, fixture-too-short, fixture-property, credential-like-fixture, ...)
    // are fair for a valid catalog; an unused-key warning is not, since every key is read.
    prop_assert!(
        !compiled
            .diagnostics
            .iter()
            .any(|d| d.code == Code::UnusedKey),
        "unused-key for a catalog whose keys are all read:\n{}\n--- catalog ---\n{}",
        show(&compiled),
        show_sources(sources)
    );
    let catalog = compiled.catalog.as_ref().unwrap();
    let rendered = render(catalog, &Templates::builtin(), &compiled.files);
    let files = match rendered {
        Ok(files) => files,
        Err(problems) => {
            let text: Vec<String> = problems
                .iter()
                .map(|d| report::text(&compiled.files, d))
                .collect();
            return Err(TestCaseError::fail(format!(
                "valid catalog did not render:\n{}\n--- catalog ---\n{}",
                text.join("\n"),
                show_sources(sources)
            )));
        }
    };
    Ok((compiled, files))
}

fn first_difference(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> String {
    let paths_a: Vec<_> = a.keys().collect();
    let paths_b: Vec<_> = b.keys().collect();
    if paths_a != paths_b {
        return format!("different paths: {paths_a:?} vs {paths_b:?}");
    }
    for (path, text) in a {
        let other = &b[path];
        if text != other {
            let line = text
                .lines()
                .zip(other.lines())
                .position(|(x, y)| x != y)
                .unwrap_or(0);
            return format!(
                "{path} differs at line {}:\n  {:?}\n  {:?}",
                line + 1,
                text.lines().nth(line),
                other.lines().nth(line)
            );
        }
    }
    String::new()
}

// ---------------------------------------------------------------------------------------------
// Mutations.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Mutation {
    DeleteBytes(Index, usize),
    InsertText(Index, String),
    ReplaceBytes(Index, usize, String),
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    ReplaceLine(Index, String),
    /// Keep the `name =` of an assignment line and give it another value.
    ReplaceValue(Index, String),
    Truncate(Index),
    /// A long run of one character (long lines are quoted through a window).
    InsertRun(Index, char, usize),
}

/// Fragments of catalog syntax and junk to splice in.
const SNIPPETS: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "\"",
    "'",
    "\"\"\"",
    "'''",
    "=",
    " = ",
    ".",
    ",",
    "{",
    "}",
    "#",
    "\n",
    "\r\n",
    "\\",
    "\\u",
    "\\uD800",
    "\\U0010FFFF",
    "\\x",
    "0",
    "-1",
    "1e999",
    "18446744073709551616",
    "true",
    "nan",
    "inf",
    "1979-05-27T07:32:00Z",
    "[keys.x]\nfixture = \"v\"\n",
    "[secrets.x]\nbundle = \"nope\"\ndata.A = \"nope\"\n",
    "[store]\n",
    "[environments.e]\n",
    "[bundles.b]\nkind = \"chart\"\nnamespace = \"n\"\n",
    "[outputs]\ndir = \"..\"\n",
    "[outputs]\ndocs = \"/abs\"\n",
    "[outputs]\nchart = \"x.yaml\"\n",
    "fixture",
    "generate",
    "external",
    "min_length = 0",
    "length = 0",
    "alias = \"x\"",
    "requires = [\"ZZ\"]",
    "consumers = [",
    "data.",
    "property = \"\"",
    "$schema = 1",
    "\u{feff}",
    "\u{0}",
    "é",
    "😀",
    "\t",
    "keys",
    "secrets",
    "bundles",
    "namespace",
    "bundle",
    "kind",
    "release",
    "template = { data = { A = \"{{ .x }}\" } }",
    "environments = [\"zz\"]",
    "refresh_interval = \"1d\"",
];

/// Values that parse as TOML but break a rule (type, name, reference, length, duration).
const VALUES: &[&str] = &[
    "\"\"",
    "\"A B\"",
    "\"zz\"",
    "0",
    "-1",
    "true",
    "1.5",
    "[]",
    "{}",
    "[\"a\"]",
    "[1]",
    "\"a//b\"",
    "\"/x\"",
    "\"x/\"",
    "\".\"",
    "\"..\"",
    "\"1d\"",
    "\"Layer15\"",
    "\"UPPER\"",
    "\"-a\"",
    "\"secret/x\"",
    "\"\\u0000\"",
    "\"é\"",
    "18446744073709551615",
    "{ length = 0 }",
    "{ length = 1, charset = \"octal\" }",
    "{ key = \"nope\" }",
    "{ key = \"\", property = \"\" }",
    "{ key = 1 }",
    "\"existingSecret\"",
    "[{ name = \"c\", via = \"envFrom\", requires = [\"NOPE\"] }]",
    "[{ name = \"bad name\", via = \"volume\" }]",
    "\"kubernetes.io/\"",
    "\"has space/x\"",
    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
    "1979-05-27",
];

fn splice() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(SNIPPETS).prop_map(str::to_string),
        2 => prop::collection::vec(tricky_char(), 1..6).prop_map(String::from_iter),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => (any::<Index>(), 1usize..16).prop_map(|(i, n)| Mutation::DeleteBytes(i, n)),
        2 => (any::<Index>(), splice()).prop_map(|(i, s)| Mutation::InsertText(i, s)),
        2 => (any::<Index>(), 1usize..8, splice()).prop_map(|(i, n, s)| Mutation::ReplaceBytes(i, n, s)),
        2 => any::<Index>().prop_map(Mutation::DeleteLine),
        2 => any::<Index>().prop_map(Mutation::DuplicateLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => (any::<Index>(), splice()).prop_map(|(i, s)| Mutation::ReplaceLine(i, s)),
        3 => (any::<Index>(), prop::sample::select(VALUES).prop_map(str::to_string))
            .prop_map(|(i, s)| Mutation::ReplaceValue(i, s)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), tricky_char(), 40usize..400)
            .prop_map(|(i, c, n)| Mutation::InsertRun(i, c, n)),
    ]
}

/// The nearest character boundary at or before `i`.
fn boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn position(text: &str, index: &Index) -> usize {
    boundary(text, index.index(text.len() + 1))
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let mut text = text.to_string();
    let lines = |t: &str| -> Vec<String> { t.split_inclusive('\n').map(str::to_string).collect() };
    match mutation {
        Mutation::DeleteBytes(at, n) => {
            let start = position(&text, at);
            let end = boundary(&text, start + n);
            text.replace_range(start..end, "");
        }
        Mutation::InsertText(at, s) => {
            let start = position(&text, at);
            text.insert_str(start, s);
        }
        Mutation::ReplaceBytes(at, n, s) => {
            let start = position(&text, at);
            let end = boundary(&text, start + n);
            text.replace_range(start..end, s);
        }
        Mutation::DeleteLine(at) | Mutation::DuplicateLine(at) | Mutation::ReplaceLine(at, _) => {
            let mut all = lines(&text);
            if !all.is_empty() {
                let i = at.index(all.len());
                match mutation {
                    Mutation::DeleteLine(_) => {
                        all.remove(i);
                    }
                    Mutation::DuplicateLine(_) => {
                        let line = all[i].clone();
                        let line = if line.ends_with('\n') {
                            line
                        } else {
                            format!("{line}\n")
                        };
                        all.insert(i, line);
                    }
                    Mutation::ReplaceLine(_, s) => all[i] = format!("{s}\n"),
                    _ => unreachable!(),
                }
            }
            text = all.concat();
        }
        Mutation::ReplaceValue(at, value) => {
            let mut all = lines(&text);
            let assignments: Vec<usize> = (0..all.len())
                .filter(|&i| !all[i].starts_with('#') && all[i].contains(" = "))
                .collect();
            if !assignments.is_empty() {
                let i = assignments[at.index(assignments.len())];
                let name = all[i].split(" = ").next().unwrap_or_default().to_string();
                all[i] = format!("{name} = {value}\n");
            }
            text = all.concat();
        }
        Mutation::SwapLines(a, b) => {
            let mut all = lines(&text);
            if !all.is_empty() {
                let (a, b) = (a.index(all.len()), b.index(all.len()));
                all.swap(a, b);
            }
            text = all.concat();
        }
        Mutation::InsertRun(at, c, n) => {
            let start = position(&text, at);
            text.insert_str(start, &c.to_string().repeat(*n));
        }
        Mutation::Truncate(at) => {
            let end = position(&text, at);
            text.truncate(end);
        }
    }
    text
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(non-string panic payload)".into())
}

/// What happened to a (possibly broken) catalog, or the violated expectation.
fn outcome_of(sources: Vec<(PathBuf, String)>) -> Result<String, String> {
    let compiled = compile_sources(sources);
    let mut problems = Vec::new();
    let mut rendered_diagnostics = Vec::new();
    for d in &compiled.diagnostics {
        rendered_diagnostics.push(report::text(&compiled.files, d));
        let _ = report::text_in(&compiled.files, d, report::Palette { enabled: true });
        for (which, label) in d
            .primary
            .iter()
            .map(|l| ("primary", l))
            .chain(d.secondary.iter().map(|l| ("secondary", l)))
        {
            let file = compiled.files.get(label.file);
            let span = &label.span;
            let inside = span.start <= span.end
                && span.end <= file.text.len()
                && file.text.is_char_boundary(span.start)
                && file.text.is_char_boundary(span.end);
            if !inside {
                problems.push(format!(
                    "{which} span {span:?} of [{}] `{}` is not within {} ({} bytes)",
                    d.code.name(),
                    d.message,
                    file.display,
                    file.text.len()
                ));
            }
        }
    }
    // The machine-readable reports must not panic either.
    let _ = report::json(&compiled.files, &compiled.diagnostics, &[]);
    let _ = report::github(&compiled.files, &compiled.diagnostics, &[]);
    if compiled.has_errors() {
        let errors = compiled
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        if errors == 0 {
            problems.push("has_errors() but no Error diagnostic explains why".into());
        }
    } else {
        let catalog = compiled.catalog.as_ref().unwrap();
        match render(catalog, &Templates::builtin(), &compiled.files) {
            Ok(_) => {}
            Err(diagnostics) => {
                for d in &diagnostics {
                    rendered_diagnostics.push(report::text(&compiled.files, d));
                    if d.code != Code::Template {
                        problems.push(format!(
                            "render failed with a non-template diagnostic: {}",
                            report::text(&compiled.files, d)
                        ));
                    }
                }
                if diagnostics.is_empty() {
                    problems.push("render failed without a diagnostic".into());
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(rendered_diagnostics.join("\n"))
    } else {
        Err(format!(
            "{}\n--- diagnostics ---\n{}",
            problems.join("\n"),
            rendered_diagnostics.join("\n")
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(48))]

    /// (a) A valid catalog compiles with no errors (findings are fair; an unused-key warning is
    /// not, every key being read) and renders; `generate` into an empty root, then `check`,
    /// finds no drift, and a second `generate` changes nothing.
    /// Compiling the same files from disk gives the same outputs as compiling them from memory.
    #[test]
    fn valid_catalogs_generate_then_check_clean(plan in plan(), layout in layout(true)) {
        let sources = emit(&plan, &layout);
        let (compiled, files) = compile_valid(&sources)?;
        let catalog = compiled.catalog.as_ref().unwrap();

        // The built-in templates' output is not parsed back on each run: it is here, for every
        // catalog the plan can draw (names, descriptions and values full of YAML's specials).
        for (path, text) in files.iter().filter(|(path, _)| path.ends_with(".yaml")) {
            let parsed = serde_saphyr::from_str::<serde::de::IgnoredAny>(text);
            prop_assert!(parsed.is_ok(), "{} is not YAML: {:?}\n{}", path, parsed.err(), text);
        }

        let root = tempfile::tempdir().unwrap();
        let written = emit::write(root.path(), &files, &catalog.outputs);
        let report = match written {
            Ok(report) => report,
            Err((_, error)) => {
                return Err(TestCaseError::fail(format!("generate failed: {}", error.message)));
            }
        };
        prop_assert_eq!(report.written.len(), files.len());
        prop_assert!(report.removed.is_empty() && report.untouched.is_empty());
        let drift = emit::compare(root.path(), &files, &catalog.outputs)
            .map_err(|e| TestCaseError::fail(e.message))?;
        prop_assert!(drift.is_empty(), "drift right after generate: {:?}", drift);

        // A second generate changes nothing.
        let again = emit::write(root.path(), &files, &catalog.outputs)
            .map_err(|(_, e)| TestCaseError::fail(e.message))?;
        prop_assert!(again.written.is_empty() && again.removed.is_empty());
        prop_assert_eq!(again.unchanged.len(), files.len());

        // The same catalog on disk, compiled like the CLI does.
        let catalog_dir = root.path().join("catalog");
        for (path, text) in &sources {
            let path = catalog_dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let from_disk = secretcat::compile(&catalog_dir, root.path());
        prop_assert!(!from_disk.has_errors(), "{}", show(&from_disk));
        let disk_files = render(from_disk.catalog.as_ref().unwrap(), &Templates::builtin(), &from_disk.files)
            .map_err(|_| TestCaseError::fail("catalog on disk did not render"))?;
        prop_assert!(disk_files == files, "disk vs memory: {}", first_difference(&disk_files, &files));
    }

    /// (b) Rendering is deterministic: twice from one compile, and once more from a fresh
    /// compile of the same text, give identical bytes.
    #[test]
    fn rendering_is_deterministic(plan in plan(), layout in layout(true)) {
        let sources = emit(&plan, &layout);
        let (compiled, first) = compile_valid(&sources)?;
        let catalog = compiled.catalog.as_ref().unwrap();
        let second = render(catalog, &Templates::builtin(), &compiled.files)
            .map_err(|_| TestCaseError::fail("second render failed"))?;
        prop_assert!(first == second, "render twice: {}", first_difference(&first, &second));
        let (_, third) = compile_valid(&sources)?;
        prop_assert!(first == third, "compile twice: {}", first_difference(&first, &third));
        // The built-in templates are written by Rust code: byte for byte what their `.hbs`
        // text gives through handlebars, which is what an override starts from.
        let interpreted = render(catalog, &Templates::interpreted(), &compiled.files)
            .map_err(|_| TestCaseError::fail("interpreted render failed"))?;
        prop_assert!(
            first == interpreted,
            "built-in writers vs templates: {}",
            first_difference(&interpreted, &first)
        );
    }

    /// (c) Where definitions live does not matter: other fragment names (and folders), another
    /// split of the same definitions over files (bundles included), another order of tables and
    /// fields, and another TOML spelling give byte-identical outputs.
    #[test]
    fn file_layout_does_not_change_outputs(
        plan in plan(),
        usual in layout(true),
        other in layout(false),
    ) {
        let a = emit(&plan, &usual);
        let b = emit(&plan, &other);
        let (_, files_a) = compile_valid(&a)?;
        let (_, files_b) = compile_valid(&b)?;
        prop_assert!(
            files_a == files_b,
            "{}\n--- layout A ---\n{}\n--- layout B ---\n{}",
            first_difference(&files_a, &files_b),
            show_sources(&a),
            show_sources(&b)
        );
    }
}

proptest! {
    #![proptest_config(config(384))]

    /// (d) Any damage to a valid catalog gives either a clean compile whose render succeeds or
    /// fails with template diagnostics, or a set of Error diagnostics; never a panic, and every
    /// diagnostic's spans lie within their file (on character boundaries).
    #[test]
    fn mutated_catalogs_never_panic(
        plan in plan(),
        layout in layout(true),
        target in any::<Index>(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut sources = emit(&plan, &layout);
        let file = target.index(sources.len());
        for mutation in &mutations {
            sources[file].1 = apply(&sources[file].1, mutation);
        }
        let shown = show_sources(&sources);
        let outcome = catch_unwind(AssertUnwindSafe(|| outcome_of(sources)));
        match outcome {
            Ok(Ok(_)) => {}
            Ok(Err(problem)) => {
                return Err(TestCaseError::fail(format!("{problem}\n--- catalog ---\n{shown}")));
            }
            Err(payload) => {
                return Err(TestCaseError::fail(format!(
                    "panic: {}\n--- catalog ---\n{shown}",
                    panic_message(payload)
                )));
            }
        }
    }
}

proptest! {
    #![proptest_config(config(32))]

    /// (e, beyond the brief) Values survive the trip into YAML: read back with a YAML parser,
    /// the fixture map holds every fixture literal (`__generate__` for generated keys, external
    /// keys absent) with its generate parameters, and the key map holds alias → path.
    #[test]
    fn values_round_trip_through_the_yaml_outputs(plan in plan(), layout in layout(true)) {
        let sources = emit(&plan, &layout);
        let (_, files) = compile_valid(&sources)?;
        let read = |path: &str| -> Result<serde_json::Value, TestCaseError> {
            let text = files.get(path).ok_or_else(|| TestCaseError::fail(format!("no {path}")))?;
            serde_saphyr::from_str(text)
                .map_err(|e| TestCaseError::fail(format!("{path} does not parse: {e}\n{text}")))
        };
        let mut fixtures = serde_json::Map::new();
        let mut generate = serde_json::Map::new();
        let mut keys = serde_json::Map::new();
        for key in &plan.keys {
            keys.insert(effective_alias(key), key.path.clone().into());
            match &key.source {
                Source::Fixture(value) => {
                    fixtures.insert(key.path.clone(), value.clone().into());
                }
                Source::Generate { length, charset } => {
                    fixtures.insert(key.path.clone(), "__generate__".into());
                    generate.insert(
                        key.path.clone(),
                        serde_json::json!({
                            "length": length,
                            "charset": charset.unwrap_or("alphanumeric"),
                        }),
                    );
                }
                Source::External(_) => {}
            }
        }
        // Each environment reads its own copy of a file where one exists, else the shared one.
        let envs: Vec<(Option<&str>, bool)> = if plan.envs.is_empty() {
            vec![(None, true)]
        } else {
            plan.envs.iter().map(|e| (Some(e.name.as_str()), e.fixtures)).collect()
        };
        let read_in = |env: Option<&str>, path: &str| match env {
            Some(env) if files.contains_key(&format!("generated/{env}/{path}")) => {
                read(&format!("generated/{env}/{path}"))
            }
            _ => read(&format!("generated/{path}")),
        };
        let nothing = serde_json::Value::Object(serde_json::Map::new());
        for (env, seeds) in envs {
            let fixture_file = read_in(env, "foundation-vault-bootstrap.fixtures.yaml")?;
            let (fixtures, generate) = if seeds {
                (serde_json::Value::Object(fixtures.clone()), serde_json::Value::Object(generate.clone()))
            } else {
                (nothing.clone(), nothing.clone())
            };
            prop_assert_eq!(&fixture_file["fixtures"], &fixtures, "environment {:?}", env);
            prop_assert_eq!(&fixture_file["generate"], &generate, "environment {:?}", env);
            let key_map = read_in(env, "vault-secrets.base.yaml")?;
            prop_assert_eq!(&key_map["keys"], &serde_json::Value::Object(keys.clone()));
            let server = plan.store.server.clone().map_or(serde_json::Value::Null, Into::into);
            prop_assert_eq!(&key_map["store"]["server"], &server);
            for bundle in &plan.bundles {
                let file = read_in(env, &bundle_output(bundle))?;
                let description = bundle.description.clone().map_or(serde_json::Value::Null, Into::into);
                prop_assert_eq!(&file["bundle"]["description"], &description);
            }
        }
    }
}

proptest! {
    #![proptest_config(config(48))]

    /// (f, beyond the brief) Any `[outputs]` the compiler accepts can be generated: `generate`
    /// into an empty root succeeds, `check` right after finds no drift, and a second `generate`
    /// changes nothing. (Outputs the compiler refuses must be refused as invalid-output-path.)
    #[test]
    fn accepted_outputs_generate_then_check_clean(
        plan in plan(),
        outputs in outputs(),
        layout in layout(true),
    ) {
        let plan = Plan { outputs, ..plan };
        let sources = emit(&plan, &layout);
        let compiled = compile_sources(sources.clone());
        if compiled.has_errors() {
            let other: Vec<_> = compiled
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error && d.code != Code::InvalidOutputPath)
                .collect();
            prop_assert!(other.is_empty(), "{}\n--- catalog ---\n{}", show(&compiled), show_sources(&sources));
            return Ok(());
        }
        let (compiled, files) = compile_valid(&sources)?;
        let catalog = compiled.catalog.as_ref().unwrap();
        let root = tempfile::tempdir().unwrap();
        let context = || format!("outputs {:?}\nfiles {:?}", plan.outputs, files.keys().collect::<Vec<_>>());
        if let Err((report, error)) = emit::write(root.path(), &files, &catalog.outputs) {
            return Err(TestCaseError::fail(format!(
                "generate failed: {}\n{report:?}\n{}", error.message, context()
            )));
        }
        let drift = emit::compare(root.path(), &files, &catalog.outputs)
            .map_err(|e| TestCaseError::fail(format!("check failed: {}\n{}", e.message, context())))?;
        prop_assert!(drift.is_empty(), "drift right after generate: {:?}\n{}", drift, context());
        match emit::write(root.path(), &files, &catalog.outputs) {
            Ok(again) => prop_assert!(
                again.written.is_empty() && again.removed.is_empty(),
                "second generate changed files: {:?}\n{}", again, context()
            ),
            Err((report, error)) => {
                return Err(TestCaseError::fail(format!(
                    "second generate failed: {}\n{report:?}\n{}", error.message, context()
                )));
            }
        }
    }
}
