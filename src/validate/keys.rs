//! Validation of `[keys.*]`: paths, aliases, exactly one value source, lengths.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use heck::ToLowerCamelCase;

use super::{Ctx, names};
use crate::diagnostics::Diagnostic;
use crate::load::Def;
use crate::load::defs::Defs;
use crate::load::raw::{Charset, RawGenerate, RawKey};
use crate::load::spanned::Spanned;
use crate::model::{Environment, Key, KeyOverride, NameMap, Origin, Store, ValueSource};

pub(super) fn compile(
    ctx: &mut Ctx,
    raw: Defs<RawKey>,
    store: &Store,
    environments: &BTreeMap<String, Environment>,
) -> NameMap<Key> {
    let seeding: Vec<&str> = environments
        .values()
        .filter(|e| e.fixtures)
        .map(|e| e.name.as_str())
        .collect();
    let (declared_environments, declared_owners) = (ctx.environments, ctx.owners);
    let count = raw.len();
    // Keys are compiled on every core, each with its own findings; only aliases, unique across
    // the catalog, are then checked one key after another in the catalog's order, and the
    // findings are reported in the order one pass would have.
    let compiled = crate::parallel::map_owned(raw, |(path, def)| {
        let mut findings = Findings::default();
        let key = compile_one(
            &mut findings,
            declared_environments,
            declared_owners,
            (path, def),
            store,
            &seeding,
        );
        (key, findings)
    });
    let mut keys = Vec::with_capacity(count);
    // Alias → (key path, file, span) of its first holder, to report both sides of a clash.
    let mut aliases: HashMap<String, (String, Origin, bool)> = HashMap::with_capacity(count);
    for ((key, alias), findings) in compiled {
        ctx.diagnostics.extend(findings.before_alias);
        check_alias(ctx, &mut aliases, &key, alias);
        ctx.diagnostics.extend(findings.after_alias);
        keys.push((key.path.clone(), key));
    }
    keys.into_iter().collect()
}

/// One key's findings, split where the alias clash check (which needs every key before it) goes.
#[derive(Default)]
struct Findings {
    before_alias: Vec<Diagnostic>,
    after_alias: Vec<Diagnostic>,
}

/// A key's alias as written or derived: where it stands, and whether the user wrote it.
struct AliasAt {
    span: Range<usize>,
    explicit: bool,
}

/// Report `key`'s alias when an earlier key holds it already, or record it as held.
fn check_alias(
    ctx: &mut Ctx,
    aliases: &mut HashMap<String, (String, Origin, bool)>,
    key: &Key,
    alias: AliasAt,
) {
    let (file, path, explicit) = (key.origin.file, &key.path, alias.explicit);
    match aliases.get(&key.alias) {
        Some((first, first_origin, first_explicit)) => {
            let label = |explicit: bool| {
                if explicit {
                    "alias set here"
                } else {
                    "default alias of this key"
                }
            };
            let here = Origin {
                file,
                span: alias.span,
            };
            // Point first at an alias the user wrote, then at the other holder.
            let (primary, secondary) = if *first_explicit && !explicit {
                ((first_origin.clone(), label(true)), (here, label(false)))
            } else {
                (
                    (here, label(explicit)),
                    (first_origin.clone(), label(*first_explicit)),
                )
            };
            ctx.push(
                Diagnostic::duplicate_alias(&key.alias, first, path)
                    .at(primary.0.file, primary.0.span, primary.1)
                    .also(secondary.0.file, secondary.0.span, secondary.1),
            );
        }
        None => {
            aliases.insert(
                key.alias.clone(),
                (
                    path.clone(),
                    Origin {
                        file,
                        span: alias.span,
                    },
                    explicit,
                ),
            );
        }
    }
}

