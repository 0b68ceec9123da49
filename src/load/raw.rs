//! The catalog as written: one `RawFile` per TOML file, every name and value with its span. These
//! types are the user's contract (field names never change) and, through their doc comments, the
//! JSON Schema editors complete from.

use schemars::JsonSchema;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::spanned::Spanned;
use super::table::Table;

pub type Name = Spanned<String>;

/// A secretcat catalog file: `secretcat.toml` (store, environments, bundles, outputs) or a
/// fragment (owners, keys, secrets, bundles). All files of a catalog are merged into one model.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a catalog file (tables store, environments, owners, bundles, outputs, keys, secrets, unmanaged_secrets)"
)]
#[schemars(title = "secretcat catalog")]
pub struct RawFile {
    /// Path or URL of this schema; accepted and ignored, like the `#:schema` directive.
    #[serde(rename = "$schema")]
    pub schema: Option<String>,
    /// The External Secrets Operator store every ExternalSecret reads from (secretcat.toml only).
    pub store: Option<Spanned<RawStore>>,
    /// Deployment environments, by name (secretcat.toml only).
    #[serde(default)]
    #[schemars(example = example_environments())]
    pub environments: Table<Spanned<RawEnvironment>>,
    /// Teams that own keys, secrets and bundles, by the name `owner` fields use. Once any owner
    /// is declared, every owner named anywhere must be declared.
    #[serde(default)]
    pub owners: Table<Spanned<RawOwner>>,
    /// Groups of secrets rendered into one values file, by name.
    #[serde(default)]
    pub bundles: Table<Spanned<RawBundle>>,
    /// Where the outputs are written, relative to the repository root (secretcat.toml only).
    pub outputs: Option<Spanned<RawOutputs>>,
    /// Vault KV entries, by path relative to the store mount (`platform-db-url`, `gitlab/tokens/dev`).
    #[serde(default)]
    pub keys: Table<Spanned<RawKey>>,
    /// Kubernetes Secrets, each produced by one ExternalSecret, by Secret name.
    #[serde(default)]
    pub secrets: Table<Spanned<RawSecret>>,
    /// Kubernetes Secrets that exist without secretcat (made by an operator, cert-manager, a
    /// person), by Secret name, so `verify` accepts workloads that read them.
    #[serde(default)]
    pub unmanaged_secrets: Table<Spanned<RawUnmanagedSecret>>,
}

/// A Kubernetes Secret that something other than secretcat creates.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a table { created_by, namespaces, keys, owner, description }"
)]
pub struct RawUnmanagedSecret {
    /// What creates the Secret.
    #[schemars(example = &"CloudNativePG operator (cluster postgres-ameide)")]
    pub created_by: Spanned<String>,
    /// Namespaces the Secret exists in (default: any).
    pub namespaces: Option<Vec<Name>>,
    /// Data keys the Secret holds (default: not checked).
    pub keys: Option<Vec<Name>>,
    /// Team that owns the Secret.
    pub owner: Option<Name>,
    /// What the Secret is for.
    pub description: Option<String>,
}

fn example_environments() -> serde_json::Value {
    serde_json::json!({ "local": { "fixtures": true }, "production": { "fixtures": false } })
}

/// The ESO store (Vault KV v2) that every ExternalSecret of the catalog reads from.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a table { kind, name, mount, property, refresh_interval, server }"
)]
pub struct RawStore {
    /// Kind of the ESO store.
    pub kind: Option<Spanned<StoreKind>>,
    /// Name of the store resource, referenced by every ExternalSecret's `secretStoreRef`.
    #[schemars(example = &"ameide-vault")]
    pub name: Name,
    /// Vault KV v2 mount the keys live under (the store's `path`). Key paths are relative to it.
    #[schemars(example = &"secret")]
    pub mount: Name,
    /// Default `remoteRef.property` of every data entry.
    #[schemars(default = "default_property", example = &"value")]
    pub property: Option<Name>,
    /// Default `refreshInterval` of every ExternalSecret, as a Go duration.
    #[schemars(default = "default_refresh_interval", example = &"1h")]
    pub refresh_interval: Option<Name>,
    /// Vault address, written to the key map for the store's chart.
    #[schemars(example = &"http://vault-core.vault.svc.cluster.local:8200")]
    pub server: Option<Name>,
    /// Namespace of a namespaced `SecretStore`; ExternalSecrets elsewhere cannot read it.
    pub namespace: Option<Name>,
    /// Helm release that installs the store; every bundle is ordered after it.
    #[schemars(default = "default_store_release", example = &"vault-secret-store")]
    pub release: Option<Name>,
    /// Argo CD sync wave of the store; bundles follow from the next wave on.
    #[schemars(default = "default_store_wave", range(max = 1000))]
    pub sync_wave: Option<Spanned<i64>>,
}

