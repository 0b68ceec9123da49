//! The compiled catalog: every reference resolved, every default applied, every name checked.
//! Only `validate` builds it; renderers and commands read nothing else.

use std::collections::BTreeMap;
use std::ops::Range;

pub use crate::load::raw::{
    BundleKind, Charset, DecodingStrategy, EngineVersion, MergePolicy, StoreKind, Via,
};
use crate::source::FileId;

/// Where a definition came from, for `explain` and for findings raised after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: FileId,
    pub span: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    /// The catalog folder relative to the root, as written into file headers (`catalog`).
    pub catalog_dir: String,
    pub store: Store,
    pub environments: BTreeMap<String, Environment>,
    pub owners: BTreeMap<String, Owner>,
    pub bundles: BTreeMap<String, Bundle>,
    pub keys: NameMap<Key>,
    pub secrets: NameMap<Secret>,
    /// Secrets something else creates, by Secret name.
    pub unmanaged_secrets: BTreeMap<String, UnmanagedSecret>,
    pub outputs: OutputPaths<String>,
}

#[derive(Debug, Clone)]
pub struct UnmanagedSecret {
    pub name: String,
    pub created_by: String,
    /// `None`: any namespace.
    pub namespaces: Option<Vec<String>>,
    /// `None`: the data keys are not known.
    pub keys: Option<Vec<String>>,
    pub owner: Option<String>,
    pub description: Option<String>,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    pub kind: StoreKind,
    pub name: String,
    /// Where a namespaced `SecretStore` lives; `None` for a cluster store or one per namespace.
    pub namespace: Option<String>,
    pub mount: String,
    pub property: String,
    pub refresh_interval: String,
    pub server: Option<String>,
    pub release: String,
    pub sync_wave: i64,
}

impl Store {
    pub const DEFAULT_RELEASE: &'static str = "vault-secret-store";
    /// Layer 15 of the platform: the store first, bundles from the next wave on.
    pub const DEFAULT_WAVE: i64 = 15;
}

