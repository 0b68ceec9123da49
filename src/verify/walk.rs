//! The reference walker: each resource of a file → the Secrets it reads (with the data keys and
//! where), the Secrets it defines, and the credentials it sets inline.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value};

use super::inline;
use super::parse::Document;

/// Deeper than the parser lets a document be; a guard, should the two ever drift apart.
const MAX_DEPTH: usize = 512;

/// A place in a resource: `spec.template.spec.containers[0].env[2].valueFrom.secretKeyRef`.
/// Ordered segment by segment, so `containers[2]` comes before `containers[10]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Path(Vec<Seg>);

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Seg {
    Index(usize),
    Key(String),
}

impl Path {
    fn key(&self, key: &str) -> Path {
        let mut path = self.clone();
        path.0.push(Seg::Key(key.to_string()));
        path
    }

    fn keys(&self, keys: &[&str]) -> Path {
        let mut path = self.clone();
        path.0.extend(keys.iter().map(|k| Seg::Key(k.to_string())));
        path
    }

    fn index(&self, index: usize) -> Path {
        let mut path = self.clone();
        path.0.push(Seg::Index(index));
        path
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(key) if i == 0 => write!(f, "{key}")?,
                Seg::Key(key) => write!(f, ".{key}")?,
                Seg::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// The namespace a resource (and what it reads or defines) is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Namespace {
    Named(String),
    /// The file names no namespace anywhere: `helm template` without `--namespace` leaves
    /// `metadata.namespace` out, and the release namespace is chosen only at install time. Such a
    /// resource could be installed into any namespace, so a Secret counts as existing for it
    /// wherever it exists, and no namespace finding is made.
    Any,
}

impl Namespace {
    /// As a reference's namespace is shown in a finding.
    pub(super) fn shown(&self) -> &str {
        match self {
            Namespace::Named(name) => name,
            Namespace::Any => "(any)",
        }
    }

    /// As a defined Secret's namespace is shown in a finding.
    pub(super) fn shown_for_definition(&self) -> &str {
        match self {
            Namespace::Named(name) => name,
            Namespace::Any => "(unset)",
        }
    }
}

/// One resource: a document, or an item of a `kind: List` document.
pub(super) struct Resource {
    pub document: usize,
    pub item: Option<usize>,
    pub kind: String,
    pub name: Option<String>,
    pub namespace: Namespace,
    pub references: Vec<Reference>,
    pub defines: Vec<Defined>,
    /// Container env entries that set a credential-like variable to a literal: (path, variable).
    pub credentials: Vec<(Path, String)>,
}

impl Resource {
    /// `document 3 (Deployment ameide/platform)`; `document 1, items[2] (...)` in a List.
    pub(super) fn label(&self) -> String {
        let item = self.item.map_or(String::new(), |i| format!(", items[{i}]"));
        let what = match (&self.namespace, &self.name) {
            (Namespace::Named(ns), Some(name)) => format!("{} {ns}/{name}", self.kind),
            (Namespace::Any, Some(name)) => format!("{} {name}", self.kind),
            (_, None) => self.kind.clone(),
        };
        format!("document {}{item} ({what})", self.document)
    }

    /// The label and a path in the resource.
    pub(super) fn at(&self, path: &Path) -> String {
        if path.is_empty() {
            self.label()
        } else {
            format!("{}, {path}", self.label())
        }
    }
}

/// A reference to a Secret by name.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Reference {
    pub secret: String,
    /// Where the Secret is named.
    pub path: Path,
    /// Data keys read from it, each with where it is named.
    pub keys: Vec<(String, Path)>,
    /// `optional: true`: Kubernetes runs the workload without the Secret or key.
    pub optional: bool,
    pub namespace: Namespace,
}

/// A Secret the manifests create themselves: a `kind: Secret`, or the target of an ExternalSecret.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Defined {
    pub name: String,
    pub namespace: Namespace,
    /// Its data keys; `None` when they cannot be known (`dataFrom`, `templateFrom`).
    pub keys: Option<BTreeSet<String>>,
    /// A `kind: Secret` that carries values itself (`data` or `stringData`), of a type that is not
    /// exempt from Zero Inline Secrets.
    pub inline_data: bool,
}

