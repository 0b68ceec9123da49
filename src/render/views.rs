//! What the templates see: plain serialisable views of the compiled catalog, shaped like the
//! files they become. Field names here are part of the template contract for overrides.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{
    BundleKind, Catalog, DecodingStrategy, Env, Secret, Seed, StoreKind, ValueSource,
};

/// Marker the bootstrap job replaces with a stable per-cluster random value.
pub const GENERATE_MARKER: &str = "__generate__";

#[derive(Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StoreView<'a> {
    pub kind: StoreKind,
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<&'a str>,
    pub mount: &'a str,
    pub version: &'static str,
    pub property: &'a str,
    pub refresh_interval: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<&'a str>,
}

pub fn store<'a>(catalog: &'a Catalog, env: Env) -> StoreView<'a> {
    let store = catalog.store_in(env);
    StoreView {
        kind: store.kind,
        name: &store.name,
        namespace: store.namespace.as_deref(),
        mount: &store.mount,
        version: "v2",
        property: &store.property,
        refresh_interval: &store.refresh_interval,
        server: store.server.as_deref(),
    }
}

/// alias → Vault key path, sorted by alias.
pub fn key_map(catalog: &Catalog) -> BTreeMap<&str, &str> {
    catalog
        .keys
        .values()
        .map(|k| (k.alias.as_str(), k.path.as_str()))
        .collect()
}

/// Vault key path → fixture literal or the generate marker, in an environment that seeds
/// fixtures; external keys are left out, and an environment that does not seed gets none.
pub fn fixtures<'a>(catalog: &'a Catalog, env: Env) -> BTreeMap<&'a str, &'a str> {
    catalog
        .seeded_keys(env)
        .into_iter()
        .map(|(k, seed)| match seed {
            Seed::Fixture(value) => (k.path.as_str(), value),
            Seed::Generate { .. } => (k.path.as_str(), GENERATE_MARKER),
        })
        .collect()
}

#[derive(Serialize, PartialEq)]
pub struct GenerateView {
    pub length: u64,
    pub charset: crate::model::Charset,
}

/// Vault key path → how the bootstrap job generates its value, for every `__generate__` key.
pub fn generate_parameters<'a>(catalog: &'a Catalog, env: Env) -> BTreeMap<&'a str, GenerateView> {
    catalog
        .seeded_keys(env)
        .into_iter()
        .filter_map(|(k, seed)| match seed {
            Seed::Generate { length, charset } => {
                Some((k.path.as_str(), GenerateView { length, charset }))
            }
            Seed::Fixture(_) => None,
        })
        .collect()
}

/// External keys that must hold a real value in Vault before ESO syncs, sorted.
pub fn required<'a>(catalog: &'a Catalog, env: Env) -> Vec<&'a str> {
    catalog
        .keys
        .values()
        .filter(|k| k.required_in(env) && matches!(k.source_in(env), ValueSource::External(_)))
        .map(|k| k.path.as_str())
        .collect()
}

#[derive(Serialize, PartialEq)]
pub struct BundleView<'a> {
    pub name: &'a str,
    pub kind: BundleKind,
    pub release: &'a str,
    pub namespace: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    /// The release toggle in this environment.
    pub installed: bool,
    /// Releases applied before this one (Helmfile `needs`): the store, then needed bundles.
    pub needs: Vec<&'a str>,
    #[serde(rename = "syncWave")]
    pub sync_wave: i64,
}

/// The Argo CD annotation that orders a resource within a sync.
pub const SYNC_WAVE_ANNOTATION: &str = "argocd.argoproj.io/sync-wave";

/// One ExternalSecret of a bundle values file: metadata plus a complete v1 spec.
#[derive(Serialize, PartialEq)]
pub struct ExternalSecretView<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub annotations: BTreeMap<&'static str, String>,
    pub spec: Spec<'a>,
}

#[derive(Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Spec<'a> {
    pub refresh_interval: &'a str,
    pub secret_store_ref: StoreRef<'a>,
    pub target: Target<'a>,
    pub data: Vec<DataEntry<'a>>,
    #[serde(rename = "dataFrom", skip_serializing_if = "Vec::is_empty")]
    pub data_from: Vec<DataFrom<'a>>,
}

/// One `dataFrom` entry: a whole Vault key, every property a data key.
#[derive(Serialize, PartialEq)]
pub struct DataFrom<'a> {
    pub extract: ExtractRef<'a>,
}

#[derive(Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExtractRef<'a> {
    pub key: &'a str,
    pub conversion_strategy: &'static str,
    pub decoding_strategy: DecodingStrategy,
    pub metadata_policy: &'static str,
}

#[derive(Serialize, PartialEq)]
pub struct StoreRef<'a> {
    pub kind: StoreKind,
    pub name: &'a str,
}

#[derive(Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Target<'a> {
    pub name: &'a str,
    pub creation_policy: &'static str,
    pub deletion_policy: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateView<'a>>,
}

#[derive(Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TemplateView<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub secret_type: Option<&'a str>,
    pub engine_version: crate::model::EngineVersion,
    pub merge_policy: crate::model::MergePolicy,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<&'a str, &'a str>,
}

#[derive(Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DataEntry<'a> {
    pub secret_key: &'a str,
    pub remote_ref: RemoteRef<'a>,
}

#[derive(Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RemoteRef<'a> {
    pub key: &'a str,
    pub property: &'a str,
    pub conversion_strategy: &'static str,
    pub decoding_strategy: DecodingStrategy,
    pub metadata_policy: &'static str,
}

