//! Platform guardrails over the whole compiled catalog: bundle ordering, environments, the
//! Layer 15 boundary and ownership. They run once every reference is resolved.

use std::collections::{BTreeMap, BTreeSet};

use super::{Ctx, Mapping, Needs};
use crate::diagnostics::Diagnostic;
use crate::model::{Bundle, BundleKind, Catalog, Env, Origin, Store, StoreKind, ValueSource};
use crate::suggest::Index;

/// Resolve each bundle's `needs` and give it a sync wave after the store and after every bundle
/// it needs. Kahn's algorithm, not recursion: a long chain of needs must not exhaust the stack.
pub(super) fn order_bundles(
    ctx: &mut Ctx,
    bundles: &mut BTreeMap<String, Bundle>,
    needs: Needs,
    store: &Store,
) {
    let names: Vec<String> = bundles.keys().cloned().collect();
    // Built once: a catalog may hold thousands of misspelt needs.
    let suggestions = Index::new(names.iter().map(String::as_str));
    // Where each resolved `needs` entry was written, for the cycle error.
    let mut written: BTreeMap<(String, String), Origin> = BTreeMap::new();
    for (name, (file, list)) in needs {
        let mut resolved = Vec::new();
        for need in list {
            if bundles.contains_key(&need.value) {
                written.insert(
                    (name.clone(), need.value.clone()),
                    Origin {
                        file,
                        span: need.span.clone(),
                    },
                );
                resolved.push(need.value);
            } else {
                let all: Vec<&str> = names.iter().map(String::as_str).collect();
                let best = suggestions.closest(&need);
                ctx.push(
                    Diagnostic::unknown_bundle(
                        &format!("bundle `{name}` needs"),
                        &need,
                        best,
                        &all,
                    )
                    .at(file, need.span.clone(), "no such bundle"),
                );
            }
        }
        resolved.sort();
        resolved.dedup();
        if let Some(bundle) = bundles.get_mut(&name) {
            bundle.need_origins = resolved
                .iter()
                .filter_map(|n| Some((n.clone(), written.get(&(name.clone(), n.clone()))?.clone())))
                .collect();
            bundle.needs = resolved;
        }
    }

    let mut waiting: BTreeMap<&str, usize> = bundles
        .iter()
        .map(|(name, b)| (name.as_str(), b.needs.len()))
        .collect();
    let mut needed_by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, bundle) in bundles.iter() {
        for need in &bundle.needs {
            needed_by.entry(need.as_str()).or_default().push(name);
        }
    }
    let mut waves: BTreeMap<&str, i64> = BTreeMap::new();
    let mut ready: Vec<&str> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(name, _)| *name)
        .collect();
    while let Some(name) = ready.pop() {
        let wave = bundles[name]
            .needs
            .iter()
            .filter_map(|need| waves.get(need.as_str()))
            .copied()
            .fold(store.sync_wave, i64::max)
            .saturating_add(1);
        waves.insert(name, wave);
        for dependent in needed_by.get(name).into_iter().flatten() {
            if let Some(count) = waiting.get_mut(dependent) {
                *count -= 1;
                if *count == 0 {
                    ready.push(dependent);
                }
            }
        }
    }
    // What is left sits on or behind a cycle: report each cycle once, from its smallest name.
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    for start in bundles.keys().map(String::as_str) {
        if waves.contains_key(start) || reported.contains(start) {
            continue;
        }
        let mut path = vec![start];
        let mut current = start;
        let cycle = loop {
            let Some(next) = bundles[current]
                .needs
                .iter()
                .map(String::as_str)
                .find(|n| !waves.contains_key(n))
            else {
                break None;
            };
            if let Some(at) = path.iter().position(|p| *p == next) {
                break Some(path[at..].to_vec());
            }
            path.push(next);
            current = next;
        };
        let Some(cycle) = cycle else { continue };
        if cycle.iter().any(|b| reported.contains(b)) {
            continue;
        }
        reported.extend(cycle.iter().copied());
        let last = cycle[cycle.len() - 1];
        let mut shown = cycle.clone();
        shown.push(cycle[0]);
        let mut diagnostic = Diagnostic::needs_cycle(&shown);
        if let Some(origin) = written.get(&(last.to_string(), cycle[0].to_string())) {
            diagnostic = diagnostic.at(origin.file, origin.span.clone(), "closes the cycle");
        }
        ctx.push(diagnostic);
    }
    let waves: BTreeMap<String, i64> = waves.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    for (name, bundle) in bundles.iter_mut() {
        bundle.sync_wave = waves
            .get(name)
            .copied()
            .unwrap_or(store.sync_wave.saturating_add(1));
    }
}

