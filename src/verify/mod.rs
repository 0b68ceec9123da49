//! `verify`: rendered manifests (e.g. `helm template` output) against the compiled catalog. Every
//! reference a workload makes to a Secret must be one the catalog produces, in that namespace,
//! with that data key; and nothing may carry secret values inline (Zero Inline Secrets).

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
}

/// Read every manifest: files, folders (their `*.yaml`, `*.yml` and `*.json`, recursively, in
/// path order), and `-` for stdin.
pub fn read_inputs(_inputs: &[PathBuf]) -> Result<Vec<Manifest>, Vec<Diagnostic>> {
    Err(vec![Diagnostic::usage("verify is not built yet")])
}

/// Every finding of `manifests` against `catalog` (already narrowed to one environment when the
/// user asked for one), sorted by file, then document.
pub fn verify(_catalog: &Catalog, _manifests: &[Manifest], _options: &Options) -> Vec<Diagnostic> {
    Vec::new()
}