pub fn external_secret<'a>(
    catalog: &'a Catalog,
    secret: &'a Secret,
    env: Env,
) -> ExternalSecretView<'a> {
    let store = catalog.store_in(env);
    let wave = catalog
        .bundles
        .get(&secret.bundle)
        .map_or(0, |b| b.sync_wave);
    let template = match (&secret.template, &secret.secret_type) {
        (None, None) => None,
        (template, secret_type) => Some(TemplateView {
            secret_type: secret_type.as_deref(),
            engine_version: template
                .as_ref()
                .map_or(crate::model::EngineVersion::V2, |t| t.engine_version),
            merge_policy: template
                .as_ref()
                .map_or(crate::model::MergePolicy::Replace, |t| t.merge_policy),
            data: template
                .iter()
                .flat_map(|t| t.data.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .collect(),
        }),
    };
    ExternalSecretView {
        name: &secret.external_secret,
        namespace: catalog.namespace_in(&secret.namespace, env),
        annotations: BTreeMap::from([(SYNC_WAVE_ANNOTATION, wave.to_string())]),
        spec: Spec {
            refresh_interval: &secret.refresh_interval,
            secret_store_ref: StoreRef {
                kind: store.kind,
                name: &store.name,
            },
            target: Target {
                name: &secret.target,
                creation_policy: "Owner",
                deletion_policy: "Retain",
                template,
            },
            data: secret
                .data
                .iter()
                .map(|(data_key, reference)| DataEntry {
                    secret_key: data_key,
                    remote_ref: RemoteRef {
                        key: &reference.key,
                        property: &reference.property,
                        conversion_strategy: "Default",
                        decoding_strategy: reference.decoding_strategy,
                        metadata_policy: "None",
                    },
                })
                .collect(),
            data_from: secret
                .extract
                .iter()
                .map(|key| DataFrom {
                    extract: ExtractRef {
                        key,
                        conversion_strategy: "Default",
                        decoding_strategy: DecodingStrategy::None,
                        metadata_policy: "None",
                    },
                })
                .collect(),
        },
    }
}

/// A bundle's values in `env`; `None` where the bundle does not exist.
pub fn bundle<'a>(
    catalog: &'a Catalog,
    name: &str,
    env: Env,
) -> Option<(BundleView<'a>, Vec<ExternalSecretView<'a>>)> {
    let bundle = catalog.bundles.get(name).filter(|b| b.exists_in(env))?;
    let view = bundle_view(catalog, bundle, env);
    let secrets = bundle
        .secrets
        .iter()
        .map(|s| &catalog.secrets[s])
        .filter(|s| s.listed_in(env))
        .map(|s| external_secret(catalog, s, env))
        .collect();
    Some((view, secrets))
}

fn bundle_view<'a>(
    catalog: &'a Catalog,
    bundle: &'a crate::model::Bundle,
    env: Env,
) -> BundleView<'a> {
    let needs = std::iter::once(catalog.store_in(env).release.as_str())
        .chain(
            bundle
                .needs
                .iter()
                .filter_map(|n| catalog.bundles.get(n))
                .map(|b| b.release.as_str()),
        )
        .collect();
    BundleView {
        name: &bundle.name,
        kind: bundle.kind,
        release: &bundle.release,
        namespace: catalog.namespace_in(&bundle.namespace, env),
        owner: bundle.owner.as_deref(),
        description: bundle.description.as_deref(),
        installed: bundle.installed_in(env),
        needs,
        sync_wave: bundle.sync_wave,
    }
}

/// The releases file (the platform's `15-secrets.values.yaml`): the store, then every bundle that
/// exists in `env`, by bundle name.
#[derive(Serialize, PartialEq)]
pub struct ReleasesView<'a> {
    pub store: StoreRelease<'a>,
    pub releases: BTreeMap<&'a str, ReleaseView<'a>>,
}

/// One bundle's entry in the releases file: `releases.<bundle>.installed`, as Helmfile reads it.
#[derive(Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseView<'a> {
    pub kind: BundleKind,
    pub release: &'a str,
    pub namespace: &'a str,
    pub installed: bool,
    pub needs: Vec<&'a str>,
    pub sync_wave: i64,
}

#[derive(Serialize, PartialEq)]
pub struct StoreRelease<'a> {
    pub release: &'a str,
    #[serde(rename = "syncWave")]
    pub sync_wave: i64,
}

pub fn releases<'a>(catalog: &'a Catalog, env: Env) -> ReleasesView<'a> {
    let store = catalog.store_in(env);
    ReleasesView {
        store: StoreRelease {
            release: &store.release,
            sync_wave: store.sync_wave,
        },
        releases: catalog
            .bundles
            .values()
            .filter(|b| b.exists_in(env))
            .map(|b| {
                let view = bundle_view(catalog, b, env);
                let release = ReleaseView {
                    kind: view.kind,
                    release: view.release,
                    namespace: view.namespace,
                    installed: view.installed,
                    needs: view.needs,
                    sync_wave: view.sync_wave,
                };
                (b.name.as_str(), release)
            })
            .collect(),
    }
}

/// How a key gets its value, for documents and listings. Never holds a generated or external value.
pub fn source_summary(source: &ValueSource, required: bool) -> String {
    let required = if required { " (required)" } else { "" };
    match source {
        ValueSource::Fixture(_) => "fixture".into(),
        ValueSource::Generate { length, .. } => format!("generate ({length} chars)"),
        ValueSource::External(Some(from)) => format!("external: {from}{required}"),
        ValueSource::External(None) => format!("external{required}"),
    }
}