#[derive(Debug, Clone)]
pub struct Environment {
    pub name: String,
    pub fixtures: bool,
    pub description: Option<String>,
    /// The store as this environment sees it (the catalog store with its overrides applied).
    pub store: Store,
    /// Catalog namespace → the namespace it is here; unmapped namespaces stay as they are.
    pub namespaces: BTreeMap<String, String>,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Owner {
    pub name: String,
    pub team: String,
    pub contact: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Bundle {
    pub name: String,
    pub kind: BundleKind,
    pub release: String,
    pub namespace: String,
    pub owner: Option<String>,
    pub description: Option<String>,
    /// `None`: every environment.
    pub environments: Option<Vec<String>>,
    /// Environments whose release toggle is off.
    pub not_installed: Vec<String>,
    /// Bundles applied before this one, sorted.
    pub needs: Vec<String>,
    /// Where each of `needs` was written.
    pub need_origins: BTreeMap<String, Origin>,
    /// Argo CD sync wave: after the store and after every bundle it needs.
    pub sync_wave: i64,
    /// Secrets of this bundle, sorted by name.
    pub secrets: Vec<String>,
    pub origin: Origin,
}

impl Bundle {
    pub fn exists_in(&self, env: Env) -> bool {
        in_scope(&self.environments, env)
    }

    pub fn installed_in(&self, env: Env) -> bool {
        self.exists_in(env) && env.is_none_or(|e| !self.not_installed.iter().any(|n| n == e))
    }
}

/// One environment, or `None` for a catalog that declares none (one implicit environment).
pub type Env<'a> = Option<&'a str>;

fn in_scope(limit: &Option<Vec<String>>, env: Env) -> bool {
    match (limit, env) {
        (Some(list), Some(env)) => list.iter().any(|e| e == env),
        _ => true,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    Fixture(String),
    Generate {
        length: u64,
        charset: Charset,
    },
    /// No fixture; `None` when the catalog does not say where the value comes from (allowed only
    /// when no environment seeds fixtures).
    External(Option<String>),
}

/// What is seeded for a key where fixtures are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed<'a> {
    /// The literal dev value.
    Fixture(&'a str),
    /// A fresh random value, written once and kept afterwards.
    Generate { length: u64, charset: Charset },
}

#[derive(Debug, Clone)]
pub struct Key {
    pub path: String,
    pub alias: String,
    pub owner: Option<String>,
    pub description: Option<String>,
    pub source: ValueSource,
    pub min_length: Option<u64>,
    pub rotation: Option<String>,
    /// A real value must exist in Vault before ESO syncs (external values only).
    pub required: bool,
    /// `allow_credential_like` gives a reason: its fixtures are test values that only look like
    /// credentials, and are shown as they are.
    pub credential_like_allowed: bool,
    /// Environment → its value source there, where it differs from `source`.
    pub overrides: NameMap<KeyOverride>,
    /// The `fixture`, `generate` or `external` field, when the key has one.
    pub source_origin: Option<Origin>,
    /// Secrets reading this key, sorted.
    pub used_by: Vec<String>,
    pub origin: Origin,
}

/// Name → value, held in a Vec sorted by name: the catalog's keys and secrets, a key's overrides
/// by environment, a secret's data keys. A `BTreeMap` allocates room for eleven entries in every
/// node, most of them empty in the small maps (36 MB of empty slots for 30,000 keys' overrides),
/// and builds its nodes one insert at a time; this is built in order, once, and read by binary
/// search.
#[derive(Debug, Clone)]
pub struct NameMap<V>(Vec<(String, V)>);

impl<V> Default for NameMap<V> {
    fn default() -> Self {
        NameMap(Vec::new())
    }
}

impl<V> NameMap<V> {
    /// An empty map with room for `entries` without growing.
    pub fn with_capacity(entries: usize) -> Self {
        NameMap(Vec::with_capacity(entries))
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.0
            .binary_search_by(|(entry, _)| entry.as_str().cmp(name))
    }

    pub fn get(&self, name: &str) -> Option<&V> {
        self.position(name).ok().map(|i| &self.0[i].1)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut V> {
        self.position(name).ok().map(|i| &mut self.0[i].1)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    /// Set `name`'s value, replacing any it had.
    pub fn insert(&mut self, name: String, value: V) {
        match self.position(&name) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => {
                // Grown one entry at a time: most of these maps hold one to three entries.
                self.0.reserve_exact(1);
                self.0.insert(i, (name, value));
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.0.iter().map(|(name, value)| (name, value))
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(name, _)| name)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, value)| value)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}

impl<V> FromIterator<(String, V)> for NameMap<V> {
    /// As a map would be built: a name given twice keeps its last value.
    fn from_iter<I: IntoIterator<Item = (String, V)>>(entries: I) -> Self {
        let mut entries: Vec<(String, V)> = entries.into_iter().collect();
        sort_keeping_last(&mut entries);
        NameMap(entries)
    }
}

/// Sort `entries` by name, and of a name given twice keep the last value, as a map would.
pub(crate) fn sort_keeping_last<K: Ord, V>(entries: &mut Vec<(K, V)>) {
    // Stable, and one pass over entries already in order (the catalog's keys and secrets).
    entries.sort_by(|(a, _), (b, _)| a.cmp(b));
    // Of a run of equal names the first slot stays; the later value is moved into it.
    entries.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            std::mem::swap(later, kept);
        }
        same
    });
}

impl<V> std::ops::Index<&str> for NameMap<V> {
    type Output = V;
    /// The value of `name`, which must be in the map.
    fn index(&self, name: &str) -> &V {
        match self.get(name) {
            Some(value) => value,
            None => panic!("no entry `{name}`"),
        }
    }
}

impl<'a, V> IntoIterator for &'a NameMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, V)>,
        fn(&'a (String, V)) -> (&'a String, &'a V),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(env, value)| (env, value))
    }
}

#[derive(Debug, Clone)]
pub struct KeyOverride {
    pub source: Option<ValueSource>,
    pub required: Option<bool>,
    /// The override's table, and the source inside it when it has one.
    pub origin: Origin,
    pub source_origin: Option<Origin>,
}

impl Key {
    pub fn source_in(&self, env: Env) -> &ValueSource {
        env.and_then(|e| self.overrides.get(e))
            .and_then(|o| o.source.as_ref())
            .unwrap_or(&self.source)
    }

    /// Whether a real value must exist in `env`: as the override or the key says, and only
    /// where the value there is external (a fixture override drops it).
    pub fn required_in(&self, env: Env) -> bool {
        let required = env
            .and_then(|e| self.overrides.get(e))
            .and_then(|o| o.required)
            .unwrap_or(self.required);
        required && matches!(self.source_in(env), ValueSource::External(_))
    }
}

