//! What the templates see: plain serialisable views of the compiled catalog, shaped like the
//! files they become. Field names here are part of the template contract for overrides.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{BundleKind, Catalog, DecodingStrategy, Key, Secret, StoreKind, ValueSource};

/// Marker the bootstrap job replaces with a stable per-cluster random value.
pub const GENERATE_MARKER: &str = "__generate__";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreView<'a> {
    pub kind: StoreKind,
    pub name: &'a str,
    pub mount: &'a str,
    pub version: &'static str,
    pub property: &'a str,
    pub refresh_interval: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<&'a str>,
}

pub fn store(catalog: &Catalog) -> StoreView<'_> {
    let store = &catalog.store;
    StoreView {
        kind: store.kind,
        name: &store.name,
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

/// Vault key path → fixture literal or the generate marker; external keys are left out.
pub fn fixtures(catalog: &Catalog) -> BTreeMap<&str, &str> {
    catalog
        .keys
        .values()
        .filter_map(|k| match &k.source {
            ValueSource::Fixture(value) => Some((k.path.as_str(), value.as_str())),
            ValueSource::Generate { .. } => Some((k.path.as_str(), GENERATE_MARKER)),
            ValueSource::External(_) => None,
        })
        .collect()
}

#[derive(Serialize)]
pub struct GenerateView {
    pub length: u64,
    pub charset: crate::model::Charset,
}

/// Vault key path → how the bootstrap job generates its value, for every `__generate__` key.
pub fn generate_parameters(catalog: &Catalog) -> BTreeMap<&str, GenerateView> {
    catalog
        .keys
        .values()
        .filter_map(|k| match k.source {
            ValueSource::Generate { length, charset } => {
                Some((k.path.as_str(), GenerateView { length, charset }))
            }
            _ => None,
        })
        .collect()
}

#[derive(Serialize)]
pub struct BundleView<'a> {
    pub name: &'a str,
    pub kind: BundleKind,
    pub release: &'a str,
    pub namespace: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
}

/// One ExternalSecret of a bundle values file: metadata plus a complete v1 spec.
#[derive(Serialize)]
pub struct ExternalSecretView<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub spec: Spec<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec<'a> {
    pub refresh_interval: &'a str,
    pub secret_store_ref: StoreRef<'a>,
    pub target: Target<'a>,
    pub data: Vec<DataEntry<'a>>,
}

#[derive(Serialize)]
pub struct StoreRef<'a> {
    pub kind: StoreKind,
    pub name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target<'a> {
    pub name: &'a str,
    pub creation_policy: &'static str,
    pub deletion_policy: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateView<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateView<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub secret_type: Option<&'a str>,
    pub engine_version: crate::model::EngineVersion,
    pub merge_policy: crate::model::MergePolicy,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<&'a str, &'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataEntry<'a> {
    pub secret_key: &'a str,
    pub remote_ref: RemoteRef<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteRef<'a> {
    pub key: &'a str,
    pub property: &'a str,
    pub conversion_strategy: &'static str,
    pub decoding_strategy: DecodingStrategy,
    pub metadata_policy: &'static str,
}

pub fn external_secret<'a>(catalog: &'a Catalog, secret: &'a Secret) -> ExternalSecretView<'a> {
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
        namespace: &secret.namespace,
        spec: Spec {
            refresh_interval: &secret.refresh_interval,
            secret_store_ref: StoreRef {
                kind: catalog.store.kind,
                name: &catalog.store.name,
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
        },
    }
}

pub fn bundle<'a>(
    catalog: &'a Catalog,
    name: &str,
) -> (BundleView<'a>, Vec<ExternalSecretView<'a>>) {
    let bundle = &catalog.bundles[name];
    let view = BundleView {
        name: &bundle.name,
        kind: bundle.kind,
        release: &bundle.release,
        namespace: &bundle.namespace,
        owner: bundle.owner.as_deref(),
        description: bundle.description.as_deref(),
    };
    let secrets = bundle
        .secrets
        .iter()
        .map(|s| external_secret(catalog, &catalog.secrets[s]))
        .collect();
    (view, secrets)
}

/// How a key gets its value, for documents and listings. Never holds a generated or external value.
pub fn source_summary(key: &Key) -> String {
    match &key.source {
        ValueSource::Fixture(_) => "fixture".into(),
        ValueSource::Generate { length, .. } => format!("generate ({length} chars)"),
        ValueSource::External(Some(from)) => format!("external: {from}"),
        ValueSource::External(None) => "external".into(),
    }
}