/// Compile one key, its findings into `findings`: everything but the alias clash check.
fn compile_one(
    findings: &mut Findings,
    declared_environments: &[String],
    declared_owners: &[String],
    (path, def): (String, Def<RawKey>),
    store: &Store,
    seeding: &[&str],
) -> (Key, AliasAt) {
    let ctx = &mut Ctx {
        diagnostics: &mut findings.before_alias,
        environments: declared_environments,
        owners: declared_owners,
    };
    let file = def.file;
    let name = Spanned::new(path.clone(), def.name_span.clone());
    ctx.check_name("key path", file, &name, |n: &str| names::vault_path(n));
    if path.starts_with(&format!("{}/", store.mount)) {
        ctx.push(Diagnostic::mount_prefix(&path, &store.mount).at(
            file,
            name.span.clone(),
            "read as a path below the mount",
        ));
    }
    let raw = def.value.value;
    let alias = match &raw.alias {
        Some(alias) => {
            ctx.check_name("alias", file, alias, |n: &str| names::alias(n));
            alias.clone()
        }
        None => {
            let alias = Spanned::new(default_alias(&path), name.span.clone());
            if let Some(rule) = names::alias(&alias) {
                ctx.push(
                    Diagnostic::invalid_name("default alias", &alias, &rule)
                        .at(file, name.span.clone(), "derived from this path")
                        .help("set `alias = \"...\"` on this key"),
                );
            }
            alias
        }
    };
    let origin = Origin {
        file,
        span: def.name_span.clone(),
    };
    let alias_at = AliasAt {
        span: alias.span.clone(),
        explicit: raw.alias.is_some(),
    };
    let ctx = &mut Ctx {
        diagnostics: &mut findings.after_alias,
        environments: declared_environments,
        owners: declared_owners,
    };
    if let Some(owner) = &raw.owner {
        ctx.check_owner(&format!("key `{path}` is owned by"), file, owner);
    }
    let base = Sources {
        fixture: &raw.fixture,
        generate: &raw.generate,
        external: &raw.external,
    };
    let given = given_source(ctx, &path, file, &base);
    let source_origin = given.as_ref().map(|(_, span)| Origin {
        file,
        span: span.clone(),
    });
    let base_source = given.map(|(source, _)| source);
    let mut overrides = crate::model::NameMap::default();
    let subject = format!("key `{path}` overrides");
    for (env, table) in &raw.overrides {
        if !ctx.check_environment(&subject, file, env) {
            continue;
        }
        let sources = Sources {
            fixture: &table.value.fixture,
            generate: &table.value.generate,
            external: &table.value.external,
        };
        let source = given_source(ctx, &path, file, &sources);
        let effective = source.as_ref().map(|(s, _)| s).or(base_source.as_ref());
        check_required(
            ctx,
            &path,
            Some(env),
            file,
            &table.value.required,
            effective,
        );
        overrides.insert(
            env.value.clone(),
            KeyOverride {
                source_origin: source.as_ref().map(|(_, span)| Origin {
                    file,
                    span: span.clone(),
                }),
                source: source.map(|(source, _)| source),
                required: table.value.required.as_ref().map(|r| r.value),
                origin: Origin {
                    file,
                    span: env.span.clone(),
                },
            },
        );
    }
    check_required(ctx, &path, None, file, &raw.required, base_source.as_ref());
    let source = match base_source {
        Some(source) => source,
        None => {
            let uncovered: Vec<&str> = seeding
                .iter()
                .copied()
                .filter(|env| overrides.get(env).is_none_or(|o| o.source.is_none()))
                .collect();
            if !uncovered.is_empty() {
                ctx.push(Diagnostic::missing_value_source(&path, &uncovered).at(
                    file,
                    name.span.clone(),
                    "no fixture, generate or external",
                ));
            }
            ValueSource::External(None)
        }
    };
    let allowed = raw
        .allow_credential_like
        .as_ref()
        .is_some_and(|reason| !reason.trim().is_empty());
    let min_length = raw.min_length.as_ref().map(|m| m.value);
    if let Some(min) = &raw.min_length
        && min.value == 0
    {
        ctx.push(
            Diagnostic::invalid_length(&path, "min_length must be at least 1")
                .help("remove `min_length`, or set it to the shortest value the consumer accepts")
                .at(file, min.span.clone(), ""),
        );
    }
    let fixtures = std::iter::once(&raw.fixture)
        .chain(raw.overrides.values().map(|o| &o.value.fixture))
        .flatten();
    for fixture in fixtures {
        if !allowed && let Some(kind) = super::credentials::looks_like_credential(fixture) {
            let mut diagnostic = Diagnostic::credential_like_fixture(&path, kind)
                .at(file, fixture.span.clone(), "committed to git")
                .redact(kind);
            if let Some(reason) = &raw.allow_credential_like {
                diagnostic =
                    diagnostic.also(file, reason.span.clone(), "an empty reason does not count");
            }
            ctx.push(diagnostic);
        }
        if let Some(min) = raw.min_length.as_ref().filter(|m| m.value > 0)
            && (fixture.chars().count() as u64) < min.value
        {
            ctx.push(
                Diagnostic::fixture_too_short(&path, fixture.chars().count(), min.value)
                    .at(file, fixture.span.clone(), "")
                    .also(file, min.span.clone(), "min_length set here"),
            );
        }
    }
    let generators = std::iter::once(&raw.generate)
        .chain(raw.overrides.values().map(|o| &o.value.generate))
        .flatten();
    for generate in generators {
        let length = generate.value.length.value;
        if let Some(min) = raw.min_length.as_ref().filter(|m| m.value > 0)
            && length > 0
            && length < min.value
        {
            ctx.push(
                Diagnostic::invalid_length(
                    &path,
                    &format!(
                        "generates {length} characters, below its min_length of {}",
                        min.value
                    ),
                )
                .help(format!("raise `length` to at least {}", min.value))
                .at(file, generate.value.length.span.clone(), "")
                .also(file, min.span.clone(), "min_length set here"),
            )
        }
    }
    let key = Key {
        path,
        alias: alias.value,
        owner: raw.owner.map(|o| o.value),
        description: raw.description,
        source,
        min_length,
        rotation: raw.rotation,
        required: raw.required.is_some_and(|r| r.value),
        credential_like_allowed: allowed,
        overrides,
        source_origin,
        used_by: Vec::new(),
        origin,
    };
    (key, alias_at)
}