#[derive(Debug, Clone)]
pub struct Secret {
    /// Catalog name of the secret.
    pub name: String,
    /// Name of the Kubernetes Secret.
    pub target: String,
    pub bundle: String,
    pub namespace: String,
    pub owner: Option<String>,
    pub external_secret: String,
    pub secret_type: Option<String>,
    pub template: Option<Template>,
    pub refresh_interval: String,
    /// `None`: every environment.
    pub environments: Option<Vec<String>>,
    /// Why the secret is in Layer 15 although one owner's workloads read it.
    pub preprovision: Option<String>,
    /// Data key → Vault reference, sorted by data key.
    pub data: NameMap<DataRef>,
    /// Vault keys read whole (`dataFrom.extract`), sorted: their properties are not known here.
    pub extract: Vec<String>,
    pub consumers: Vec<Consumer>,
    pub rotation: Option<String>,
    pub description: Option<String>,
    pub origin: Origin,
}

impl Secret {
    /// The secret's own limit; its bundle's limits and toggles are the catalog's to combine.
    pub fn listed_in(&self, env: Env) -> bool {
        in_scope(&self.environments, env)
    }
    /// Whether the Secret may hold data keys the catalog cannot name: it extracts whole Vault
    /// keys, and no replacing template narrows them down.
    pub fn provides_unknown_keys(&self) -> bool {
        !self.extract.is_empty()
            && !matches!(&self.template, Some(t) if !t.data.is_empty() && t.merge_policy == MergePolicy::Replace)
    }