fn default_store_release() -> &'static str {
    crate::model::Store::DEFAULT_RELEASE
}
fn default_store_wave() -> i64 {
    crate::model::Store::DEFAULT_WAVE
}

/// What an environment changes about the store: any field left out is the catalog store's.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a table { kind, name, namespace, server }"
)]
pub struct RawStoreOverride {
    /// Kind of the ESO store in this environment.
    pub kind: Option<Spanned<StoreKind>>,
    /// Name of the store resource in this environment.
    pub name: Option<Name>,
    /// Namespace of a namespaced `SecretStore` in this environment.
    #[schemars(example = &"ameide-prod")]
    pub namespace: Option<Name>,
    /// Vault address in this environment.
    pub server: Option<Name>,
}

/// A team that owns keys, secrets and bundles.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a table { team, contact, description }"
)]
pub struct RawOwner {
    /// The team's name as people know it.
    #[schemars(example = &"Platform")]
    pub team: Name,
    /// Where to reach the team: a channel, an on-call alias, an email address.
    #[schemars(example = &"#platform-oncall")]
    pub contact: Name,
    /// What the team is responsible for.
    pub description: Option<String>,
}

fn default_property() -> &'static str {
    "value"
}
fn default_refresh_interval() -> &'static str {
    "1h"
}

/// Kind of the ESO store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema, serde::Serialize)]
pub enum StoreKind {
    /// A cluster-wide store any namespace may read from.
    ClusterSecretStore,
    /// A namespaced store.
    SecretStore,
}

/// A deployment environment.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a table { fixtures, description, store, namespaces }"
)]
pub struct RawEnvironment {
    /// Whether development fixtures may be seeded into Vault here (true for local and dev). Where
    /// they may not, every key a secret installed here reads must be `external` here.
    #[serde(default)]
    pub fixtures: Spanned<bool>,
    /// What this environment is.
    pub description: Option<String>,
    /// The store in this environment, where it differs from `[store]`.
    pub store: Option<Spanned<RawStoreOverride>>,
    /// Catalog namespace → the namespace it is in this environment (`ameide` → `ameide-prod`).
    #[serde(default)]
    #[schemars(example = example_namespaces())]
    pub namespaces: Table<Name>,
}

fn example_namespaces() -> serde_json::Value {
    serde_json::json!({ "ameide": "ameide-prod" })
}

impl Default for Spanned<bool> {
    fn default() -> Self {
        Spanned::new(false, 0..0)
    }
}

/// A group of secrets rendered into one values file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a table { kind, release, namespace, owner, description }"
)]
pub struct RawBundle {
    /// How the bundle is shipped: a Layer 15 release, the integration-test release, or a service chart.
    pub kind: Spanned<BundleKind>,
    /// Helm release that applies the bundle (default: `vault-secrets-<bundle>` for layer15, else the bundle name).
    #[schemars(example = &"vault-secrets-platform")]
    pub release: Option<Name>,
    /// Namespace of the bundle's secrets (a secret may override it).
    #[schemars(example = &"ameide")]
    pub namespace: Name,
    /// Team that owns the bundle; its secrets' owner unless they name their own.
    pub owner: Option<Name>,
    /// What the bundle holds and why it exists.
    pub description: Option<String>,
    /// Environments this bundle exists in (default: all). Elsewhere it renders nothing.
    pub environments: Option<Spanned<Vec<Name>>>,
    /// Environment → whether the bundle's release is installed there (default: installed). The
    /// values still render; the release toggle says `installed: false`.
    #[serde(default)]
    #[schemars(example = example_installed())]
    pub installed: Table<Spanned<bool>>,
    /// Bundles whose releases must be applied before this one (the store always comes first).
    #[serde(default)]
    pub needs: Vec<Name>,
}

