//! Stage 1, load: find the catalog files, parse each with spans, and merge them into one
//! `RawCatalog`. Names defined twice and sections outside secretcat.toml are reported here;
//! cross-references are left to `validate`.

pub mod raw;
pub mod spanned;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostic;
use crate::source::{FileId, Files, display_path};
use raw::{RawBundle, RawEnvironment, RawFile, RawKey, RawOutputs, RawSecret, RawStore};
use spanned::Spanned;

/// The settings file every catalog has; all other `*.toml` files below the catalog are fragments.
pub const ROOT_FILE: &str = "secretcat.toml";

/// A named definition and where it was made.
#[derive(Debug)]
pub struct Def<T> {
    pub file: FileId,
    pub name_span: Range<usize>,
    pub value: Spanned<T>,
}

/// Every catalog file merged; names are unique, nothing is cross-checked yet.
#[derive(Debug, Default)]
pub struct RawCatalog {
    /// The secretcat.toml file, when it parsed.
    pub root_file: Option<FileId>,
    pub store: Option<(FileId, Spanned<RawStore>)>,
    pub outputs: Option<(FileId, Spanned<RawOutputs>)>,
    pub environments: BTreeMap<String, Def<RawEnvironment>>,
    pub bundles: BTreeMap<String, Def<RawBundle>>,
    pub keys: BTreeMap<String, Def<RawKey>>,
    pub secrets: BTreeMap<String, Def<RawSecret>>,
}

/// Read and merge the catalog in `dir`. Problems go to `diagnostics`; whatever parsed is merged,
/// so one run reports the errors of every file.
pub fn load(dir: &Path, files: &mut Files, diagnostics: &mut Vec<Diagnostic>) -> RawCatalog {
    let mut catalog = RawCatalog::default();
    let shown = display_path(dir);
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            diagnostics.push(Diagnostic::usage(format!(
                "catalog `{shown}` is a file; --catalog takes the folder holding secretcat.toml"
            )));
            return catalog;
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            diagnostics.push(Diagnostic::no_catalog_folder(&shown));
            return catalog;
        }
        Err(error) => {
            diagnostics.push(Diagnostic::io(&shown, "read catalog folder", &error));
            return catalog;
        }
    }
    let root = dir.join(ROOT_FILE);
    if !root.exists() {
        diagnostics.push(Diagnostic::no_catalog(&shown));
        return catalog;
    }
    let mut paths = Vec::new();
    collect_toml_files(dir, &mut paths, diagnostics);
    // Path order keeps diagnostics stable; the merged model does not depend on it.
    paths.sort();
    for path in paths {
        let is_root = path == root;
        if let Some((id, file)) = parse_file(&path, files, diagnostics) {
            if is_root {
                catalog.root_file = Some(id);
            }
            merge(&mut catalog, id, is_root, file, diagnostics);
        }
    }
    catalog
}

fn collect_toml_files(dir: &Path, out: &mut Vec<PathBuf>, diagnostics: &mut Vec<Diagnostic>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            diagnostics.push(Diagnostic::io(&display_path(dir), "read folder", &error));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        // `metadata` follows symlinks: a linked file is read, a linked folder is descended into
        // only when it is a real folder, which cannot loop.
        let is_toml = path.extension().is_some_and(|e| e == "toml");
        match (entry.file_type(), std::fs::metadata(&path)) {
            // A folder named like a catalog file is reported by `parse_file`.
            (Ok(kind), _) if kind.is_dir() && is_toml => out.push(path),
            (Ok(kind), _) if kind.is_dir() => collect_toml_files(&path, out, diagnostics),
            (_, Ok(_)) if is_toml => out.push(path),
            (_, Err(error)) if is_toml => {
                diagnostics.push(Diagnostic::io(&display_path(&path), "read", &error));
            }
            _ => {}
        }
    }
}

fn parse_file(
    path: &Path,
    files: &mut Files,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<(FileId, RawFile)> {
    let shown = display_path(path);
    if path.is_dir() {
        diagnostics.push(Diagnostic::not_a_file(&shown));
        return None;
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => {
            diagnostics.push(Diagnostic::io(&shown, "read", &error));
            return None;
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            // Show the file up to the bad byte, which is valid text, and point at that byte.
            let offset = error.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
            let id = files.add(path, text);
            diagnostics.push(Diagnostic::not_utf8(&shown).at(
                id,
                offset..offset + 1,
                "first byte that is not UTF-8",
            ));
            return None;
        }
    };
    let id = files.add(path, text);
    match toml::from_str::<RawFile>(&files.get(id).text) {
        Ok(file) => Some((id, file)),
        Err(error) => {
            let file = files.get(id);
            let span = file.clamp(error.span().unwrap_or(0..0));
            let spanned = &file.text[span.clone()];
            diagnostics.push(Diagnostic::toml(error.message(), spanned).at(id, span, ""));
            None
        }
    }
}

fn merge(
    catalog: &mut RawCatalog,
    id: FileId,
    is_root: bool,
    file: RawFile,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if is_root {
        match file.store {
            Some(store) => catalog.store = Some((id, store)),
            None => diagnostics.push(Diagnostic::missing_store().at(id, 0..0, "")),
        }
        catalog.outputs = file.outputs.map(|outputs| (id, outputs));
        insert_all(
            &mut catalog.environments,
            "environment",
            id,
            file.environments,
            diagnostics,
        );
    } else {
        if let Some(store) = &file.store {
            diagnostics.push(Diagnostic::misplaced_section("store").at(id, store.span.clone(), ""));
        }
        if let Some(outputs) = &file.outputs {
            diagnostics.push(Diagnostic::misplaced_section("outputs").at(
                id,
                outputs.span.clone(),
                "",
            ));
        }
        if let Some((name, _)) = file.environments.iter().next() {
            diagnostics.push(Diagnostic::misplaced_section("environments").at(
                id,
                name.span.clone(),
                "",
            ));
        }
    }
    insert_all(
        &mut catalog.bundles,
        "bundle",
        id,
        file.bundles,
        diagnostics,
    );
    insert_all(&mut catalog.keys, "key", id, file.keys, diagnostics);
    insert_all(
        &mut catalog.secrets,
        "secret",
        id,
        file.secrets,
        diagnostics,
    );
}

fn insert_all<T>(
    into: &mut BTreeMap<String, Def<T>>,
    kind: &str,
    file: FileId,
    defs: BTreeMap<Spanned<String>, Spanned<T>>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for (name, value) in defs {
        if let Some(first) = into.get(&name.value) {
            diagnostics.push(
                Diagnostic::duplicate(kind, &name.value)
                    .at(file, name.span.clone(), "defined again here")
                    .also(first.file, first.name_span.clone(), "first defined here"),
            );
            continue;
        }
        into.insert(
            name.value,
            Def {
                file,
                name_span: name.span,
                value,
            },
        );
    }
}