/// Every namespace an environment maps must be one the catalog uses (a bundle, a secret or an
/// unmanaged secret): a typo would leave the real namespace unmapped.
pub(super) fn check_namespace_mappings(ctx: &mut Ctx, catalog: &Catalog, mappings: Vec<Mapping>) {
    let used: BTreeSet<&str> = catalog
        .bundles
        .values()
        .map(|b| b.namespace.as_str())
        .chain(catalog.secrets.values().map(|s| s.namespace.as_str()))
        .chain(
            catalog
                .unmanaged_secrets
                .values()
                .filter_map(|u| u.namespaces.as_ref())
                .flatten()
                .map(String::as_str),
        )
        .collect();
    let suggestions = Index::new(used.iter().copied());
    for mapping in mappings {
        if used.contains(mapping.from.value.as_str()) {
            continue;
        }
        let used: Vec<&str> = used.iter().copied().collect();
        let best = suggestions.closest(&mapping.from);
        ctx.push(
            Diagnostic::unknown_namespace(&mapping.env, &mapping.from, best, &used).at(
                mapping.file,
                mapping.from.span.clone(),
                "not a namespace of this catalog",
            ),
        );
    }
}

/// Two secrets in different catalog namespaces may land in one namespace once an environment maps
/// them: that is the same two-owners-of-one-object error as in the catalog itself.
fn check_mapped_targets(ctx: &mut Ctx, catalog: &Catalog) {
    for env in catalog
        .environments
        .values()
        .filter(|e| !e.namespaces.is_empty())
    {
        let mut targets: BTreeMap<(&str, &str, &str), &crate::model::Secret> = BTreeMap::new();
        for secret in catalog
            .secrets
            .values()
            .filter(|s| catalog.renders_in(s, Some(&env.name)))
        {
            let namespace = catalog.namespace_in(&secret.namespace, Some(&env.name));
            for (what, object) in [
                ("Secret", &secret.target),
                ("ExternalSecret", &secret.external_secret),
            ] {
                match targets.get(&(what, namespace, object.as_str())) {
                    // Same catalog namespace: already reported without the environment.
                    Some(first) if first.namespace != secret.namespace => ctx.push(
                        Diagnostic::duplicate_target_in(
                            what,
                            object,
                            namespace,
                            &env.name,
                            &first.name,
                            &secret.name,
                        )
                        .at(
                            secret.origin.file,
                            secret.origin.span.clone(),
                            format!("in namespace `{}` of the catalog", secret.namespace),
                        )
                        .also(
                            first.origin.file,
                            first.origin.span.clone(),
                            format!("in namespace `{}` of the catalog", first.namespace),
                        )
                        .also(
                            env.origin.file,
                            env.origin.span.clone(),
                            "maps both here",
                        ),
                    ),
                    Some(_) => {}
                    None => {
                        targets.insert((what, namespace, object.as_str()), secret);
                    }
                }
            }
        }
    }
}

/// The checks over the whole catalog: mapped targets, and with `findings` the guardrails whose
/// findings would only echo earlier errors. Each runs on whichever core is free, into its own
/// list, and the lists are reported in this order, as one pass would have.
pub(super) fn check(ctx: &mut Ctx, catalog: &Catalog, findings: bool) {
    type Check<'c> = Box<dyn Fn(&mut Ctx, &Catalog) + Sync + 'c>;
    let mut checks: Vec<Check> = vec![Box::new(check_mapped_targets)];
    if findings {
        if !catalog.owners.is_empty() {
            checks.push(Box::new(ownership));
            checks.push(Box::new(layer15_boundary));
        }
        for env in catalog.envs() {
            if let Some(env) = env.filter(|e| !catalog.seeds(Some(e))) {
                checks.push(Box::new(move |ctx, catalog| {
                    fixtures_where_unseeded(ctx, catalog, env)
                }));
            }
            checks.push(Box::new(move |ctx, catalog| {
                store_namespaces(ctx, catalog, env)
            }));
        }
        checks.push(Box::new(consumers_without_secret));
        checks.push(Box::new(needs_not_installed));
        checks.push(Box::new(consumer_waves));
    }
    let (environments, owners) = (ctx.environments, ctx.owners);
    let found = crate::parallel::map(&checks, |check| {
        let mut diagnostics = Vec::new();
        let mut own = Ctx {
            diagnostics: &mut diagnostics,
            environments,
            owners,
        };
        check(&mut own, catalog);
        diagnostics
    });
    ctx.diagnostics.extend(found.into_iter().flatten());
}