fn example_installed() -> serde_json::Value {
    serde_json::json!({ "local": false })
}

/// How a bundle is shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BundleKind {
    /// Platform-wide secrets applied by a Layer 15 release (`vault-secrets-<bundle>.yaml`).
    Layer15,
    /// Integration-test secrets (`integration-secrets.yaml`); data keys must be env var names.
    Integration,
    /// Service-owned ExternalSecrets shipped with the service's chart.
    Chart,
}

/// Output paths, relative to the repository root. `{bundle}` and `{release}` expand per bundle.
/// A file that differs between environments is written once per environment, below `environment`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a table of output paths")]
pub struct RawOutputs {
    /// Folder of every output below (default `generated`).
    #[schemars(default = "out_dir")]
    pub dir: Option<Name>,
    /// Store settings and key map (default `vault-secrets.base.yaml`).
    #[schemars(default = "out_key_map")]
    pub key_map: Option<Name>,
    /// One file per layer15 bundle (default `vault-secrets-{bundle}.yaml`).
    #[schemars(default = "out_layer15")]
    pub layer15: Option<Name>,
    /// One file per integration bundle (default `{release}.yaml`).
    #[schemars(default = "out_integration")]
    pub integration: Option<Name>,
    /// One file per chart bundle (default `charts/{bundle}/externalsecrets.yaml`).
    #[schemars(default = "out_chart")]
    pub chart: Option<Name>,
    /// The bootstrap fixture map (default `foundation-vault-bootstrap.fixtures.yaml`).
    #[schemars(default = "out_fixtures")]
    pub fixtures: Option<Name>,
    /// The catalog's JSON Schema (default `catalog.schema.json`).
    #[schemars(default = "out_schema")]
    pub schema: Option<Name>,
    /// The service map and ownership document (default `SECRETS.md`).
    #[schemars(default = "out_docs")]
    pub docs: Option<Name>,
    /// Release toggles and ordering per environment (default `15-secrets.values.yaml`).
    #[schemars(default = "out_releases")]
    pub releases: Option<Name>,
    /// Folder below `dir` of the files that differ between environments (default `{env}`).
    #[schemars(default = "out_environment")]
    pub environment: Option<Name>,
}

fn out_dir() -> &'static str {
    crate::model::OutputPaths::DEFAULT.dir
}
fn out_key_map() -> &'static str {
    crate::model::OutputPaths::DEFAULT.key_map
}
fn out_layer15() -> &'static str {
    crate::model::OutputPaths::DEFAULT.layer15
}
fn out_integration() -> &'static str {
    crate::model::OutputPaths::DEFAULT.integration
}
fn out_chart() -> &'static str {
    crate::model::OutputPaths::DEFAULT.chart
}
fn out_fixtures() -> &'static str {
    crate::model::OutputPaths::DEFAULT.fixtures
}
fn out_schema() -> &'static str {
    crate::model::OutputPaths::DEFAULT.schema
}
fn out_docs() -> &'static str {
    crate::model::OutputPaths::DEFAULT.docs
}
fn out_releases() -> &'static str {
    crate::model::OutputPaths::DEFAULT.releases
}
fn out_environment() -> &'static str {
    crate::model::OutputPaths::DEFAULT.environment
}