/// Every resource of one file. A document that is not a mapping, or has no string `kind`, is
/// skipped (values files, empty documents).
pub(super) fn resources(documents: &[Document], value_paths: &[Vec<&str>]) -> Vec<Resource> {
    let mut found: Vec<(usize, Option<usize>, &Map<String, Value>)> = Vec::new();
    for document in documents {
        let Some(map) = document.value.as_object() else {
            continue;
        };
        let Some(kind) = str_at(map, &["kind"]) else {
            continue;
        };
        match map.get("items") {
            // `kubectl get -o yaml` wraps what it lists in a `kind: List`.
            Some(Value::Array(items)) if kind.ends_with("List") => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(item) = item.as_object()
                        && str_at(item, &["kind"]).is_some()
                    {
                        found.push((document.number, Some(i), item));
                    }
                }
            }
            _ => found.push((document.number, None, map)),
        }
    }
    // A file in which some resource names its namespace was rendered for one: the others are in
    // `default`, where kubectl would put them. A file that names none is "any namespace".
    let names_namespaces = found
        .iter()
        .any(|(_, _, map)| str_at(map, &["metadata", "namespace"]).is_some());
    found
        .into_iter()
        .map(|(document, item, map)| {
            let namespace = match str_at(map, &["metadata", "namespace"]) {
                Some(ns) => Namespace::Named(ns.to_string()),
                None if names_namespaces => Namespace::Named("default".into()),
                None => Namespace::Any,
            };
            resource(document, item, map, namespace, value_paths)
        })
        .collect()
}

fn resource(
    document: usize,
    item: Option<usize>,
    map: &Map<String, Value>,
    namespace: Namespace,
    value_paths: &[Vec<&str>],
) -> Resource {
    let kind = str_at(map, &["kind"]).unwrap_or_default();
    let api = str_at(map, &["apiVersion"]).unwrap_or_default();
    let mut resource = Resource {
        document,
        item,
        kind: kind.to_string(),
        name: str_at(map, &["metadata", "name"]).map(str::to_string),
        namespace,
        references: Vec::new(),
        defines: Vec::new(),
        credentials: Vec::new(),
    };
    let root = Path::default();
    let mut refs = Refs {
        namespace: &resource.namespace,
        references: &mut resource.references,
        credentials: &mut resource.credentials,
    };
    if let Some(spec_path) = pod_spec_path(kind)
        && let Some(spec) = object_at(map, spec_path)
    {
        refs.pod_spec(spec, &root.keys(spec_path));
    }
    if kind == "ServiceAccount" {
        refs.image_pull_secrets(map, &root);
    }
    let is_secret = kind == "Secret" && matches!(api, "" | "v1");
    if is_secret && let Some(defined) = defined_secret(map, &resource.namespace) {
        resource.defines.push(defined);
    }
    if kind == "ExternalSecret"
        && api.starts_with("external-secrets.io/")
        && let Some(defined) = external_secret_target(map, &resource.namespace)
    {
        resource.defines.push(defined);
    }
    // Values-path conventions, anywhere but in a Secret's own data.
    if !is_secret && !value_paths.is_empty() {
        let namespace = values_namespace(kind, api, map).unwrap_or(resource.namespace.clone());
        let mut found = Vec::new();
        let mut seen = BTreeSet::new();
        let mut current = Vec::new();
        value_refs_in(map, value_paths, &mut current, 0, &mut seen, &mut found);
        found.sort();
        resource
            .references
            .extend(found.into_iter().map(|(path, secret)| Reference {
                secret,
                path,
                keys: Vec::new(),
                optional: false,
                namespace: namespace.clone(),
            }));
    }
    resource
}

/// Where the pod spec of a workload kind is (`Rollout`: Argo Rollouts, shaped like a Deployment).
fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Pod" => &["spec"],
        "PodTemplate" => &["template", "spec"],
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job"
        | "Rollout" => &["spec", "template", "spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => return None,
    })
}

/// Where the Secrets named in the values of a GitOps resource live: an Argo CD Application
/// installs its chart into `spec.destination.namespace`, a Flux HelmRelease into
/// `spec.targetNamespace`; other resources read Secrets of their own namespace.
fn values_namespace(kind: &str, api: &str, map: &Map<String, Value>) -> Option<Namespace> {
    let path: &[&str] = match kind {
        "Application" if api.starts_with("argoproj.io/") => &["spec", "destination", "namespace"],
        "HelmRelease" if api.starts_with("helm.toolkit.fluxcd.io/") => &["spec", "targetNamespace"],
        _ => return None,
    };
    str_at(map, path).map(|ns| Namespace::Named(ns.to_string()))
}