    /// Every Vault key the secret reads, sorted and unique.
    pub fn vault_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .data
            .values()
            .map(|d| d.key.as_str())
            .chain(self.extract.iter().map(String::as_str))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// The data keys the Kubernetes Secret ends up with that the catalog can name: template keys
    /// replace fetched ones unless the template merges.
    pub fn provided_keys(&self) -> Vec<&str> {
        let fetched = self.data.keys().map(String::as_str);
        match &self.template {
            Some(template) if !template.data.is_empty() => {
                let templated = template.data.keys().map(String::as_str);
                let mut keys: Vec<&str> = match template.merge_policy {
                    MergePolicy::Replace => templated.collect(),
                    MergePolicy::Merge => templated.chain(fetched).collect(),
                };
                keys.sort_unstable();
                keys.dedup();
                keys
            }
            _ => fetched.collect(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Template {
    pub data: BTreeMap<String, String>,
    pub merge_policy: MergePolicy,
    pub engine_version: EngineVersion,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRef {
    pub key: String,
    pub property: String,
    pub decoding_strategy: DecodingStrategy,
}

#[derive(Debug, Clone)]
pub struct Consumer {
    pub name: String,
    pub via: Via,
    pub requires: Vec<String>,
    /// The consumer's owner, or its secret's when it names none.
    pub owner: Option<String>,
    /// `None`: every environment.
    pub environments: Option<Vec<String>>,
    pub sync_wave: Option<i64>,
    /// The consumer's `name`, which diagnostics about it point at.
    pub origin: Origin,
    pub sync_wave_origin: Option<Origin>,
}

impl Consumer {
    pub fn installed_in(&self, env: Env) -> bool {
        in_scope(&self.environments, env)
    }
}

/// Output path patterns, relative to `dir`; `{bundle}` and `{release}` expand per bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPaths<S> {
    pub dir: S,
    pub key_map: S,
    pub layer15: S,
    pub integration: S,
    pub chart: S,
    pub fixtures: S,
    pub schema: S,
    pub docs: S,
    pub releases: S,
    /// Folder, below `dir`, of the files that differ between environments; holds `{env}`.
    pub environment: S,
}

impl OutputPaths<&'static str> {
    pub const DEFAULT: Self = OutputPaths {
        dir: "generated",
        key_map: "vault-secrets.base.yaml",
        layer15: "vault-secrets-{bundle}.yaml",
        integration: "{release}.yaml",
        chart: "charts/{bundle}/externalsecrets.yaml",
        fixtures: "foundation-vault-bootstrap.fixtures.yaml",
        schema: "catalog.schema.json",
        docs: "SECRETS.md",
        releases: "15-secrets.values.yaml",
        environment: "{env}",
    };
}

impl Catalog {
    /// Every environment, or the one implicit environment of a catalog that declares none.
    pub fn envs(&self) -> Vec<Env<'_>> {
        if self.environments.is_empty() {
            vec![None]
        } else {
            self.environments.keys().map(|e| Some(e.as_str())).collect()
        }
    }

    /// Whether fixtures may be seeded in `env` (always, in a catalog without environments).
    pub fn seeds(&self, env: Env) -> bool {
        env.and_then(|e| self.environments.get(e))
            .is_none_or(|e| e.fixtures)
    }

    pub fn store_in(&self, env: Env) -> &Store {
        env.and_then(|e| self.environments.get(e))
            .map_or(&self.store, |e| &e.store)
    }

    /// The namespace a catalog namespace is in `env`.
    pub fn namespace_in<'a>(&'a self, namespace: &'a str, env: Env) -> &'a str {
        env.and_then(|e| self.environments.get(e))
            .and_then(|e| e.namespaces.get(namespace))
            .map_or(namespace, String::as_str)
    }

    /// Whether `secret`'s ExternalSecret is rendered for `env`.
    pub fn renders_in(&self, secret: &Secret, env: Env) -> bool {
        secret.listed_in(env)
            && self
                .bundles
                .get(&secret.bundle)
                .is_some_and(|b| b.exists_in(env))
    }

    /// Whether `secret` exists in `env`'s cluster: rendered, and its bundle's release installed.
    pub fn installed_in(&self, secret: &Secret, env: Env) -> bool {
        secret.listed_in(env)
            && self
                .bundles
                .get(&secret.bundle)
                .is_some_and(|b| b.installed_in(env))
    }

    /// The catalog as one environment sees it: only what is rendered there, namespaces mapped,
    /// the environment's store, and each key's value source there. For `list --env`.
    pub fn in_environment(&self, env: &str) -> Catalog {
        let mut secrets: NameMap<Secret> = NameMap::default();
        for secret in self
            .secrets
            .values()
            .filter(|s| self.renders_in(s, Some(env)))
        {
            let mut secret = secret.clone();
            secret.namespace = self.namespace_in(&secret.namespace, Some(env)).to_string();
            secret.consumers.retain(|c| c.installed_in(Some(env)));
            secrets.insert(secret.name.clone(), secret);
        }
        let bundles = self
            .bundles
            .values()
            .filter(|b| b.exists_in(Some(env)))
            .map(|b| {
                let mut bundle = b.clone();
                bundle.namespace = self.namespace_in(&b.namespace, Some(env)).to_string();
                bundle.secrets.retain(|s| secrets.contains_key(s));
                (bundle.name.clone(), bundle)
            })
            .collect();
        let keys = self
            .keys
            .values()
            .map(|k| {
                let mut key = k.clone();
                key.source = k.source_in(Some(env)).clone();
                key.required = k.required_in(Some(env));
                key.overrides.clear();
                key.used_by.retain(|s| secrets.contains_key(s));
                (key.path.clone(), key)
            })
            .collect();
        Catalog {
            store: self.store_in(Some(env)).clone(),
            bundles,
            keys,
            secrets,
            ..self.clone()
        }
    }

    /// The keys the bootstrap job (and `secretcat seed`) writes into Vault in `env`, sorted by
    /// path: every key whose value there is a fixture or generated; none where fixtures are not
    /// seeded. The fixture map is rendered from this, so a seed writes exactly what it lists.
    pub fn seeded_keys(&self, env: Env) -> Vec<(&Key, Seed<'_>)> {
        if !self.seeds(env) {
            return Vec::new();
        }
        self.keys
            .values()
            .filter_map(|k| match k.source_in(env) {
                ValueSource::Fixture(value) => Some((k, Seed::Fixture(value))),
                &ValueSource::Generate { length, charset } => {
                    Some((k, Seed::Generate { length, charset }))
                }
                ValueSource::External(_) => None,
            })
            .collect()
    }

    pub fn seeding_environments(&self) -> Vec<&str> {
        self.environments
            .values()
            .filter(|e| e.fixtures)
            .map(|e| e.name.as_str())
            .collect()
    }

    /// The consumers of every secret, as (secret, consumer) pairs sorted by consumer then secret.
    pub fn consumers(&self) -> Vec<(&Secret, &Consumer)> {
        let mut all: Vec<_> = self
            .secrets
            .values()
            .flat_map(|s| s.consumers.iter().map(move |c| (s, c)))
            .collect();
        all.sort_by(|a, b| (&a.1.name, &a.0.name).cmp(&(&b.1.name, &b.0.name)));
        all
    }
}

/// Which output a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OutputKind {
    KeyMap,
    Bundle(BundleKind),
    Fixtures,
    Releases,
    Schema,
    Docs,
}

impl OutputKind {
    /// Whether the output can differ between environments (the schema and the service map cover
    /// them all).
    pub fn per_environment(self) -> bool {
        !matches!(self, OutputKind::Schema | OutputKind::Docs)
    }
}

impl From<OutputPaths<&str>> for OutputPaths<String> {
    fn from(paths: OutputPaths<&str>) -> Self {
        OutputPaths {
            dir: paths.dir.into(),
            key_map: paths.key_map.into(),
            layer15: paths.layer15.into(),
            integration: paths.integration.into(),
            chart: paths.chart.into(),
            fixtures: paths.fixtures.into(),
            schema: paths.schema.into(),
            docs: paths.docs.into(),
            releases: paths.releases.into(),
            environment: paths.environment.into(),
        }
    }
}

impl OutputPaths<String> {
    /// Every output of the catalog with the bundle it renders, relative to `dir` (and to the
    /// environment folder, for a file that differs between environments).
    pub fn outputs<'a>(
        &self,
        bundles: impl IntoIterator<Item = &'a Bundle>,
    ) -> Vec<(OutputKind, Option<&'a str>, String)> {
        let mut files = vec![
            (OutputKind::KeyMap, None, self.key_map.clone()),
            (OutputKind::Fixtures, None, self.fixtures.clone()),
            (OutputKind::Releases, None, self.releases.clone()),
            (OutputKind::Schema, None, self.schema.clone()),
            (OutputKind::Docs, None, self.docs.clone()),
        ];
        for bundle in bundles {
            let pattern = match bundle.kind {
                BundleKind::Layer15 => &self.layer15,
                BundleKind::Integration => &self.integration,
                BundleKind::Chart => &self.chart,
            };
            let path = pattern
                .replace("{bundle}", &bundle.name)
                .replace("{release}", &bundle.release);
            files.push((
                OutputKind::Bundle(bundle.kind),
                Some(bundle.name.as_str()),
                path,
            ));
        }
        files
    }

