//! `verify`: rendered manifests (e.g. `helm template` output) against the compiled catalog. Every
//! reference a workload makes to a Secret must be one the catalog produces, in that namespace,
//! with that data key; and nothing may carry secret values inline (Zero Inline Secrets).
//!
//! The stages: `input` reads files, folders and stdin; `parse` turns each file into numbered
//! documents; `walk` finds, in each resource, the Secrets it reads, the Secrets it defines and
//! the literal credentials it carries; `lookup` indexes what exists (the catalog, its unmanaged
//! secrets, and the Secrets the manifests define themselves) once, so that every reference is
//! resolved with map lookups; `inline` holds the Zero Inline Secrets rules.
//!
//! Design choices, each documented where it is implemented:
//! - namespaces: a resource is in its `metadata.namespace`, else `default`; a file in which no
//!   resource names a namespace (`helm template` without `--namespace`) is read as "any
//!   namespace" (`walk::Namespace::Any`);
//! - a catalog secret exists in each namespace an environment installs it in, as that
//!   environment maps it: every environment without `--env`, only that one with it (`lookup`);
//! - `optional: true` references are walked, but a missing Secret, namespace or key under them
//!   is no finding: Kubernetes starts the pod without them (`lookup::Index::resolve`);
//! - the credential-name rule and its exceptions (`inline::credential_like`);
//! - value paths (`existingSecret`, `auth.existingSecret`) match at any depth (`walk`).

mod inline;
mod input;
mod lookup;
mod parse;
mod walk;

use std::path::PathBuf;

use crate::diagnostics::Diagnostic;
use crate::model::Catalog;

/// One manifest file as read: its name as shown in diagnostics (`-` for stdin) and its text.
pub struct Manifest {
    pub name: String,
    pub text: String,
}

/// The chart conventions looked for when `--value-path` is not given.
pub const DEFAULT_VALUE_PATHS: &[&str] = &["existingSecret", "existingSecrets", "extraSecretRefs"];

/// What `verify` looks for besides the Kubernetes references.
pub struct Options {
    /// Values paths of chart conventions that name an existing Secret (`existingSecret`,
    /// `auth.existingSecret`) or a list of them (`extraSecretRefs`).
    pub value_paths: Vec<String>,
    /// The one environment the manifests were rendered for; `None`: any of them.
    pub env: Option<String>,
}

/// Read every manifest: files, folders (their `*.yaml`, `*.yml` and `*.json`, recursively, in
/// path order), and `-` for stdin.
pub fn read_inputs(inputs: &[PathBuf]) -> Result<Vec<Manifest>, Vec<Diagnostic>> {
    input::read_inputs(inputs)
}

/// Every finding of `manifests` against `catalog`, sorted by file, then document, then path.
pub fn verify(catalog: &Catalog, manifests: &[Manifest], options: &Options) -> Vec<Diagnostic> {
    let value_paths: Vec<Vec<&str>> = options
        .value_paths
        .iter()
        .map(|p| p.split('.').filter(|s| !s.is_empty()).collect::<Vec<_>>())
        .filter(|p| !p.is_empty())
        .collect();

    let mut findings: Vec<(SortKey, Diagnostic)> = Vec::new();
    let mut parsed: Vec<(usize, Vec<parse::Document>)> = Vec::new();
    for (index, manifest) in manifests.iter().enumerate() {
        match parse::documents(manifest) {
            Ok(documents) => parsed.push((index, documents)),
            Err(detail) => findings.push((
                SortKey::file(manifest, index),
                Diagnostic::invalid_manifest(&manifest.name, &detail),
            )),
        }
    }

    // Every resource of every file, walked once.
    let mut resources: Vec<(usize, walk::Resource)> = Vec::new();
    for (index, documents) in &parsed {
        resources.extend(
            walk::resources(documents, &value_paths)
                .into_iter()
                .map(|r| (*index, r)),
        );
    }

    let defined = resources
        .iter()
        .flat_map(|(_, r)| r.defines.iter())
        .map(|d| (d.name.as_str(), &d.namespace, d.keys.as_ref()));
    let index = lookup::Index::new(catalog, options.env.as_deref(), defined);

    for (file, resource) in &resources {
        let manifest = &manifests[*file];
        let name = manifest.name.as_str();
        let place = |path: &walk::Path| SortKey {
            file: name.to_string(),
            index: *file,
            document: resource.document,
            item: resource.item,
            path: path.clone(),
        };
        for reference in &resource.references {
            for diagnostic in index.resolve(name, resource, reference) {
                findings.push((place(&diagnostic.0), diagnostic.1));
            }
        }
        for secret in resource.defines.iter().filter(|d| d.inline_data) {
            if !index.declares(&secret.name, &secret.namespace) {
                findings.push((
                    place(&walk::Path::default()),
                    Diagnostic::inline_secret(
                        name,
                        &resource.label(),
                        &secret.name,
                        secret.namespace.shown_for_definition(),
                    ),
                ));
            }
        }
        for (path, variable) in &resource.credentials {
            findings.push((
                place(path),
                Diagnostic::inline_credential(name, &resource.at(path), variable),
            ));
        }
    }
    // Stable: findings at one place keep the order they were found in.
    findings.sort_by(|a, b| a.0.cmp(&b.0));
    findings.into_iter().map(|(_, d)| d).collect()
}

/// Where a finding is: file (by name, then by position in the input list), document, item of a
/// `List`, path in the resource.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct SortKey {
    file: String,
    index: usize,
    document: usize,
    item: Option<usize>,
    path: walk::Path,
}

impl SortKey {
    fn file(manifest: &Manifest, index: usize) -> Self {
        SortKey {
            file: manifest.name.clone(),
            index,
            document: 0,
            item: None,
            path: walk::Path::default(),
        }
    }
}
