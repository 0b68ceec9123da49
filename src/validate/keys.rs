//! Validation of `[keys.*]`: paths, aliases, exactly one value source, lengths.

use std::collections::BTreeMap;

use heck::ToLowerCamelCase;

use super::{Ctx, names};
use crate::diagnostics::Diagnostic;
use crate::load::Def;
use crate::load::raw::{Charset, RawKey};
use crate::load::spanned::Spanned;
use crate::model::{Environment, Key, Origin, Store, ValueSource};

pub(super) fn compile(
    ctx: &mut Ctx,
    raw: BTreeMap<String, Def<RawKey>>,
    store: &Store,
    environments: &BTreeMap<String, Environment>,
) -> BTreeMap<String, Key> {
    let seeding: Vec<&str> = environments
        .values()
        .filter(|e| e.fixtures)
        .map(|e| e.name.as_str())
        .collect();
    let mut keys = BTreeMap::new();
    // Alias → (key path, file, span) of its first holder, to report both sides of a clash.
    let mut aliases: BTreeMap<String, (String, Origin, bool)> = BTreeMap::new();
    for (path, def) in raw {
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
                let alias = Spanned::new(path.to_lower_camel_case(), name.span.clone());
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
        let explicit = raw.alias.is_some();
        match aliases.get(&alias.value) {
            Some((first, first_origin, first_explicit)) => {
                let label = |explicit: bool| {
                    if explicit {
                        "alias set here"
                    } else {
                        "default alias of this key"
                    }
                };
                // Point first at an alias the user wrote, then at the other holder.
                let (primary, secondary) = if *first_explicit && !explicit {
                    (
                        (first_origin.clone(), label(true)),
                        (
                            Origin {
                                file,
                                span: alias.span.clone(),
                            },
                            label(false),
                        ),
                    )
                } else {
                    (
                        (
                            Origin {
                                file,
                                span: alias.span.clone(),
                            },
                            label(explicit),
                        ),
                        (first_origin.clone(), label(*first_explicit)),
                    )
                };
                ctx.push(
                    Diagnostic::duplicate_alias(&alias.value, first, &path)
                        .at(primary.0.file, primary.0.span, primary.1)
                        .also(secondary.0.file, secondary.0.span, secondary.1),
                );
            }
            None => {
                aliases.insert(
                    alias.value.clone(),
                    (
                        path.clone(),
                        Origin {
                            file,
                            span: alias.span.clone(),
                        },
                        explicit,
                    ),
                );
            }
        }
        if let Some(owner) = &raw.owner {
            ctx.check_name("owner", file, owner, |n: &str| names::simple_name(n));
        }
        let source = value_source(ctx, &path, &name, file, &raw, &seeding);
        let allowed = raw
            .allow_credential_like
            .as_ref()
            .is_some_and(|reason| !reason.trim().is_empty());
        if let (Some(fixture), false) = (&raw.fixture, allowed)
            && let Some(kind) = super::credentials::looks_like_credential(fixture)
        {
            let mut diagnostic = Diagnostic::credential_like_fixture(&path, kind).at(
                file,
                fixture.span.clone(),
                "committed to git",
            );
            if let Some(reason) = &raw.allow_credential_like {
                diagnostic =
                    diagnostic.also(file, reason.span.clone(), "an empty reason does not count");
            }
            ctx.push(diagnostic);
        }
        let min_length = raw.min_length.as_ref().map(|m| m.value);
        if let Some(min) = &raw.min_length {
            if min.value == 0 {
                ctx.push(
                    Diagnostic::invalid_length(&path, "min_length must be at least 1")
                    .help("remove `min_length`, or set it to the shortest value the consumer accepts")
                    .at(
                        file,
                        min.span.clone(),
                        "",
                    ),
                );
            }
            match (&source, &raw.generate, &raw.fixture) {
                (ValueSource::Generate { length, .. }, Some(generate), _)
                    if *length < min.value =>
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
                        .also(
                            file,
                            min.span.clone(),
                            "min_length set here",
                        ),
                    )
                }
                (ValueSource::Fixture(value), _, Some(fixture))
                    if (value.chars().count() as u64) < min.value =>
                {
                    ctx.push(
                        Diagnostic::fixture_too_short(&path, value.chars().count(), min.value)
                            .at(file, fixture.span.clone(), "")
                            .also(file, min.span.clone(), "min_length set here"),
                    )
                }
                _ => {}
            }
        }
        keys.insert(
            path.clone(),
            Key {
                path,
                alias: alias.value,
                owner: raw.owner.map(|o| o.value),
                description: raw.description,
                source,
                min_length,
                rotation: raw.rotation,
                used_by: Vec::new(),
                origin,
            },
        );
    }
    keys
}

fn value_source(
    ctx: &mut Ctx,
    path: &str,
    name: &Spanned<String>,
    file: crate::source::FileId,
    raw: &RawKey,
    seeding: &[&str],
) -> ValueSource {
    let mut given = Vec::new();
    if let Some(fixture) = &raw.fixture {
        given.push(("fixture", fixture.span.clone()));
    }
    if let Some(generate) = &raw.generate {
        given.push(("generate", generate.span.clone()));
    }
    if let Some(external) = &raw.external {
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
    if let Some(generate) = &raw.generate
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
    match (&raw.fixture, &raw.generate, &raw.external) {
        (Some(fixture), _, _) => ValueSource::Fixture(fixture.value.clone()),
        (None, Some(generate), _) => ValueSource::Generate {
            length: generate.value.length.value,
            charset: generate.value.charset.unwrap_or(Charset::Alphanumeric),
        },
        (None, None, Some(external)) => ValueSource::External(Some(external.value.clone())),
        (None, None, None) => {
            if !seeding.is_empty() {
                ctx.push(Diagnostic::missing_value_source(path, seeding).at(
                    file,
                    name.span.clone(),
                    "no fixture, generate or external",
                ));
            }
            ValueSource::External(None)
        }
    }
}