    /// Where an output is written, relative to the root: once for all environments, or in the
    /// folder of one.
    pub fn place(&self, relative: &str, env: Env) -> String {
        // One spelling per file: `a//b`, `./a` and `a/./b` all name `a/b`, so collisions and
        // orphans compare like with like.
        let folder = env.map(|e| self.environment.replace("{env}", e));
        [Some(self.dir.as_str()), folder.as_deref(), Some(relative)]
            .into_iter()
            .flatten()
            .flat_map(|part| part.split('/'))
            .filter(|segment| !segment.is_empty() && *segment != ".")
            .collect::<Vec<_>>()
            .join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs() -> OutputPaths<String> {
        OutputPaths {
            dir: "./gen//",
            environment: "env/./{env}",
            ..OutputPaths::DEFAULT
        }
        .into()
    }

    #[test]
    fn a_file_is_placed_once_or_in_its_environment_folder_in_one_spelling() {
        let outputs = outputs();
        assert_eq!(outputs.place("a//b.yaml", None), "gen/a/b.yaml");
        assert_eq!(
            outputs.place("charts/x/e.yaml", Some("prod")),
            "gen/env/prod/charts/x/e.yaml"
        );
    }

    fn key(
        source: ValueSource,
        required: bool,
        overrides: &[(&str, Option<ValueSource>, Option<bool>)],
    ) -> Key {
        let origin = Origin {
            file: crate::source::FileId(0),
            span: 0..0,
        };
        Key {
            path: "k".into(),
            alias: "k".into(),
            owner: None,
            description: None,
            source,
            min_length: None,
            rotation: None,
            required,
            credential_like_allowed: false,
            overrides: overrides
                .iter()
                .map(|(env, source, required)| {
                    let over = KeyOverride {
                        source: source.clone(),
                        required: *required,
                        origin: origin.clone(),
                        source_origin: None,
                    };
                    (env.to_string(), over)
                })
                .collect(),
            source_origin: None,
            used_by: vec![],
            origin,
        }
    }

    #[test]
    fn required_follows_the_override_and_only_holds_for_external_values() {
        let external = ValueSource::External(Some("AKV".into()));
        let fixture = ValueSource::Fixture("dev".into());
        let k = key(
            external.clone(),
            true,
            &[
                ("local", Some(fixture.clone()), None),
                ("staging", Some(external.clone()), None),
                ("dev", None, Some(false)),
            ],
        );
        assert!(k.required_in(None));
        assert!(k.required_in(Some("production")), "no override: the key's");
        assert!(
            k.required_in(Some("staging")),
            "an external override inherits it"
        );
        assert!(
            !k.required_in(Some("local")),
            "a fixture cannot be required"
        );
        assert!(!k.required_in(Some("dev")), "the override turns it off");
        assert_eq!(k.source_in(Some("local")), &fixture);
        assert_eq!(
            k.source_in(Some("dev")),
            &external,
            "an override without a source keeps the key's"
        );
    }
}