/// One Vault KV v2 entry. Exactly one of `fixture`, `generate` or `external` gives its value.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a table { owner, description, fixture | generate | external, ... }"
)]
#[schemars(extend("x-taplo" = { "initKeys": ["owner", "description", "fixture"] }))]
pub struct RawKey {
    /// Logical name in the key map (default: lowerCamelCase of the path).
    #[schemars(example = &"grafanaUser")]
    pub alias: Option<Name>,
    /// Team that owns the key.
    #[schemars(example = &"platform")]
    pub owner: Option<Name>,
    /// What the value is.
    pub description: Option<String>,
    /// Literal development value, seeded by the bootstrap job where fixtures are allowed.
    #[schemars(example = &"platform_dev_password")]
    pub fixture: Option<Spanned<String>>,
    /// A stable per-cluster random value, emitted as `__generate__` in the fixture map.
    pub generate: Option<Spanned<RawGenerate>>,
    /// No fixture: where the real value comes from (Azure Key Vault, an operator, a person).
    #[schemars(example = &"Azure Key Vault ameidekv: ghcr-token")]
    pub external: Option<Spanned<String>>,
    /// Minimum length of the value; a shorter fixture is a finding.
    #[schemars(range(min = 1))]
    pub min_length: Option<Spanned<u64>>,
    /// How to rotate the value.
    pub rotation: Option<String>,
    /// Why a fixture that looks like a real credential (a token format, a private key, a long
    /// random string) is harmless; silences the `credential-like-fixture` finding.
    #[schemars(example = &"signed with the dev-only key in tests/fixtures; valid nowhere")]
    pub allow_credential_like: Option<Spanned<String>>,
    /// A real value must exist in Vault before ESO syncs (only for `external` values).
    pub required: Option<Spanned<bool>>,
    /// Environment → the value source there, where it differs (`external` in production).
    #[serde(default)]
    #[schemars(example = example_overrides())]
    pub overrides: Table<Spanned<RawKeyOverride>>,
}

fn example_overrides() -> serde_json::Value {
    serde_json::json!({ "production": { "external": "Azure Key Vault ameidekv: platform-db-password", "required": true } })
}

/// A key's value source in one environment.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a table { fixture | generate | external, required }"
)]
pub struct RawKeyOverride {
    /// Literal development value in this environment.
    pub fixture: Option<Spanned<String>>,
    /// A stable per-cluster random value in this environment.
    pub generate: Option<Spanned<RawGenerate>>,
    /// Where the real value comes from in this environment.
    pub external: Option<Spanned<String>>,
    /// A real value must exist in Vault here before ESO syncs (only for `external` values).
    pub required: Option<Spanned<bool>>,
}

/// A generated random value.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a table { length, charset }")]
pub struct RawGenerate {
    /// Number of characters.
    #[schemars(example = 32, range(min = 1))]
    pub length: Spanned<u64>,
    /// Characters to draw from.
    pub charset: Option<Charset>,
}

/// Characters of a generated value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Charset {
    /// Letters and digits (the default).
    Alphanumeric,
    /// Lowercase hexadecimal digits.
    Hex,
    /// URL-safe base64 alphabet.
    Base64url,
}

/// One Kubernetes Secret, produced by one ExternalSecret.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a table { bundle, owner, data, consumers, ... }"
)]
// taplo appends `required` (bundle) to `initKeys` itself; listing it here would insert it twice.
#[schemars(extend("x-taplo" = { "initKeys": ["owner", "description", "data", "consumers"] }))]
pub struct RawSecret {
    /// Bundle that renders this secret's ExternalSecret.
    #[schemars(example = &"platform")]
    pub bundle: Name,
    /// Namespace of the Secret (default: the bundle's).
    pub namespace: Option<Name>,
    /// Team that owns the secret.
    #[schemars(example = &"platform")]
    pub owner: Option<Name>,
    /// Name of the Kubernetes Secret (default: this secret's catalog name). Lets one catalog
    /// describe same-named Secrets in different namespaces.
    pub target: Option<Name>,
    /// Name of the ExternalSecret (default `<secret>-sync`).
    pub external_secret: Option<Name>,
    /// Kubernetes Secret type, e.g. `kubernetes.io/dockerconfigjson`.
    #[serde(rename = "type")]
    #[schemars(example = &"kubernetes.io/dockerconfigjson")]
    pub secret_type: Option<Name>,
    /// ESO `target.template`: Secret data rendered from the fetched values.
    pub template: Option<Spanned<RawTemplate>>,
    /// `refreshInterval` of this ExternalSecret (default: the store's), as a Go duration.
    #[schemars(example = &"1m")]
    pub refresh_interval: Option<Name>,
    /// Environments this secret exists in (default: all).
    pub environments: Option<Spanned<Vec<Name>>>,
    /// Keep this secret in a Layer 15 bundle although one owner's workloads read it: it must
    /// exist before they are installed (the data-plane DB secrets db-migrations reads).
    pub preprovision: Option<Spanned<bool>>,
    /// Why the secret is pre-provisioned; required with `preprovision = true`.
    pub preprovision_reason: Option<Spanned<String>>,
    /// Secret data key → Vault key path, or `{ key, property }`.
    #[serde(default)]
    pub data: Table<Spanned<RawDataRef>>,
    /// Vault keys whose every property becomes a data key of the Secret (ESO `dataFrom.extract`).
    #[serde(default)]
    pub extract: Vec<Name>,
    /// Workloads that read this secret, and the data keys each needs.
    #[serde(default)]
    pub consumers: Vec<Spanned<RawConsumer>>,
    /// How to rotate the secret's values.
    pub rotation: Option<String>,
    /// What the secret is for.
    pub description: Option<String>,
}