struct Refs<'a> {
    namespace: &'a Namespace,
    references: &'a mut Vec<Reference>,
    credentials: &'a mut Vec<(Path, String)>,
}

impl Refs<'_> {
    fn push(&mut self, secret: &str, path: Path, keys: Vec<(String, Path)>, optional: bool) {
        if secret.is_empty() {
            return;
        }
        self.references.push(Reference {
            secret: secret.to_string(),
            path,
            keys,
            optional,
            namespace: self.namespace.clone(),
        });
    }

    fn pod_spec(&mut self, spec: &Map<String, Value>, at: &Path) {
        for field in ["initContainers", "containers", "ephemeralContainers"] {
            for (i, container) in objects(spec.get(field)) {
                self.container(container, &at.key(field).index(i));
            }
        }
        for (i, volume) in objects(spec.get("volumes")) {
            let at = at.key("volumes").index(i);
            if let Some(secret) = object_at(volume, &["secret"]) {
                let at = at.key("secret");
                let keys = item_keys(secret, &at);
                let name = str_at(secret, &["secretName"]).unwrap_or_default();
                self.push(name, at, keys, optional(secret));
            }
            let sources = object_at(volume, &["projected"]).and_then(|p| p.get("sources"));
            for (j, source) in objects(sources) {
                if let Some(secret) = object_at(source, &["secret"]) {
                    let at = at.keys(&["projected", "sources"]).index(j).key("secret");
                    let keys = item_keys(secret, &at);
                    let name = str_at(secret, &["name"]).unwrap_or_default();
                    self.push(name, at, keys, optional(secret));
                }
            }
        }
        self.image_pull_secrets(spec, at);
    }

    fn container(&mut self, container: &Map<String, Value>, at: &Path) {
        for (j, entry) in objects(container.get("env")) {
            let at = at.key("env").index(j);
            match entry.get("valueFrom") {
                Some(Value::Object(from)) => {
                    if let Some(reference) = object_at(from, &["secretKeyRef"]) {
                        let at = at.keys(&["valueFrom", "secretKeyRef"]);
                        let keys = match str_at(reference, &["key"]) {
                            Some(key) => vec![(key.to_string(), at.clone())],
                            None => Vec::new(),
                        };
                        let name = str_at(reference, &["name"]).unwrap_or_default();
                        self.push(name, at, keys, optional(reference));
                    }
                }
                _ => {
                    let Some(variable) = str_at(entry, &["name"]) else {
                        continue;
                    };
                    let value = match entry.get("value") {
                        Some(Value::String(value)) => value.clone(),
                        Some(Value::Number(value)) => value.to_string(),
                        _ => continue,
                    };
                    if inline::inline_credential(variable, &value) {
                        self.credentials.push((at, variable.to_string()));
                    }
                }
            }
        }
        for (j, entry) in objects(container.get("envFrom")) {
            if let Some(reference) = object_at(entry, &["secretRef"]) {
                let at = at.key("envFrom").index(j).key("secretRef");
                let name = str_at(reference, &["name"]).unwrap_or_default();
                self.push(name, at, Vec::new(), optional(reference));
            }
        }
    }

    fn image_pull_secrets(&mut self, map: &Map<String, Value>, at: &Path) {
        for (i, entry) in objects(map.get("imagePullSecrets")) {
            let name = str_at(entry, &["name"]).unwrap_or_default();
            self.push(name, at.key("imagePullSecrets").index(i), Vec::new(), false);
        }
    }
}

/// `items[].key` of a secret volume or projection: the keys it mounts.
fn item_keys(secret: &Map<String, Value>, at: &Path) -> Vec<(String, Path)> {
    objects(secret.get("items"))
        .filter_map(|(k, item)| {
            str_at(item, &["key"]).map(|key| (key.to_string(), at.key("items").index(k)))
        })
        .collect()
}

fn optional(reference: &Map<String, Value>) -> bool {
    matches!(reference.get("optional"), Some(Value::Bool(true)))
}