fn ownership(ctx: &mut Ctx, catalog: &Catalog) {
    let all: Vec<&str> = catalog.owners.keys().map(String::as_str).collect();
    for key in catalog.keys.values().filter(|k| k.owner.is_none()) {
        ctx.push(Diagnostic::missing_owner("key", &key.path, &all).at(
            key.origin.file,
            key.origin.span.clone(),
            "no owner, and keys inherit none",
        ));
    }
    for secret in catalog.secrets.values().filter(|s| s.owner.is_none()) {
        ctx.push(Diagnostic::missing_owner("secret", &secret.name, &all).at(
            secret.origin.file,
            secret.origin.span.clone(),
            "no owner here or on its bundle",
        ));
    }
}

fn layer15_boundary(ctx: &mut Ctx, catalog: &Catalog) {
    for secret in catalog.secrets.values() {
        let Some(bundle) = catalog.bundles.get(&secret.bundle) else {
            continue;
        };
        if bundle.kind != BundleKind::Layer15 || secret.preprovision.is_some() {
            continue;
        }
        let owners: BTreeSet<&str> = secret
            .consumers
            .iter()
            .filter_map(|c| c.owner.as_deref())
            .collect();
        if owners.len() < 2 {
            let owners: Vec<&str> = owners.into_iter().collect();
            let consumers = secret.consumers.len();
            ctx.push(
                Diagnostic::layer15_single_owner(&secret.name, &bundle.name, &owners, consumers)
                    .at(
                        secret.origin.file,
                        secret.origin.span.clone(),
                        "not platform-wide",
                    ),
            );
        }
    }
}

/// Where fixtures are not seeded, every key an installed secret reads needs a real source.
fn fixtures_where_unseeded(ctx: &mut Ctx, catalog: &Catalog, env: &str) {
    let mut reported = BTreeSet::new();
    for secret in catalog
        .secrets
        .values()
        .filter(|s| catalog.installed_in(s, Some(env)))
    {
        for data in secret.data.values() {
            let Some(key) = catalog.keys.get(&data.key) else {
                continue;
            };
            let what = match key.source_in(Some(env)) {
                ValueSource::Fixture(_) => "a fixture",
                ValueSource::Generate { .. } => "`__generate__`",
                ValueSource::External(_) => continue,
            };
            if !reported.insert(&key.path) {
                continue;
            }
            let origin = key
                .overrides
                .get(env)
                .and_then(|o| o.source_origin.as_ref())
                .or(key.source_origin.as_ref())
                .unwrap_or(&key.origin);
            ctx.push(
                Diagnostic::fixture_not_allowed(&key.path, env, what, &secret.name)
                    .at(origin.file, origin.span.clone(), "the value there")
                    .also(
                        secret.origin.file,
                        secret.origin.span.clone(),
                        format!("installed in `{env}`"),
                    ),
            );
        }
    }
}

fn store_namespaces(ctx: &mut Ctx, catalog: &Catalog, env: Env) {
    let store = catalog.store_in(env);
    let (StoreKind::SecretStore, Some(store_namespace)) = (store.kind, &store.namespace) else {
        return;
    };
    for secret in catalog
        .secrets
        .values()
        .filter(|s| catalog.renders_in(s, env))
    {
        let namespace = catalog.namespace_in(&secret.namespace, env);
        if namespace != store_namespace {
            ctx.push(
                Diagnostic::store_namespace(
                    &secret.name,
                    namespace,
                    env,
                    &store.name,
                    store_namespace,
                )
                .at(
                    secret.origin.file,
                    secret.origin.span.clone(),
                    "its ExternalSecret cannot read the store",
                ),
            );
        }
    }
}

