//! Stage 2, validate: turn the merged `RawCatalog` into the compiled `Catalog`, resolving every
//! reference and checking every name. All problems are collected before anything is decided.

pub mod credentials;
mod guardrails;
mod keys;
pub mod names;
mod outputs;
mod secrets;

use std::collections::BTreeMap;

use crate::diagnostics::{Code, Diagnostic};
use crate::load::RawCatalog;
use crate::load::defs::Defs;
use crate::load::raw::{BundleKind, RawEnvironment, RawOwner, RawStore, StoreKind};
use crate::load::spanned::Spanned;
use crate::model::{Bundle, Catalog, Environment, Origin, Owner, Store};
use crate::source::FileId;
use crate::suggest::Index;

/// Diagnostics collected while validating, and the declared names references are checked against.
pub(crate) struct Ctx<'a> {
    pub diagnostics: &'a mut Vec<Diagnostic>,
    /// Declared environments, sorted.
    pub environments: &'a [String],
    /// Declared owners, sorted; empty when the catalog declares none (owners are then free-form).
    pub owners: &'a [String],
}

impl Ctx<'_> {
    /// Check an environment list (`environments = [...]`); the known names, sorted and unique.
    pub fn check_environments(
        &mut self,
        subject: &str,
        file: FileId,
        list: &[Spanned<String>],
    ) -> Vec<String> {
        let mut known: Vec<String> = list
            .iter()
            .filter(|env| self.check_environment(subject, file, env))
            .map(|env| env.value.clone())
            .collect();
        known.sort();
        known.dedup();
        known
    }

    /// `subject` says who names it, e.g. "secret `s` is limited to".
    pub fn check_environment(
        &mut self,
        subject: &str,
        file: FileId,
        env: &Spanned<String>,
    ) -> bool {
        if self.environments.contains(&env.value) {
            return true;
        }
        let all: Vec<&str> = self.environments.iter().map(String::as_str).collect();
        self.push(Diagnostic::unknown_environment(subject, env, &all).at(
            file,
            env.span.clone(),
            "not declared",
        ));
        false
    }

    /// An owner reference: a simple name, and a declared one once the catalog declares owners.
    pub fn check_owner(&mut self, subject: &str, file: FileId, owner: &Spanned<String>) {
        self.check_name("owner", file, owner, |n: &str| names::simple_name(n));
        if self.owners.is_empty() || self.owners.contains(&owner.value) {
            return;
        }
        let all: Vec<&str> = self.owners.iter().map(String::as_str).collect();
        self.push(Diagnostic::unknown_owner(subject, owner, &all).at(
            file,
            owner.span.clone(),
            "not declared in [owners]",
        ));
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Report a name that breaks `rule`, suggesting a repaired spelling that satisfies it.
    pub fn check_name(
        &mut self,
        what: &str,
        file: FileId,
        name: &Spanned<String>,
        rule: impl Fn(&str) -> Option<String>,
    ) {
        let Some(broken) = rule(&name.value) else {
            return;
        };
        let mut diagnostic =
            Diagnostic::invalid_name(what, &name.value, &broken).at(file, name.span.clone(), "");
        if let Some(fixed) = names::repairs(&name.value)
            .into_iter()
            .find(|c| *c != name.value && rule(c).is_none())
        {
            diagnostic = diagnostic.help(format!("try `{fixed}`"));
        }
        self.push(diagnostic);
    }

    /// `owner` names what the duration belongs to, e.g. "refresh_interval of secret `s`".
    pub fn check_duration(&mut self, file: FileId, value: &Spanned<String>, owner: &str) {
        if !names::go_duration(&value.value) {
            self.push(Diagnostic::invalid_duration(&value.value, owner).at(
                file,
                value.span.clone(),
                "",
            ));
        }
    }
}

