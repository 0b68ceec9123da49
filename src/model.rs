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

#[derive(Debug)]
pub struct Catalog {
    /// The catalog folder relative to the root, as written into file headers (`catalog`).
    pub catalog_dir: String,
    pub store: Store,
    pub environments: BTreeMap<String, Environment>,
    pub bundles: BTreeMap<String, Bundle>,
    pub keys: BTreeMap<String, Key>,
    pub secrets: BTreeMap<String, Secret>,
    pub outputs: OutputPaths<String>,
}

#[derive(Debug)]
pub struct Store {
    pub kind: StoreKind,
    pub name: String,
    pub mount: String,
    pub property: String,
    pub refresh_interval: String,
    pub server: Option<String>,
}

#[derive(Debug)]
pub struct Environment {
    pub name: String,
    pub fixtures: bool,
    pub description: Option<String>,
}

#[derive(Debug)]
pub struct Bundle {
    pub name: String,
    pub kind: BundleKind,
    pub release: String,
    pub namespace: String,
    pub owner: Option<String>,
    pub description: Option<String>,
    /// Secrets of this bundle, sorted by name.
    pub secrets: Vec<String>,
    pub origin: Origin,
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

#[derive(Debug)]
pub struct Key {
    pub path: String,
    pub alias: String,
    pub owner: Option<String>,
    pub description: Option<String>,
    pub source: ValueSource,
    pub min_length: Option<u64>,
    pub rotation: Option<String>,
    /// Secrets reading this key, sorted.
    pub used_by: Vec<String>,
    pub origin: Origin,
}

#[derive(Debug)]
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
    /// Data key → Vault reference, sorted by data key.
    pub data: BTreeMap<String, DataRef>,
    pub consumers: Vec<Consumer>,
    pub rotation: Option<String>,
    pub description: Option<String>,
    pub origin: Origin,
}

impl Secret {
    /// The data keys the Kubernetes Secret ends up with: template keys replace fetched ones
    /// unless the template merges.
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

#[derive(Debug)]
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

#[derive(Debug)]
pub struct Consumer {
    pub name: String,
    pub via: Via,
    pub requires: Vec<String>,
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
    };
}

impl Catalog {
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
    Schema,
    Docs,
}

impl OutputPaths<String> {
    /// Every output file of the catalog, relative to the root, with the bundle it renders.
    pub fn files<'a>(
        &self,
        bundles: impl IntoIterator<Item = &'a Bundle>,
    ) -> Vec<(OutputKind, Option<&'a str>, String)> {
        // One spelling per file: `a//b`, `./a` and `a/./b` all name `a/b`, so collisions and
        // orphans compare like with like.
        let join = |pattern: &str| {
            format!("{}/{pattern}", self.dir)
                .split('/')
                .filter(|segment| !segment.is_empty() && *segment != ".")
                .collect::<Vec<_>>()
                .join("/")
        };
        let mut files = vec![
            (OutputKind::KeyMap, None, join(&self.key_map)),
            (OutputKind::Fixtures, None, join(&self.fixtures)),
            (OutputKind::Schema, None, join(&self.schema)),
            (OutputKind::Docs, None, join(&self.docs)),
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
                join(&path),
            ));
        }
        files
    }
}