/// A `kind: Secret` as a Secret the manifests define.
fn defined_secret(map: &Map<String, Value>, namespace: &Namespace) -> Option<Defined> {
    let name = str_at(map, &["metadata", "name"])?;
    let mut keys = BTreeSet::new();
    let mut carries_data = false;
    for field in ["data", "stringData"] {
        if let Some(Value::Object(data)) = map.get(field) {
            carries_data |= !data.is_empty();
            keys.extend(data.keys().cloned());
        }
    }
    let secret_type = str_at(map, &["type"]).unwrap_or_default();
    Some(Defined {
        name: name.to_string(),
        namespace: namespace.clone(),
        keys: Some(keys),
        inline_data: carries_data && !inline::exempt_secret_type(secret_type),
    })
}

/// The Secret an ExternalSecret creates: `spec.target.name` (default: the ExternalSecret's
/// name), with the data keys ESO gives it: `data[].secretKey`, or the template's keys (alone
/// unless `mergePolicy: Merge`); unknown with `dataFrom` or `templateFrom`.
fn external_secret_target(map: &Map<String, Value>, namespace: &Namespace) -> Option<Defined> {
    let name =
        str_at(map, &["spec", "target", "name"]).or_else(|| str_at(map, &["metadata", "name"]))?;
    let fetched: BTreeSet<String> = objects(object_at(map, &["spec"]).and_then(|s| s.get("data")))
        .filter_map(|(_, entry)| str_at(entry, &["secretKey"]).map(str::to_string))
        .collect();
    let non_empty = |value: Option<&Value>| match value {
        Some(Value::Array(items)) => !items.is_empty(),
        Some(Value::Object(items)) => !items.is_empty(),
        _ => false,
    };
    let spec = object_at(map, &["spec"]);
    let template = object_at(map, &["spec", "target", "template"]);
    let unknown = non_empty(spec.and_then(|s| s.get("dataFrom")))
        || non_empty(template.and_then(|t| t.get("templateFrom")));
    let templated: BTreeSet<String> = match template.and_then(|t| t.get("data")) {
        Some(Value::Object(data)) => data.keys().cloned().collect(),
        _ => BTreeSet::new(),
    };
    let merge = template.and_then(|t| str_at(t, &["mergePolicy"])) == Some("Merge");
    let keys = if unknown {
        None
    } else if templated.is_empty() {
        Some(fetched)
    } else if merge {
        Some(fetched.into_iter().chain(templated).collect())
    } else {
        Some(templated)
    };
    Some(Defined {
        name: name.to_string(),
        namespace: namespace.clone(),
        keys,
        inline_data: false,
    })
}

/// Value paths at any depth: wherever a mapping holds `path[0]`, whose mapping holds `path[1]`,
/// and so on, the value at the end names Secrets: a name, a mapping with `name`, or a list of
/// either. Empty names (a chart's "not set") are no reference. A place two value paths both
/// reach (`existingSecret` and `auth.existingSecret`) is one reference.
fn value_refs(
    value: &Value,
    value_paths: &[Vec<&str>],
    current: &mut Vec<Seg>,
    depth: usize,
    seen: &mut BTreeSet<Path>,
    found: &mut Vec<(Path, String)>,
) {
    match value {
        Value::Object(map) => value_refs_in(map, value_paths, current, depth, seen, found),
        Value::Array(items) if depth < MAX_DEPTH => {
            for (i, child) in items.iter().enumerate() {
                current.push(Seg::Index(i));
                value_refs(child, value_paths, current, depth + 1, seen, found);
                current.pop();
            }
        }
        _ => {}
    }
}

fn value_refs_in(
    map: &Map<String, Value>,
    value_paths: &[Vec<&str>],
    current: &mut Vec<Seg>,
    depth: usize,
    seen: &mut BTreeSet<Path>,
    found: &mut Vec<(Path, String)>,
) {
    if depth >= MAX_DEPTH {
        return;
    }
    for path in value_paths {
        let Some((first, rest)) = path.split_first() else {
            continue;
        };
        let mut target = map.get(*first);
        for segment in rest {
            target = target
                .and_then(Value::as_object)
                .and_then(|m| m.get(*segment));
        }
        if let Some(target) = target {
            let at = Path(current.clone()).keys(path);
            secret_names(target, &at, seen, found);
        }
    }
    for (key, child) in map {
        current.push(Seg::Key(key.clone()));
        value_refs(child, value_paths, current, depth + 1, seen, found);
        current.pop();
    }
}