/// ESO `target.template` of a secret.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a table { data, merge_policy, engine_version }"
)]
pub struct RawTemplate {
    /// Template data: Secret data key → ESO (Go) template over the fetched data keys.
    #[serde(default)]
    pub data: Table<Spanned<String>>,
    /// `Replace` keeps only templated keys; `Merge` keeps fetched keys beside them.
    pub merge_policy: Option<MergePolicy>,
    /// ESO template engine version.
    pub engine_version: Option<EngineVersion>,
}

/// ESO template merge policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema, serde::Serialize)]
pub enum MergePolicy {
    /// Only the templated keys end up in the Secret.
    Replace,
    /// Templated keys are merged with the fetched keys.
    Merge,
}

/// ESO template engine version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineVersion {
    /// The current engine (sprig functions, `{{ .key }}`).
    V2,
}

/// One Secret data entry: a Vault key path, or a table with a property.
#[derive(Debug, JsonSchema)]
#[schemars(untagged)]
pub enum RawDataRef {
    /// Vault key path; the property is the store's default.
    Key(String),
    /// Vault key path with an explicit property or decoding.
    Table(RawDataTable),
}

/// A data entry with an explicit property or decoding.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a table { key, property, decoding_strategy }"
)]
pub struct RawDataTable {
    /// Vault key path, relative to the mount.
    pub key: Name,
    /// Field of the Vault entry to read (default: the store's `property`).
    pub property: Option<Name>,
    /// ESO `decodingStrategy` of the fetched value.
    pub decoding_strategy: Option<DecodingStrategy>,
}

/// ESO `remoteRef.decodingStrategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema, serde::Serialize)]
pub enum DecodingStrategy {
    /// Use the value as stored (the default).
    None,
    /// Decode standard base64.
    Base64,
    /// Decode URL-safe base64.
    Base64URL,
    /// Decode base64 of either alphabet when the value is base64.
    Auto,
}

impl<'de> Deserialize<'de> for RawDataRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DataRefVisitor;
        impl<'de> Visitor<'de> for DataRefVisitor {
            type Value = RawDataRef;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a Vault key path or a table { key, property }")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<RawDataRef, E> {
                Ok(RawDataRef::Key(value.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawDataRef, A::Error> {
                RawDataTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawDataRef::Table)
            }
        }
        deserializer.deserialize_any(DataRefVisitor)
    }
}

/// A workload that reads a secret.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a table { name, via, requires, owner, environments, sync_wave }"
)]
pub struct RawConsumer {
    /// Workload name (Deployment, Job, test runner).
    #[schemars(example = &"db-migrations")]
    pub name: Name,
    /// How the workload reads the secret.
    pub via: Spanned<Via>,
    /// Data keys the workload needs; each must be provided by the secret.
    #[serde(default)]
    pub requires: Vec<Name>,
    /// Team that owns the workload (default: the secret's owner).
    pub owner: Option<Name>,
    /// Environments the workload is installed in (default: all).
    pub environments: Option<Spanned<Vec<Name>>>,
    /// Argo CD sync wave of the workload; it must come after its secret's bundle.
    pub sync_wave: Option<Spanned<i64>>,
}