fn consumers_without_secret(ctx: &mut Ctx, catalog: &Catalog) {
    let envs: Vec<&str> = catalog.environments.keys().map(String::as_str).collect();
    for secret in catalog.secrets.values() {
        let Some(bundle) = catalog.bundles.get(&secret.bundle) else {
            continue;
        };
        for consumer in &secret.consumers {
            let missing: Vec<&str> = envs
                .iter()
                .copied()
                .filter(|e| {
                    consumer.installed_in(Some(e)) && !catalog.installed_in(secret, Some(e))
                })
                .collect();
            let Some(first) = missing.first() else {
                continue;
            };
            let why = if !secret.listed_in(Some(first)) {
                format!(
                    "the secret is limited to {}",
                    secret
                        .environments
                        .iter()
                        .flatten()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else if !bundle.exists_in(Some(first)) {
                format!(
                    "bundle `{}` is limited to {}",
                    bundle.name,
                    bundle
                        .environments
                        .iter()
                        .flatten()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                format!("bundle `{}` is not installed there", bundle.name)
            };
            ctx.push(
                Diagnostic::consumer_without_secret(&consumer.name, &secret.name, &missing, &why)
                    .at(
                        consumer.origin.file,
                        consumer.origin.span.clone(),
                        "installed in every environment unless limited",
                    ),
            );
        }
    }
}

fn needs_not_installed(ctx: &mut Ctx, catalog: &Catalog) {
    let envs: Vec<&str> = catalog.environments.keys().map(String::as_str).collect();
    for bundle in catalog.bundles.values() {
        for need in &bundle.needs {
            let Some(needed) = catalog.bundles.get(need) else {
                continue;
            };
            let missing: Vec<&str> = envs
                .iter()
                .copied()
                .filter(|e| bundle.installed_in(Some(e)) && !needed.installed_in(Some(e)))
                .collect();
            if !missing.is_empty() {
                let origin = bundle.need_origins.get(need).unwrap_or(&bundle.origin);
                ctx.push(
                    Diagnostic::needs_not_installed(&bundle.name, need, &missing).at(
                        origin.file,
                        origin.span.clone(),
                        format!("`{need}` is applied first"),
                    ),
                );
            }
        }
    }
}

fn consumer_waves(ctx: &mut Ctx, catalog: &Catalog) {
    for secret in catalog.secrets.values() {
        let Some(bundle) = catalog.bundles.get(&secret.bundle) else {
            continue;
        };
        for consumer in &secret.consumers {
            if let Some(wave) = consumer.sync_wave.filter(|w| *w <= bundle.sync_wave) {
                ctx.push(
                    Diagnostic::consumer_before_secret(
                        &consumer.name,
                        wave,
                        &bundle.name,
                        bundle.sync_wave,
                    )
                    .at(
                        consumer
                            .sync_wave_origin
                            .as_ref()
                            .unwrap_or(&consumer.origin)
                            .file,
                        consumer
                            .sync_wave_origin
                            .as_ref()
                            .unwrap_or(&consumer.origin)
                            .span
                            .clone(),
                        "too early",
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostics::Code;

    const STORE: &str = "[store]\nname = \"v\"\nmount = \"secret\"\nsync_wave = 5\n";

    fn compile(text: &str) -> crate::Compiled {
        crate::compile_sources(vec![("secretcat.toml".into(), format!("{STORE}{text}"))])
    }

    fn bundle(name: &str, needs: &[&str]) -> String {
        let needs: Vec<String> = needs.iter().map(|n| format!("\"{n}\"")).collect();
        format!(
            "[bundles.{name}]\nkind = \"chart\"\nnamespace = \"ns\"\nneeds = [{}]\n",
            needs.join(", ")
        )
    }

    #[test]
    fn a_bundle_waits_for_the_store_and_for_the_latest_bundle_it_needs() {
        // d needs a (wave 6) and c (wave 8): it comes after the later one.
        let text = [
            bundle("a", &[]),
            bundle("b", &["a"]),
            bundle("c", &["b"]),
            bundle("d", &["a", "c"]),
        ]
        .concat();
        let compiled = compile(&text);
        assert!(
            compiled.diagnostics.is_empty(),
            "{:?}",
            compiled.diagnostics
        );
        let catalog = compiled.catalog.unwrap();
        let waves: Vec<i64> = ["a", "b", "c", "d"]
            .iter()
            .map(|b| catalog.bundles[*b].sync_wave)
            .collect();
        assert_eq!(waves, [6, 7, 8, 9]);
    }

    #[test]
    fn a_cycle_is_one_error_and_the_rest_still_gets_waves() {
        let text = [
            bundle("a", &["b"]),
            bundle("b", &["c"]),
            bundle("c", &["a"]),
            bundle("free", &[]),
        ]
        .concat();
        let compiled = compile(&text);
        let cycles: Vec<&str> = compiled
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::NeedsCycle)
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(
            cycles,
            ["bundles need each other in a cycle: a -> b -> c -> a"]
        );
        assert_eq!(compiled.catalog.unwrap().bundles["free"].sync_wave, 6);
    }

    #[test]
    fn a_long_chain_of_needs_does_not_exhaust_the_stack() {
        let text: String = (0..20_000)
            .map(|i| match i {
                0 => bundle("b0", &[]),
                _ => bundle(&format!("b{i}"), &[&format!("b{}", i - 1)]),
            })
            .collect();
        let catalog = compile(&text).catalog.unwrap();
        assert_eq!(catalog.bundles["b19999"].sync_wave, 5 + 20_000);
    }
}