fn secret_names(
    value: &Value,
    at: &Path,
    seen: &mut BTreeSet<Path>,
    found: &mut Vec<(Path, String)>,
) {
    let name = |value: &Value| match value {
        Value::String(name) => Some(name.clone()),
        Value::Object(map) => str_at(map, &["name"]).map(str::to_string),
        _ => None,
    };
    let mut push = |at: Path, name: Option<String>| {
        if let Some(name) = name.filter(|n| !n.is_empty())
            && seen.insert(at.clone())
        {
            found.push((at, name));
        }
    };
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                push(at.index(i), name(item));
            }
        }
        _ => push(at.clone(), name(value)),
    }
}

/// The string at `path`, when there is a non-empty one.
fn str_at<'a>(map: &'a Map<String, Value>, path: &[&str]) -> Option<&'a str> {
    let (last, parents) = path.split_last()?;
    let parent = if parents.is_empty() {
        map
    } else {
        object_at(map, parents)?
    };
    parent
        .get(*last)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn object_at<'a>(map: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Map<String, Value>> {
    let mut current = map;
    for segment in path {
        current = current.get(*segment)?.as_object()?;
    }
    Some(current)
}

/// The mappings of a list, with their positions (other entries are skipped).
fn objects(value: Option<&Value>) -> impl Iterator<Item = (usize, &Map<String, Value>)> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, v)| v.as_object().map(|m| (i, m)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(yaml: &str, value_paths: &[&str]) -> Vec<Resource> {
        let manifest = super::super::Manifest {
            name: "m.yaml".into(),
            text: yaml.into(),
        };
        let documents = super::super::parse::documents(&manifest).unwrap_or_else(|e| panic!("{e}"));
        let paths: Vec<Vec<&str>> = value_paths.iter().map(|p| p.split('.').collect()).collect();
        resources(&documents, &paths)
    }

    /// (secret, path, keys with paths, optional) of every reference.
    fn refs(resource: &Resource) -> Vec<String> {
        resource
            .references
            .iter()
            .map(|r| {
                let keys: Vec<String> = r.keys.iter().map(|(k, p)| format!("{k}@{p}")).collect();
                let optional = if r.optional { " optional" } else { "" };
                format!("{} {}{optional} [{}]", r.secret, r.path, keys.join(", "))
            })
            .collect()
    }

    const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: platform, namespace: ameide}
spec:
  template:
    spec:
      imagePullSecrets: [{name: ghcr-pull}]
      initContainers:
        - name: wait
          envFrom: [{secretRef: {name: platform-db-credentials}}]
      containers:
        - name: app
          env:
            - name: PLATFORM_DATABASE_URL
              valueFrom: {secretKeyRef: {name: platform-db-credentials, key: PLATFORM_DATABASE_URL}}
            - name: OPTIONAL
              valueFrom: {secretKeyRef: {name: maybe, key: X, optional: true}}
            - name: FROM_CONFIG
              valueFrom: {configMapKeyRef: {name: cm, key: X}}
            - name: API_TOKEN
              value: hunter2-literal
            - name: LOG_LEVEL
              value: debug
      ephemeralContainers:
        - name: debug
          envFrom: [{secretRef: {name: debug-creds, optional: true}}, {configMapRef: {name: cm}}]
      volumes:
        - name: tls
          secret:
            secretName: neo4j-tls
            items: [{key: tls.crt, path: tls.crt}, {key: tls.key, path: tls.key}]
        - name: dashboards
          projected:
            sources:
              - configMap: {name: dashboards}
              - secret: {name: grafana-admin-credentials, items: [{key: admin-password, path: pw}]}
        - name: empty
          emptyDir: {}