/// How a workload reads a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Via {
    /// A chart value naming one existing Secret.
    ExistingSecret,
    /// A chart value listing several existing Secrets (db-migrations).
    ExistingSecrets,
    /// A chart value listing extra Secrets to mount or expose.
    ExtraSecretRefs,
    /// `envFrom[].secretRef`: every data key becomes an environment variable.
    EnvFrom,
    /// `env[].valueFrom.secretKeyRef`: single data keys.
    SecretKeyRef,
    /// A `secret` volume.
    Volume,
    /// `imagePullSecrets`.
    ImagePullSecrets,
}

/// Deserialise a keyword enum from its TOML string, naming every valid keyword when the value is
/// of the wrong type or unknown. `Serialize` and the schema use the same names (tested below).
macro_rules! keywords {
    ($ty:ident { $($variant:ident = $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const KEYWORDS: &'static [&'static str] = &[$($name),+];
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn keyword(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct KeywordVisitor;
                impl<'de> Visitor<'de> for KeywordVisitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        let names: Vec<String> = $ty::KEYWORDS.iter().map(|n| format!("`{n}`")).collect();
                        write!(f, "one of {}", names.join(", "))
                    }
                    fn visit_str<E: de::Error>(self, value: &str) -> Result<$ty, E> {
                        match value {
                            $($name => Ok($ty::$variant),)+
                            _ => Err(E::unknown_variant(value, $ty::KEYWORDS)),
                        }
                    }
                }
                deserializer.deserialize_str(KeywordVisitor)
            }
        }
    };
}

keywords!(StoreKind { ClusterSecretStore = "ClusterSecretStore", SecretStore = "SecretStore" });
keywords!(BundleKind { Layer15 = "layer15", Integration = "integration", Chart = "chart" });
keywords!(Charset { Alphanumeric = "alphanumeric", Hex = "hex", Base64url = "base64url" });
keywords!(MergePolicy { Replace = "Replace", Merge = "Merge" });
keywords!(EngineVersion { V2 = "v2" });
keywords!(DecodingStrategy { None = "None", Base64 = "Base64", Base64URL = "Base64URL", Auto = "Auto" });
keywords!(Via {
    ExistingSecret = "existingSecret",
    ExistingSecrets = "existingSecrets",
    ExtraSecretRefs = "extraSecretRefs",
    EnvFrom = "envFrom",
    SecretKeyRef = "secretKeyRef",
    Volume = "volume",
    ImagePullSecrets = "imagePullSecrets",
});

#[cfg(test)]
mod tests {
    use super::*;

    fn same_names<T: serde::Serialize + Copy>(all: &[T], keyword: fn(T) -> &'static str) {
        for &value in all {
            assert_eq!(serde_json::to_value(value).unwrap(), keyword(value));
        }
    }

    #[test]
    fn keywords_match_the_serialized_and_schema_names() {
        same_names(StoreKind::ALL, StoreKind::keyword);
        same_names(BundleKind::ALL, BundleKind::keyword);
        same_names(Charset::ALL, Charset::keyword);
        same_names(MergePolicy::ALL, MergePolicy::keyword);
        same_names(EngineVersion::ALL, EngineVersion::keyword);
        same_names(DecodingStrategy::ALL, DecodingStrategy::keyword);
        same_names(Via::ALL, Via::keyword);
    }

    #[test]
    fn a_wrong_type_for_a_keyword_names_the_keywords() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct T {
            kind: BundleKind,
        }
        let error = toml::from_str::<T>("kind = 15").unwrap_err();
        assert_eq!(
            error.message(),
            "invalid type: integer `15`, expected one of `layer15`, `integration`, `chart`"
        );
        let error = toml::from_str::<T>("kind = \"layer16\"").unwrap_err();
        assert_eq!(
            error.message(),
            "unknown variant `layer16`, expected one of `layer15`, `integration`, `chart`"
        );
    }
}