/// Compile the merged catalog. Returns `None` only when there is no store to compile against;
/// otherwise a catalog is returned even with errors, and the caller decides from `diagnostics`.
pub fn validate(
    raw: RawCatalog,
    catalog_dir: String,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Catalog> {
    let declared_environments: Vec<String> = raw.environments.names().cloned().collect();
    let declared_owners: Vec<String> = raw.owners.names().cloned().collect();
    let catalog = compile_catalog(
        raw,
        catalog_dir,
        diagnostics,
        &declared_environments,
        &declared_owners,
    );
    suggest_declared(diagnostics, &declared_environments, &declared_owners);
    catalog
}

/// The "did you mean" of every unknown owner and environment, looked up after the whole catalog
/// is compiled, from one thread in report order, against one index per list: thousands of
/// references to names a catalog does not declare cost a lookup each, and the same in every run.
fn suggest_declared(diagnostics: &mut [Diagnostic], environments: &[String], owners: &[String]) {
    let environments = Index::new(environments.iter().map(String::as_str));
    let owners = Index::new(owners.iter().map(String::as_str));
    for diagnostic in diagnostics.iter_mut() {
        let index = match diagnostic.code {
            Code::UnknownEnvironment => &environments,
            Code::UnknownOwner => &owners,
            _ => continue,
        };
        if let Some(best) = diagnostic
            .suggest_for
            .take()
            .and_then(|w| index.closest(&w))
        {
            diagnostic.suggest(best);
        }
    }
}

fn compile_catalog(
    raw: RawCatalog,
    catalog_dir: String,
    diagnostics: &mut Vec<Diagnostic>,
    declared_environments: &[String],
    declared_owners: &[String],
) -> Option<Catalog> {
    let mut ctx = Ctx {
        diagnostics,
        environments: declared_environments,
        owners: declared_owners,
    };
    let (store_file, raw_store) = raw.store?;
    let store = compile_store(&mut ctx, store_file, raw_store.value);
    let owners = compile_owners(&mut ctx, raw.owners);
    let (environments, mappings) = compile_environments(&mut ctx, raw.environments, &store);
    let (mut bundles, needs) = compile_bundles(&mut ctx, raw.bundles);
    guardrails::order_bundles(&mut ctx, &mut bundles, needs, &store);
    let outputs = outputs::compile(
        &mut ctx,
        raw.outputs,
        &bundles,
        &environments,
        raw.within_root.as_deref(),
    );
    let mut keys = keys::compile(&mut ctx, raw.keys, &store, &environments);
    let secrets = secrets::compile(&mut ctx, raw.secrets, &store, &bundles, &keys);

    for secret in secrets.values() {
        if let Some(bundle) = bundles.get_mut(&secret.bundle) {
            bundle.secrets.push(secret.name.clone());
        }
        for path in secret.vault_keys() {
            if let Some(key) = keys.get_mut(path) {
                key.used_by.push(secret.name.clone());
            }
        }
    }
    // After a reference error, "unused" is more likely the typo's other half than news.
    let has_errors = ctx
        .diagnostics
        .iter()
        .any(|d| d.severity == crate::diagnostics::Severity::Error);
    for key in keys.values().filter(|_| !has_errors) {
        if key.used_by.is_empty() {
            ctx.push(Diagnostic::unused_key(&key.path).at(
                key.origin.file,
                key.origin.span.clone(),
                "defined here",
            ));
        }
    }
    let unmanaged_secrets = compile_unmanaged(&mut ctx, raw.unmanaged_secrets);
    let catalog = Catalog {
        catalog_dir,
        unmanaged_secrets,
        store,
        environments,
        owners,
        bundles,
        keys,
        secrets,
        outputs,
    };
    guardrails::check_namespace_mappings(&mut ctx, &catalog, mappings);
    // Like unused keys, guardrail findings over a catalog with broken references are mostly echoes.
    guardrails::check(&mut ctx, &catalog, !has_errors);
    Some(catalog)
}

fn compile_store(ctx: &mut Ctx, file: FileId, raw: RawStore) -> Store {
    ctx.check_name("store name", file, &raw.name, |n: &str| {
        names::dns1123_subdomain(n)
    });
    ctx.check_name("store mount", file, &raw.mount, |n: &str| {
        names::vault_path(n)
    });
    if let Some(property) = &raw.property
        && property.is_empty()
    {
        ctx.check_name("store property", file, property, |_: &str| {
            Some("must not be empty".into())
        });
    }
    if let Some(interval) = &raw.refresh_interval {
        ctx.check_duration(file, interval, "the store");
    }
    if let Some(namespace) = &raw.namespace {
        ctx.check_name("store namespace", file, namespace, |n: &str| {
            names::dns1123_label(n, 63)
        });
    }
    if let Some(release) = &raw.release {
        ctx.check_name("store release name", file, release, |n: &str| {
            names::dns1123_label(n, 53)
        });
    }
    Store {
        kind: raw.kind.map_or(StoreKind::ClusterSecretStore, |k| k.value),
        name: raw.name.value,
        namespace: raw.namespace.map(|n| n.value),
        mount: raw.mount.value,
        property: raw.property.map_or_else(|| "value".into(), |p| p.value),
        refresh_interval: raw
            .refresh_interval
            .map_or_else(|| "1h".into(), |r| r.value),
        server: raw.server.map(|s| s.value),
        release: raw
            .release
            .map_or_else(|| Store::DEFAULT_RELEASE.into(), |r| r.value),
        sync_wave: raw.sync_wave.map_or(Store::DEFAULT_WAVE, |w| w.value),
    }
}

fn compile_owners(ctx: &mut Ctx, raw: Defs<RawOwner>) -> BTreeMap<String, Owner> {
    raw.into_iter()
        .map(|(name, def)| {
            let spanned = Spanned::new(name.clone(), def.name_span.clone());
            ctx.check_name("owner", def.file, &spanned, |n: &str| names::simple_name(n));
            let raw = def.value.value;
            let owner = Owner {
                name: name.clone(),
                team: raw.team.value,
                contact: raw.contact.value,
                description: raw.description,
            };
            (name, owner)
        })
        .collect()
}

fn compile_unmanaged(
    ctx: &mut Ctx,
    raw: Defs<crate::load::raw::RawUnmanagedSecret>,
) -> BTreeMap<String, crate::model::UnmanagedSecret> {
    raw.into_iter()
        .map(|(name, def)| {
            let file = def.file;
            let spanned = Spanned::new(name.clone(), def.name_span.clone());
            ctx.check_name("Secret name", file, &spanned, |n: &str| {
                names::dns1123_subdomain(n)
            });
            let raw = def.value.value;
            for namespace in raw.namespaces.iter().flatten() {
                ctx.check_name("namespace", file, namespace, |n: &str| {
                    names::dns1123_label(n, 63)
                });
            }
            for key in raw.keys.iter().flatten() {
                if !names::eso_data_key(key) {
                    ctx.push(Diagnostic::invalid_data_key(&name, key).at(
                        file,
                        key.span.clone(),
                        "",
                    ));
                }
            }
            if let Some(owner) = &raw.owner {
                ctx.check_owner(
                    &format!("unmanaged secret `{name}` is owned by"),
                    file,
                    owner,
                );
            }
            let values = |list: Option<Vec<Spanned<String>>>| {
                list.map(|l| {
                    let mut l: Vec<String> = l.into_iter().map(|v| v.value).collect();
                    l.sort();
                    l.dedup();
                    l
                })
            };
            let secret = crate::model::UnmanagedSecret {
                name: name.clone(),
                created_by: raw.created_by.value,
                namespaces: values(raw.namespaces),
                keys: values(raw.keys),
                owner: raw.owner.map(|o| o.value),
                description: raw.description,
                origin: Origin {
                    file,
                    span: def.name_span,
                },
            };
            (name, secret)
        })
        .collect()
}

/// A namespace mapping as written, checked once every namespace of the catalog is known.
pub(crate) struct Mapping {
    pub env: String,
    pub file: FileId,
    pub from: Spanned<String>,
}

fn compile_environments(
    ctx: &mut Ctx,
    raw: Defs<RawEnvironment>,
    catalog_store: &Store,
) -> (BTreeMap<String, Environment>, Vec<Mapping>) {
    let mut mappings = Vec::new();
    let environments = raw
        .into_iter()
        .map(|(name, def)| {
            let file = def.file;
            let spanned = Spanned::new(name.clone(), def.name_span.clone());
            ctx.check_name("environment name", file, &spanned, |n: &str| {
                names::dns1123_label(n, 63)
            });
            let raw = def.value.value;
            let mut store = catalog_store.clone();
            if let Some(overrides) = raw.store.map(|s| s.value) {
                if let Some(kind) = overrides.kind {
                    store.kind = kind.value;
                }
                if let Some(store_name) = overrides.name {
                    ctx.check_name("store name", file, &store_name, |n: &str| {
                        names::dns1123_subdomain(n)
                    });
                    store.name = store_name.value;
                }
                if let Some(namespace) = overrides.namespace {
                    ctx.check_name("store namespace", file, &namespace, |n: &str| {
                        names::dns1123_label(n, 63)
                    });
                    store.namespace = Some(namespace.value);
                }
                if let Some(server) = overrides.server {
                    store.server = Some(server.value);
                }
            }
            let mut namespaces = BTreeMap::new();
            for (from, to) in raw.namespaces {
                ctx.check_name("namespace", file, &to, |n: &str| {
                    names::dns1123_label(n, 63)
                });
                namespaces.insert(from.value.clone(), to.value);
                mappings.push(Mapping {
                    env: name.clone(),
                    file,
                    from,
                });
            }
            let env = Environment {
                name: name.clone(),
                fixtures: raw.fixtures.value,
                description: raw.description,
                store,
                namespaces,
                origin: Origin {
                    file,
                    span: def.name_span,
                },
            };
            (name, env)
        })
        .collect();
    (environments, mappings)
}

/// Each bundle's `needs` as written, ordered once every bundle is known.
pub(crate) type Needs = BTreeMap<String, (FileId, Vec<Spanned<String>>)>;

fn compile_bundles(
    ctx: &mut Ctx,
    raw: Defs<crate::load::raw::RawBundle>,
) -> (BTreeMap<String, Bundle>, Needs) {
    let mut needs = Needs::new();
    let bundles = raw
        .into_iter()
        .map(|(name, def)| {
            let file = def.file;
            let spanned = Spanned::new(name.clone(), def.name_span.clone());
            let raw = def.value.value;
            ctx.check_name("namespace", file, &raw.namespace, |n: &str| {
                names::dns1123_label(n, 63)
            });
            let name_is_valid = names::dns1123_label(&name, 63).is_none();
            ctx.check_name("bundle name", file, &spanned, |n: &str| {
                names::dns1123_label(n, 63)
            });
            let explicit = raw.release.is_some();
            let release = raw.release.unwrap_or_else(|| {
                let default = match raw.kind.value {
                    BundleKind::Layer15 => format!("vault-secrets-{name}"),
                    BundleKind::Integration | BundleKind::Chart => name.clone(),
                };
                Spanned::new(default, def.name_span.clone())
            });
            // A derived release name is only news when the bundle name itself is fine.
            if explicit || name_is_valid {
                let what = if explicit {
                    "release name"
                } else {
                    "derived release name"
                };
                ctx.check_name(what, file, &release, |n: &str| names::dns1123_label(n, 53));
            }
            let release = release.value;
            needs.insert(name.clone(), (file, raw.needs));
            if let Some(owner) = &raw.owner {
                ctx.check_owner(&format!("bundle `{name}` is owned by"), file, owner);
            }
            let subject = format!("bundle `{name}` is limited to");
            let environments = raw
                .environments
                .map(|list| ctx.check_environments(&subject, file, &list.value));
            let subject = format!("bundle `{name}` sets `installed` for");
            let not_installed = raw
                .installed
                .iter()
                .filter(|(env, _)| ctx.check_environment(&subject, file, env))
                .filter(|(_, installed)| !installed.value)
                .map(|(env, _)| env.value.clone())
                .collect();
            let bundle = Bundle {
                name: name.clone(),
                kind: raw.kind.value,
                release,
                namespace: raw.namespace.value,
                owner: raw.owner.map(|o| o.value),
                description: raw.description,
                environments,
                not_installed,
                needs: Vec::new(),
                need_origins: BTreeMap::new(),
                sync_wave: 0,
                secrets: Vec::new(),
                origin: Origin {
                    file,
                    span: def.name_span,
                },
            };
            (name, bundle)
        })
        .collect();
    (bundles, needs)
}

#[cfg(test)]
mod tests {
    use crate::diagnostics::Code;

    const BASE: &str = r#"
[store]
name = "ameide-vault"
mount = "secret"
[environments.local]
fixtures = true
[bundles.platform]
kind = "layer15"
namespace = "ameide"
[bundles.integration]
kind = "integration"
namespace = "ameide-int-tests"
[keys.db-url]
fixture = "postgresql://db"
"#;

    #[test]
    fn unknown_owners_are_suggested_once_compiled_and_a_long_list_is_cut() {
        let owners: String = (0..30)
            .map(|i| format!("[owners.team-{i:02}]\nteam = \"T\"\ncontact = \"#t\"\n"))
            .collect();
        let keys: String = (0..500)
            .map(|i| {
                format!(
                    "[keys.k{i}]\nowner = \"taem-{:02}\"\nfixture = \"x\"\n",
                    i % 30
                )
            })
            .collect();
        let text = format!("{BASE}{owners}{keys}[keys.lone]\nowner = \"zzz\"\nfixture = \"x\"\n");
        let compiled =
            crate::compile_sources(vec![(std::path::PathBuf::from("secretcat.toml"), text)]);
        let unknown: Vec<_> = compiled
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::UnknownOwner)
            .collect();
        assert_eq!(unknown.len(), 501);
        for (i, d) in unknown
            .iter()
            .filter(|d| d.message.contains("taem-"))
            .enumerate()
        {
            let wanted = d
                .message
                .rsplit('`')
                .nth(1)
                .unwrap()
                .replace("taem", "team");
            assert_eq!(
                d.help.as_deref(),
                Some(format!("did you mean `{wanted}`?").as_str()),
                "{i}"
            );
        }
        let lone = unknown
            .iter()
            .find(|d| d.message.contains("`zzz`"))
            .unwrap();
        let help = lone.help.as_deref().unwrap();
        assert!(help.contains("team-19, and 10 more;"), "{help}");
        assert!(!help.contains("team-20"), "{help}");
    }

    /// Compile BASE plus `extra` as one secretcat.toml; the (code, line, column) of every diagnostic.
    fn diagnose(extra: &str) -> Vec<(Code, isize, usize)> {
        let dir = tempfile::tempdir().unwrap();
        let catalog = dir.path().join("catalog");
        std::fs::create_dir_all(&catalog).unwrap();
        std::fs::write(catalog.join("secretcat.toml"), format!("{BASE}{extra}")).unwrap();
        let compiled = crate::compile(&catalog, dir.path());
        compiled
            .diagnostics
            .iter()
            .map(|d| {
                let label = d
                    .primary
                    .as_ref()
                    .expect("every catalog diagnostic has a place");
                let pos = compiled.files.get(label.file).position(label.span.start);
                (
                    d.code,
                    pos.line as isize - BASE.lines().count() as isize,
                    pos.column,
                )
            })
            .collect()
    }

    #[test]
    fn each_rule_reports_its_code_at_the_offending_token() {
        let table: &[(&str, Code, isize, usize)] = &[
            (
                "[secrets.s]\nbundle = \"platfrom\"\ndata.A = \"db-url\"\n",
                Code::UnknownBundle,
                2,
                10,
            ),
            (
                "[secrets.s]\nbundle = \"platform\"\ndata.A = \"db-ulr\"\n",
                Code::UnknownKey,
                3,
                10,
            ),
            (
                "[keys.k]\n[secrets.s]\nbundle = \"platform\"\ndata.A = \"k\"\n",
                Code::MissingValueSource,
                1,
                7,
            ),
            (
                "[keys.k]\nfixture = \"a\"\nexternal = \"b\"\n[secrets.s]\nbundle = \"platform\"\ndata.A = \"k\"\n",
                Code::ConflictingValueSources,
                3,
                12,
            ),
            (
                "[secrets.S]\nbundle = \"platform\"\ndata.A = \"db-url\"\n",
                Code::InvalidName,
                1,
                10,
            ),
            (
                "[secrets.s]\nbundle = \"platform\"\ndata.\"a b\" = \"db-url\"\n",
                Code::InvalidDataKey,
                3,
                6,
            ),
            (
                "[secrets.s]\nbundle = \"integration\"\ndata.client-secret = \"db-url\"\n",
                Code::InvalidEnvVar,
                3,
                6,
            ),
            (
                "[secrets.s]\nbundle = \"platform\"\nrefresh_interval = \"1d\"\ndata.A = \"db-url\"\n",
                Code::InvalidDuration,
                3,
                20,
            ),
            (
                "[secrets.s]\nbundle = \"platform\"\ndata.A = \"db-url\"\nconsumers = [{ name = \"c\", via = \"envFrom\", requires = [\"B\"] }]\n",
                Code::UnknownRequiredKey,
                4,
                57,
            ),
            (
                "[secrets.s]\nbundle = \"platform\"\n",
                Code::EmptySecret,
                1,
                10,
            ),
            (
                "[keys.a]\nalias = \"dbUrl\"\nfixture = \"x\"\n[secrets.s]\nbundle = \"platform\"\ndata.A = \"a\"\ndata.B = \"db-url\"\n",
                Code::DuplicateAlias,
                2,
                9,
            ),
            (
                "[keys.\"secret/foo\"]\nfixture = \"x\"\n[secrets.s]\nbundle = \"platform\"\ndata.A = \"secret/foo\"\ndata.B = \"db-url\"\n",
                Code::MountPrefix,
                1,
                7,
            ),
            (
                "[keys.k]\nfixture = \"short\"\nmin_length = 8\n[secrets.s]\nbundle = \"platform\"\ndata.A = \"k\"\ndata.B = \"db-url\"\n",
                Code::FixtureTooShort,
                2,
                11,
            ),
            (
                "[secrets.s]\nbundle = \"platform\"\ndata.A = \"db-url\"\n[secrets.t]\nbundle = \"platform\"\nexternal_secret = \"s-sync\"\ndata.A = \"db-url\"\n",
                Code::DuplicateTarget,
                6,
                19,
            ),
            (
                "[keys.k]\nexternal = \"elsewhere\"\n[secrets.s]\nbundle = \"platform\"\ndata.A = \"db-url\"\n",
                Code::UnusedKey,
                1,
                7,
            ),
        ];
        for (extra, code, line, column) in table {
            let found = diagnose(extra);
            assert!(
                found.contains(&(*code, *line, *column)),
                "{code:?} at {line}:{column} expected for\n{extra}\nfound {found:?}"
            );
        }
    }

    #[test]
    fn a_valid_catalog_has_no_diagnostics() {
        assert_eq!(
            diagnose("[secrets.s]\nbundle = \"platform\"\ndata.A = \"db-url\"\n"),
            vec![]
        );
    }
}
