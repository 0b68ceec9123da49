//! Validation of `[secrets.*]`: bundle, environments, names, data references, template,
//! consumers, and unique targets per namespace.

use std::collections::BTreeMap;

use super::{Ctx, names};
use crate::diagnostics::Diagnostic;
use crate::load::defs::Defs;
use crate::load::raw::{
    BundleKind, DecodingStrategy, EngineVersion, MergePolicy, RawDataRef, RawSecret,
};
use crate::load::spanned::Spanned;
use crate::model::{Bundle, Consumer, DataRef, Key, NameMap, Origin, Secret, Store, Template};
use crate::suggest::{Index, closest};

pub(super) fn compile(
    ctx: &mut Ctx,
    raw: Defs<RawSecret>,
    store: &Store,
    bundles: &BTreeMap<String, Bundle>,
    keys: &NameMap<Key>,
) -> NameMap<Secret> {
    let (declared_environments, declared_owners) = (ctx.environments, ctx.owners);
    // Secrets are compiled on every core, each with its own findings; only targets, unique per
    // namespace across the catalog, and the suggestions for unknown names are then done one
    // secret after another.
    let count = raw.len();
    let compiled = crate::parallel::map_owned(raw, |(name, def)| {
        let mut findings = Vec::new();
        let mut pending = Vec::new();
        let ctx = &mut Ctx {
            diagnostics: &mut findings,
            environments: declared_environments,
            owners: declared_owners,
        };
        let file = def.file;
        let origin = Origin {
            file,
            span: def.name_span.clone(),
        };
        let raw = def.value.value;
        let target_span = raw
            .target
            .as_ref()
            .map_or(origin.span.clone(), |t| t.span.clone());
        let es_span = raw
            .external_secret
            .as_ref()
            .map_or(origin.span.clone(), |e| e.span.clone());
        let secret = compile_one(ctx, &mut pending, &name, &origin, raw, store, bundles, keys);
        (
            name,
            origin,
            [target_span, es_span],
            secret,
            (findings, pending),
        )
    });
    // Each index is built once, and asked from this one thread in the catalog's order: a
    // catalog of thousands of misspelt references costs a lookup each, and the work cap
    // (`suggest::WORK_CAP`) falls on the same ones in every run.
    let key_names = Index::new(keys.keys().map(String::as_str));
    let bundle_names = Index::new(bundles.keys().map(String::as_str));
    let mut secrets = Vec::with_capacity(count);
    // (what, namespace, name) → (secret, origin) of the first secret rendering that object.
    let mut targets: BTreeMap<(&str, String, String), (String, Origin)> = BTreeMap::new();
    for (name, origin, [target_span, es_span], secret, (mut findings, pending)) in compiled {
        for Pending { at, among, wanted } in pending {
            let index = match among {
                Among::Keys => &key_names,
                Among::Bundles => &bundle_names,
            };
            if let Some(best) = index.closest(&wanted) {
                findings[at].suggest(best);
            }
        }
        ctx.diagnostics.extend(findings);
        let file = origin.file;
        for (what, object, span) in [
            ("Secret", &secret.target, target_span),
            ("ExternalSecret", &secret.external_secret, es_span),
        ] {
            let slot = (what, secret.namespace.clone(), object.clone());
            match targets.get(&slot) {
                Some((first, first_origin)) => ctx.push(
                    Diagnostic::duplicate_target(what, object, &secret.namespace, first, &name)
                        .at(file, span, format!("{what} `{object}` rendered again here"))
                        .also(
                            first_origin.file,
                            first_origin.span.clone(),
                            format!("first rendered by `{first}`"),
                        ),
                ),
                None => {
                    targets.insert(slot, (name.clone(), origin.clone()));
                }
            }
        }
        secrets.push((name, secret));
    }
    secrets.into_iter().collect()
}

/// A finding of the parallel compile (`findings[at]`) that still needs its "did you mean":
/// `wanted`'s closest name among the catalog's keys or bundles.
struct Pending {
    at: usize,
    among: Among,
    wanted: String,
}

enum Among {
    Keys,
    Bundles,
}

/// Push `diagnostic` (built without a suggestion), and have its suggestion looked up later.
fn push_pending(
    ctx: &mut Ctx,
    pending: &mut Vec<Pending>,
    among: Among,
    wanted: &str,
    diagnostic: Diagnostic,
) {
    pending.push(Pending {
        at: ctx.diagnostics.len(),
        among,
        wanted: wanted.to_string(),
    });
    ctx.push(diagnostic);
}

