//! secretcat: a declarative fixture catalog compiler for Vault + External Secrets Operator
//! platforms. The pipeline runs one way: `load` → `validate` → `model` → `render` → `emit`;
//! `cli` is a thin shell over it and the only place that decides exit codes.

pub mod cli;
pub mod diagnostics;
pub mod emit;
pub mod graph;
pub mod import;
pub mod inventory;
pub mod load;
pub mod model;
pub mod parallel;
pub mod render;
pub mod report;
pub mod sandbox;
pub mod source;
pub mod suggest;
pub mod synthetic;
pub mod terminal;
pub mod validate;
#[cfg(feature = "vault")]
pub mod vault;
pub mod verify;

use std::path::Path;

use diagnostics::{Diagnostic, Severity};
use model::Catalog;
use source::Files;

/// A catalog taken through load and validate.
pub struct Compiled {
    pub files: Files,
    /// `None` when the catalog could not be compiled at all (no store, unreadable).
    pub catalog: Option<Catalog>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.catalog.is_none()
            || self
                .diagnostics
                .iter()
                .any(|d| d.severity == Severity::Error)
    }
}

/// Load and validate the catalog in `catalog_dir`; `root` is where outputs are written, used to
/// name the catalog in file headers.
pub fn compile(catalog_dir: &Path, root: &Path) -> Compiled {
    let mut files = Files::default();
    let mut diagnostics = Vec::new();
    let raw = load::load_in(catalog_dir, root, &mut files, &mut diagnostics);
    finish(raw, files, diagnostics, catalog_label(catalog_dir, root))
}

/// Load and validate a catalog held in memory (see `load::load_sources`); headers name it
/// `catalog`. Render the result with `render::render` and `render::Templates::builtin()`.
pub fn compile_sources(sources: Vec<(std::path::PathBuf, String)>) -> Compiled {
    let mut files = Files::default();
    let mut diagnostics = Vec::new();
    let raw = load::load_sources(sources, &mut files, &mut diagnostics);
    finish(raw, files, diagnostics, "catalog".to_string())
}

fn finish(
    raw: load::RawCatalog,
    mut files: Files,
    mut diagnostics: Vec<Diagnostic>,
    label: String,
) -> Compiled {
    // A file that did not parse leaves its definitions out of the merge; validating the rest
    // would bury the real error under references to them.
    let loaded = !diagnostics.iter().any(|d| d.severity == Severity::Error);
    let catalog = loaded
        .then(|| validate::validate(raw, label, &mut diagnostics))
        .flatten();
    // Report in reading order: by file, then by position; problems without a place first.
    diagnostics.sort_by_key(|d| d.primary.as_ref().map(|l| (l.file, l.span.start)));
    // A span one diagnostic found sensitive stays hidden in every other diagnostic's quote.
    for label in diagnostics
        .iter()
        .flat_map(|d| d.primary.iter().chain(&d.secondary))
    {
        if let Some(kind) = label.redact {
            files.mark_sensitive(label.file, label.span.clone(), kind);
        }
    }
    Compiled {
        files,
        catalog,
        diagnostics,
    }
}

/// The catalog folder as headers name it: relative to the root when it lies below it.
fn catalog_label(catalog_dir: &Path, root: &Path) -> String {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (dir, root) = (absolute(catalog_dir), absolute(root));
    let label = match dir.strip_prefix(&root) {
        Ok(relative) if !relative.as_os_str().is_empty() => relative.to_path_buf(),
        _ => dir
            .file_name()
            .map(Into::into)
            .unwrap_or_else(|| dir.clone()),
    };
    // The label lands in comment lines of YAML headers: a line break in a folder name must not
    // start a line of YAML content there.
    label
        .to_string_lossy()
        .replace('\\', "/")
        .chars()
        .flat_map(|c| match c.is_control() {
            true => c.escape_default().collect::<Vec<_>>(),
            false => vec![c],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_line_break_in_the_catalog_folder_cannot_reach_a_header_line() {
        let root = std::path::Path::new("/repo");
        let label = super::catalog_label(&root.join("cat\nevil: injected"), root);
        assert_eq!(label, "cat\\nevil: injected");
    }
}