/// The alias a key without `alias = "..."` gets: its path in lowerCamelCase, as heck spells it.
/// Nearly every path is lower-case ASCII words between `-`, `_`, `.` and `/`, whose words are
/// plain to see; heck, which also splits words at case changes, takes the rest.
fn default_alias(path: &str) -> String {
    let simple = path.bytes().all(|b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.' | b'/')
    });
    if !simple {
        return path.to_lower_camel_case();
    }
    let mut alias = String::with_capacity(path.len());
    let words = path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty());
    for (i, word) in words.enumerate() {
        match i {
            0 => alias.push_str(word),
            _ => {
                alias.push(word.as_bytes()[0].to_ascii_uppercase() as char);
                alias.push_str(&word[1..]);
            }
        }
    }
    alias
}

/// The value-source fields of a key table or of one of its overrides.
struct Sources<'a> {
    fixture: &'a Option<Spanned<String>>,
    generate: &'a Option<Spanned<RawGenerate>>,
    external: &'a Option<Spanned<String>>,
}

/// The source a table gives, with its span; conflicting sources and zero lengths are reported.
fn given_source(
    ctx: &mut Ctx,
    path: &str,
    file: crate::source::FileId,
    sources: &Sources,
) -> Option<(ValueSource, Range<usize>)> {
    let mut given = Vec::new();
    if let Some(fixture) = sources.fixture {
        given.push(("fixture", fixture.span.clone()));
    }
    if let Some(generate) = sources.generate {
        given.push(("generate", generate.span.clone()));
    }
    if let Some(external) = sources.external {
        given.push(("external", external.span.clone()));
    }
    if given.len() > 1 {
        let kinds: Vec<&str> = given.iter().map(|(kind, _)| *kind).collect();
        let mut diagnostic = Diagnostic::conflicting_value_sources(path, &kinds).at(
            file,
            given[1].1.clone(),
            "second value source",
        );
        for (kind, span) in given.iter().take(1).chain(given.iter().skip(2)) {
            diagnostic = diagnostic.also(file, span.clone(), format!("`{kind}` given here"));
        }
        ctx.push(diagnostic);
    }
    if let Some(generate) = sources.generate
        && generate.value.length.value == 0
    {
        ctx.push(
            Diagnostic::invalid_length(path, "generate length must be at least 1")
                .help(
                    "give the number of characters to generate, e.g. `generate = { length = 32 }`",
                )
                .at(file, generate.value.length.span.clone(), ""),
        );
    }
    match (sources.fixture, sources.generate, sources.external) {
        (Some(fixture), _, _) => Some((
            ValueSource::Fixture(fixture.value.clone()),
            fixture.span.clone(),
        )),
        (None, Some(generate), _) => Some((
            ValueSource::Generate {
                length: generate.value.length.value,
                charset: generate.value.charset.unwrap_or(Charset::Alphanumeric),
            },
            generate.span.clone(),
        )),
        (None, None, Some(external)) => Some((
            ValueSource::External(Some(external.value.clone())),
            external.span.clone(),
        )),
        (None, None, None) => None,
    }
}

/// `required = true` promises a real value, which only an external source can.
fn check_required(
    ctx: &mut Ctx,
    path: &str,
    env: Option<&Spanned<String>>,
    file: crate::source::FileId,
    required: &Option<Spanned<bool>>,
    source: Option<&ValueSource>,
) {
    let Some(required) = required.as_ref().filter(|r| r.value) else {
        return;
    };
    if let Some(kind) = source.and_then(source_kind) {
        ctx.push(
            Diagnostic::required_not_external(path, env.map(|e| e.value.as_str()), kind).at(
                file,
                required.span.clone(),
                "",
            ),
        );
    }
}

fn source_kind(source: &ValueSource) -> Option<&'static str> {
    match source {
        ValueSource::Fixture(_) => Some("a fixture"),
        ValueSource::Generate { .. } => Some("generated"),
        ValueSource::External(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::default_alias;
    use heck::ToLowerCamelCase;
    use proptest::prelude::*;

    #[test]
    fn default_aliases_of_common_paths() {
        for (path, alias) in [
            ("agents-db-password", "agentsDbPassword"),
            (
                "team-019/app-009998/database-password",
                "team019App009998DatabasePassword",
            ),
            ("minio_root.user", "minioRootUser"),
            ("/lead//double--", "leadDouble"),
            ("9lives", "9lives"),
            ("GitHub-Token", "gitHubToken"),
            ("ключ-api", "ключApi"),
        ] {
            assert_eq!(default_alias(path), alias, "{path}");
        }
    }

    proptest! {
        #[test]
        fn default_alias_is_heck_lower_camel_case(path in "[a-zA-Z0-9/._ -]{0,40}") {
            prop_assert_eq!(default_alias(&path), path.to_lower_camel_case());
        }
    }
}