#[allow(clippy::too_many_arguments)]
fn compile_one(
    ctx: &mut Ctx,
    pending: &mut Vec<Pending>,
    name: &str,
    origin: &Origin,
    raw: RawSecret,
    store: &Store,
    bundles: &BTreeMap<String, Bundle>,
    keys: &NameMap<Key>,
) -> Secret {
    let file = origin.file;
    let name_spanned = Spanned::new(name.to_string(), origin.span.clone());
    ctx.check_name("secret name", file, &name_spanned, |n: &str| {
        names::dns1123_subdomain(n)
    });

    let bundle = bundles.get(&raw.bundle.value);
    if bundle.is_none() {
        let all: Vec<&str> = bundles.keys().map(String::as_str).collect();
        let diagnostic = Diagnostic::unknown_bundle(
            &format!("secret `{name}` belongs to"),
            &raw.bundle,
            None,
            &all,
        )
        .at(file, raw.bundle.span.clone(), "no such bundle");
        push_pending(ctx, pending, Among::Bundles, &raw.bundle, diagnostic);
    }
    let namespace = match &raw.namespace {
        Some(namespace) => {
            ctx.check_name("namespace", file, namespace, |n: &str| {
                names::dns1123_label(n, 63)
            });
            namespace.value.clone()
        }
        None => bundle.map(|b| b.namespace.clone()).unwrap_or_default(),
    };
    let target = match &raw.target {
        Some(target) => {
            ctx.check_name("Secret name", file, target, |n: &str| {
                names::dns1123_subdomain(n)
            });
            target.value.clone()
        }
        None => name.to_string(),
    };
    let external_secret = match &raw.external_secret {
        Some(es) => {
            ctx.check_name("ExternalSecret name", file, es, |n: &str| {
                names::dns1123_subdomain(n)
            });
            es.value.clone()
        }
        None => {
            let default = format!("{name}-sync");
            if default.len() > 253 {
                ctx.check_name("ExternalSecret name", file, &name_spanned, |n: &str| {
                    names::dns1123_subdomain(n)
                });
            }
            default
        }
    };
    if let Some(owner) = &raw.owner {
        ctx.check_owner(&format!("secret `{name}` is owned by"), file, owner);
    }
    let owner = raw
        .owner
        .map(|o| o.value)
        .or_else(|| bundle.and_then(|b| b.owner.clone()));
    let preprovision = match (&raw.preprovision, &raw.preprovision_reason) {
        (Some(flag), reason) if flag.value => {
            match reason.as_ref().filter(|r| !r.trim().is_empty()) {
                Some(reason) => Some(reason.value.clone()),
                None => {
                    ctx.push(Diagnostic::missing_reason(name).at(
                        file,
                        flag.span.clone(),
                        "pre-provisioned here",
                    ));
                    None
                }
            }
        }
        _ => None,
    };
    if let Some(kind) = &raw.secret_type {
        ctx.check_name("Secret type", file, kind, |n: &str| names::secret_type(n));
    }
    let refresh_interval = match &raw.refresh_interval {
        Some(interval) => {
            ctx.check_duration(file, interval, &format!("secret `{name}`"));
            interval.value.clone()
        }
        None => store.refresh_interval.clone(),
    };
    let subject = format!("secret `{name}` is limited to");
    let environments = raw
        .environments
        .as_ref()
        .map(|list| ctx.check_environments(&subject, file, &list.value));

    let integration = bundle.filter(|b| b.kind == BundleKind::Integration);
    if raw.data.is_empty() && raw.extract.is_empty() {
        ctx.push(Diagnostic::empty_secret(name).at(file, origin.span.clone(), ""));
    }
    for key in &raw.extract {
        if !keys.contains_key(&key.value) {
            let diagnostic = Diagnostic::unknown_key(name, key, None).at(
                file,
                key.span.clone(),
                "no key with this path",
            );
            push_pending(ctx, pending, Among::Keys, key, diagnostic);
        }
    }
    let mut extract: Vec<String> = raw.extract.iter().map(|k| k.value.clone()).collect();
    extract.sort();
    extract.dedup();
    let mut data = NameMap::with_capacity(raw.data.len());
    for (data_key, reference) in &raw.data {
        check_data_key(ctx, file, name, data_key, integration);
        let (key, property, decoding) = match &reference.value {
            RawDataRef::Key(key) => (
                Spanned::new(key.clone(), reference.span.clone()),
                None,
                None,
            ),
            RawDataRef::Table(table) => (
                table.key.clone(),
                table.property.clone(),
                table.decoding_strategy,
            ),
        };
        let seeded = keys
            .get(&key.value)
            .is_some_and(|k| !matches!(k.source, crate::model::ValueSource::External(_)));
        if let Some(property) = property
            .as_ref()
            .filter(|p| seeded && p.value != store.property)
        {
            ctx.push(
                Diagnostic::fixture_property(name, &key, property, &store.property).at(
                    file,
                    property.span.clone(),
                    "not written by the bootstrap job",
                ),
            );
        }
        if !keys.contains_key(&key.value) {
            let diagnostic = Diagnostic::unknown_key(name, &key, None).at(
                file,
                key.span.clone(),
                "no key with this path",
            );
            push_pending(ctx, pending, Among::Keys, &key, diagnostic);
        }
        if let Some(property) = &property
            && (property.is_empty() || property.chars().any(char::is_control))
        {
            ctx.check_name("property", file, property, |_: &str| {
                Some("must be non-empty, without control characters".into())
            });
        }
        data.insert(
            data_key.value.clone(),
            DataRef {
                key: key.value,
                property: property.map_or_else(|| store.property.clone(), |p| p.value),
                decoding_strategy: decoding.unwrap_or(DecodingStrategy::None),
            },
        );
    }
    let template = raw.template.map(|template| {
        for data_key in template.value.data.keys() {
            check_data_key(ctx, file, name, data_key, integration);
        }
        Template {
            data: template
                .value
                .data
                .into_iter()
                .map(|(k, v)| (k.value, v.value))
                .collect(),
            merge_policy: template.value.merge_policy.unwrap_or(MergePolicy::Replace),
            engine_version: template.value.engine_version.unwrap_or(EngineVersion::V2),
        }
    });

    let mut secret = Secret {
        name: name.to_string(),
        target,
        bundle: raw.bundle.value.clone(),
        namespace,
        owner,
        external_secret,
        secret_type: raw.secret_type.map(|t| t.value),
        template,
        refresh_interval,
        environments,
        preprovision,
        data,
        extract,
        consumers: Vec::with_capacity(raw.consumers.len()),
        rotation: raw.rotation,
        description: raw.description,
        origin: origin.clone(),
    };
    let provided = secret
        .provided_keys()
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
    for consumer in raw.consumers {
        let consumer = consumer.value;
        let name_span = consumer.name.span.clone();
        ctx.check_name("consumer name", file, &consumer.name, |n: &str| {
            names::simple_name(n)
        });
        for required in &consumer.requires {
            // An extracted Vault key may hold any property: such a requirement cannot be judged.
            if !provided.contains(&required.value) && !secret.provides_unknown_keys() {
                let provided: Vec<&str> = provided.iter().map(String::as_str).collect();
                let best = closest(required, provided.iter().copied());
                ctx.push(
                    Diagnostic::unknown_required_key(
                        name,
                        &consumer.name,
                        required,
                        best,
                        &provided,
                    )
                    .at(
                        file,
                        required.span.clone(),
                        "not provided by the secret",
                    ),
                );
            }
        }
        let mut requires: Vec<String> = consumer.requires.into_iter().map(|r| r.value).collect();
        requires.sort();
        requires.dedup();
        if let Some(owner) = &consumer.owner {
            let subject = format!(
                "consumer `{}` of secret `{name}` is owned by",
                consumer.name.value
            );
            ctx.check_owner(&subject, file, owner);
        }
        let subject = format!(
            "consumer `{}` of secret `{name}` is limited to",
            consumer.name.value
        );
        let environments = consumer
            .environments
            .map(|list| ctx.check_environments(&subject, file, &list.value));
        secret.consumers.push(Consumer {
            name: consumer.name.value,
            via: consumer.via.value,
            requires,
            owner: consumer
                .owner
                .map(|o| o.value)
                .or_else(|| secret.owner.clone()),
            environments,
            sync_wave_origin: consumer.sync_wave.as_ref().map(|w| Origin {
                file,
                span: w.span.clone(),
            }),
            sync_wave: consumer.sync_wave.map(|w| w.value),
            origin: Origin {
                file,
                span: name_span,
            },
        });
    }
    secret.consumers.sort_by(|a, b| a.name.cmp(&b.name));
    secret
}

fn check_data_key(
    ctx: &mut Ctx,
    file: crate::source::FileId,
    secret: &str,
    key: &Spanned<String>,
    integration: Option<&Bundle>,
) {
    if !names::eso_data_key(key) {
        ctx.push(Diagnostic::invalid_data_key(secret, key).at(file, key.span.clone(), ""));
    } else if let Some(bundle) = integration
        && !names::env_var(key)
    {
        ctx.push(Diagnostic::invalid_env_var(secret, key, &bundle.name).at(
            file,
            key.span.clone(),
            "",
        ));
    }
}