"#;

    #[test]
    fn every_kind_of_pod_spec_reference_is_found_with_its_path() {
        let resources = walk(DEPLOYMENT, &[]);
        assert_eq!(resources.len(), 1);
        let r = &resources[0];
        assert_eq!(r.label(), "document 1 (Deployment ameide/platform)");
        let p = "spec.template.spec";
        assert_eq!(
            refs(r),
            [
                format!("platform-db-credentials {p}.initContainers[0].envFrom[0].secretRef []"),
                format!(
                    "platform-db-credentials {p}.containers[0].env[0].valueFrom.secretKeyRef [PLATFORM_DATABASE_URL@{p}.containers[0].env[0].valueFrom.secretKeyRef]"
                ),
                format!(
                    "maybe {p}.containers[0].env[1].valueFrom.secretKeyRef optional [X@{p}.containers[0].env[1].valueFrom.secretKeyRef]"
                ),
                format!("debug-creds {p}.ephemeralContainers[0].envFrom[0].secretRef optional []"),
                format!(
                    "neo4j-tls {p}.volumes[0].secret [tls.crt@{p}.volumes[0].secret.items[0], tls.key@{p}.volumes[0].secret.items[1]]"
                ),
                format!(
                    "grafana-admin-credentials {p}.volumes[1].projected.sources[1].secret [admin-password@{p}.volumes[1].projected.sources[1].secret.items[0]]"
                ),
                format!("ghcr-pull {p}.imagePullSecrets[0] []"),
            ]
        );
        let credentials: Vec<String> = r
            .credentials
            .iter()
            .map(|(p, v)| format!("{v}@{p}"))
            .collect();
        assert_eq!(credentials, [format!("API_TOKEN@{p}.containers[0].env[3]")]);
        assert!(
            r.references
                .iter()
                .all(|r| r.namespace == Namespace::Named("ameide".into()))
        );
    }

    #[test]
    fn pod_specs_are_found_in_every_workload_kind() {
        let spec = "{containers: [{envFrom: [{secretRef: {name: s}}]}]}";
        let cases = [
            ("Pod", format!("spec: {spec}"), "spec"),
            (
                "Deployment",
                format!("spec: {{template: {{spec: {spec}}}}}"),
                "spec.template.spec",
            ),
            (
                "StatefulSet",
                format!("spec: {{template: {{spec: {spec}}}}}"),
                "spec.template.spec",
            ),
            (
                "DaemonSet",
                format!("spec: {{template: {{spec: {spec}}}}}"),
                "spec.template.spec",
            ),
            (
                "ReplicaSet",
                format!("spec: {{template: {{spec: {spec}}}}}"),
                "spec.template.spec",
            ),
            (
                "Job",
                format!("spec: {{template: {{spec: {spec}}}}}"),
                "spec.template.spec",
            ),
            (
                "CronJob",
                format!("spec: {{jobTemplate: {{spec: {{template: {{spec: {spec}}}}}}}}}"),
                "spec.jobTemplate.spec.template.spec",
            ),
            (
                "PodTemplate",
                format!("template: {{spec: {spec}}}"),
                "template.spec",
            ),
        ];
        for (kind, body, prefix) in cases {
            let resources = walk(&format!("kind: {kind}\n{body}\n"), &[]);
            assert_eq!(
                refs(&resources[0]),
                [format!("s {prefix}.containers[0].envFrom[0].secretRef []")],
                "{kind}"
            );
        }
        // A ConfigMap holding the same shape reads nothing.
        let resources = walk(
            &format!("kind: ConfigMap\nspec: {{template: {{spec: {spec}}}}}\n"),
            &[],
        );
        assert!(resources[0].references.is_empty());
        let resources = walk(
            "kind: ServiceAccount\nmetadata: {name: sa}\nimagePullSecrets: [{name: ghcr-pull}]\n",
            &[],
        );
        assert_eq!(refs(&resources[0]), ["ghcr-pull imagePullSecrets[0] []"]);
    }

    #[test]
    fn namespaces_default_per_file() {
        let two = "kind: Pod\nmetadata: {name: a}\n---\nkind: Pod\nmetadata: {name: b, namespace: ameide}\n";
        let resources = walk(two, &[]);
        assert_eq!(resources[0].namespace, Namespace::Named("default".into()));
        assert_eq!(resources[0].label(), "document 1 (Pod default/a)");
        assert_eq!(resources[1].namespace, Namespace::Named("ameide".into()));
        let none = "kind: Pod\nmetadata: {name: a}\n---\nkind: Pod\nmetadata: {name: b}\n";
        let resources = walk(none, &[]);
        assert!(resources.iter().all(|r| r.namespace == Namespace::Any));
        assert_eq!(resources[1].label(), "document 2 (Pod b)");
    }

    #[test]
    fn documents_without_kind_or_mapping_are_skipped_and_lists_are_opened() {
        let text = "- a\n- b\n---\nfoo: bar\n---\nkind: 3\n---\napiVersion: v1\nkind: List\nitems:\n  - kind: Pod\n    metadata: {name: p, namespace: x}\n    spec: {imagePullSecrets: [{name: pull}]}\n  - just a string\n";
        let resources = walk(text, &[]);
        assert_eq!(resources.len(), 1);
        assert_eq!(resources[0].label(), "document 4, items[0] (Pod x/p)");
        assert_eq!(refs(&resources[0]), ["pull spec.imagePullSecrets[0] []"]);
    }

    #[test]
    fn value_paths_match_at_any_depth_in_every_shape() {
        let text = r#"
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: grafana, namespace: argocd}
spec:
  destination: {namespace: ameide}
  source:
    helm:
      valuesObject:
        admin: {existingSecret: grafana-admin-credentials}
        auth: {existingSecret: ""}
        extraSecretRefs: [a, {name: b}, {other: c}, 7]
        nested: {deeper: {auth: {existingSecret: {name: d}}}}
"#;
        let resources = walk(
            text,
            &["existingSecret", "extraSecretRefs", "auth.existingSecret"],
        );
        let v = "spec.source.helm.valuesObject";
        assert_eq!(
            refs(&resources[0]),
            [
                format!("grafana-admin-credentials {v}.admin.existingSecret []"),
                format!("a {v}.extraSecretRefs[0] []"),
                format!("b {v}.extraSecretRefs[1] []"),
                format!("d {v}.nested.deeper.auth.existingSecret []"),
            ]
        );
        assert!(
            resources[0]
                .references
                .iter()
                .all(|r| r.namespace == Namespace::Named("ameide".into())),
            "an Application's values are read in its destination namespace"
        );
        // A Secret's own data is no values file.
        let secret = "kind: Secret\nmetadata: {name: s}\nstringData: {existingSecret: x}\n";
        assert!(walk(secret, &["existingSecret"])[0].references.is_empty());
    }

    #[test]
    fn defined_secrets_and_external_secret_targets() {
        let text = r#"
apiVersion: v1
kind: Secret
metadata: {name: inline, namespace: ameide}
data: {a: eA==}
stringData: {b: y}
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata: {name: token, namespace: ameide}
data: {token: eA==}
---
apiVersion: v1
kind: Secret
metadata: {name: empty, namespace: ameide}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: es-sync, namespace: ameide}
spec:
  target: {name: es, template: {data: {url: "{{ .u }}"}}}
  data: [{secretKey: u, remoteRef: {key: k}}]
---
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata: {name: merged, namespace: ameide}
spec:
  target: {template: {mergePolicy: Merge, data: {url: x}}}
  data: [{secretKey: u, remoteRef: {key: k}}]
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: extracted, namespace: ameide}
spec:
  dataFrom: [{extract: {key: k}}]
"#;
        let defined: Vec<String> = walk(text, &[])
            .iter()
            .flat_map(|r| r.defines.iter())
            .map(|d| {
                let keys = d.keys.as_ref().map_or("?".to_string(), |k| {
                    k.iter().cloned().collect::<Vec<_>>().join(",")
                });
                format!("{} {keys} {}", d.name, d.inline_data)
            })
            .collect();
        assert_eq!(
            defined,
            [
                "inline a,b true",
                "token token false",
                "empty  false",
                "es url false",
                "merged u,url false",
                "extracted ? false",
            ]
        );
    }

    #[test]
    fn hostile_shapes_are_skipped_not_fatal() {
        let text = r#"
kind: Deployment
metadata: {name: [x], namespace: {a: b}}
spec:
  template:
    spec:
      containers: "nope"
      initContainers: [1, null, {env: {a: b}}, {env: [{name: PASSWORD}, {name: 7, value: x}, {name: DB_PASSWORD, value: {a: b}}, {name: DB_PASSWORD, value: 12345}]}]
      volumes: [{secret: {secretName: 9, items: [{key: 1}]}}, {projected: {sources: {a: b}}}]
      imagePullSecrets: [{name: ""}, "ghcr-pull"]
"#;
        let resources = walk(text, &["existingSecret"]);
        assert!(resources[0].references.is_empty());
        let credentials: Vec<&str> = resources[0]
            .credentials
            .iter()
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(credentials, ["DB_PASSWORD"], "a number is a literal too");
        assert_eq!(resources[0].label(), "document 1 (Deployment)");
    }
}
