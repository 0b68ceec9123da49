//! Stage 1, load: find the catalog files, parse each with spans, and merge them into one
//! `RawCatalog`. Names defined twice and sections outside secretcat.toml are reported here;
//! cross-references are left to `validate`.

pub mod defs;
pub mod parse;
pub mod raw;
pub mod spanned;
pub mod table;

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostic;
use crate::sandbox::{self, EntryKind, Refusal, Root};
use crate::source::{FileId, Files, display_path};
use defs::{Defs, Merger};
use raw::{RawBundle, RawEnvironment, RawFile, RawKey, RawOutputs, RawOwner, RawSecret, RawStore};
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
    pub store: Option<(FileId, Spanned<RawStore>)>,
    pub outputs: Option<(FileId, Spanned<RawOutputs>)>,
    pub environments: Defs<RawEnvironment>,
    pub owners: Defs<RawOwner>,
    pub bundles: Defs<RawBundle>,
    pub keys: Defs<RawKey>,
    pub secrets: Defs<RawSecret>,
    pub unmanaged_secrets: Defs<raw::RawUnmanagedSecret>,
    /// Where the catalog folder lies below the root, when it does: no output may land there.
    pub within_root: Option<PathBuf>,
}

/// Read and merge the catalog in `dir`, reading nothing outside it. Problems go to
/// `diagnostics`; whatever parsed is merged, so one run reports the errors of every file.
pub fn load(dir: &Path, files: &mut Files, diagnostics: &mut Vec<Diagnostic>) -> RawCatalog {
    load_in(dir, dir, files, diagnostics)
}

/// `load`, reading nothing outside `root` (the repository) when the catalog lies inside it, and
/// nothing outside the catalog folder when it does not: links may point anywhere inside.
pub fn load_in(
    dir: &Path,
    root: &Path,
    files: &mut Files,
    diagnostics: &mut Vec<Diagnostic>,
) -> RawCatalog {
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
    let (sandbox, within) = match confine(dir, root) {
        Ok(confined) => confined,
        Err(error) => {
            diagnostics.push(Diagnostic::io(&shown, "open catalog folder", &error));
            return catalog;
        }
    };
    if sandbox.path() == root {
        catalog.within_root = Some(within.clone());
    }
    let walk = Walk {
        sandbox: &sandbox,
        within: &within,
        dir,
    };
    let root_file = Path::new(ROOT_FILE);
    match sandbox.kind(&within.join(root_file)) {
        Ok(_) => {}
        Err(Refusal::Missing) => {
            diagnostics.push(Diagnostic::no_catalog(&shown));
            return catalog;
        }
        // Reported when the file is read.
        Err(_) => {}
    }
    let mut paths = Vec::new();
    let mut visited: Vec<PathBuf> = std::fs::canonicalize(dir).into_iter().collect();
    walk.collect(Path::new(""), &mut paths, &mut visited, diagnostics);
    // Path order keeps diagnostics stable; the merged model does not depend on it.
    paths.sort();
    paths.dedup();
    let read: Vec<(FileId, bool)> = paths
        .iter()
        .filter_map(|found| {
            let id = walk.read(found, files, diagnostics)?;
            Some((id, found.path == root_file))
        })
        .collect();
    merge_all(&mut catalog, &read, files, diagnostics);
    catalog
}

/// The folder reads are confined to, held open, and the catalog's place inside it.
fn confine(dir: &Path, root: &Path) -> std::io::Result<(Root, PathBuf)> {
    let canonical_dir = std::fs::canonicalize(dir)?;
    if let Ok(canonical_root) = std::fs::canonicalize(root)
        && let Ok(within) = canonical_dir.strip_prefix(&canonical_root)
    {
        return Ok((Root::open(root)?, within.to_path_buf()));
    }
    Ok((Root::open(dir)?, PathBuf::new()))
}

/// A catalog file the walk found (relative to the catalog), or a folder named like one.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Found {
    path: PathBuf,
    is_folder: bool,
}

/// Finding and reading the catalog's files through the confining folder.
struct Walk<'a> {
    sandbox: &'a Root,
    /// The catalog folder, relative to the sandbox.
    within: &'a Path,
    /// The catalog folder as the user named it, for the paths files are shown by.
    dir: &'a Path,
}

impl Walk<'_> {
    /// Every `*.toml` below `folder` (relative to the catalog), folders named `*.toml`
    /// included: reading them reports them. `visited` holds the folders on the way here, after
    /// links, so a link to a folder above cannot loop.
    fn collect(
        &self,
        folder: &Path,
        out: &mut Vec<Found>,
        visited: &mut Vec<PathBuf>,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let names = match self.sandbox.list(&self.within.join(folder)) {
            Ok(names) => names,
            Err(refusal) => {
                let shown = display_path(&self.dir.join(folder));
                diagnostics.push(refusal.diagnostic(&shown, "read folder"));
                return;
            }
        };
        for name in names {
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let relative = folder.join(&name);
            let is_toml = relative.extension().is_some_and(|e| e == "toml");
            match self.sandbox.kind(&self.within.join(&relative)) {
                Ok(EntryKind::Folder) if is_toml => out.push(Found {
                    path: relative,
                    is_folder: true,
                }),
                Ok(EntryKind::Folder) => {
                    let resolved = std::fs::canonicalize(self.dir.join(&relative)).ok();
                    if resolved.as_ref().is_some_and(|r| visited.contains(r)) {
                        continue;
                    }
                    visited.extend(resolved.clone());
                    self.collect(&relative, out, visited, diagnostics);
                    if resolved.is_some() {
                        visited.pop();
                    }
                }
                Ok(_) if is_toml => out.push(Found {
                    path: relative,
                    is_folder: false,
                }),
                Ok(_) => {}
                // A link out of the repository is reported whatever its name: it may stand
                // for a folder of fragments that would otherwise vanish without a word.
                Err(refusal @ (Refusal::Outside { .. } | Refusal::InGit { .. })) => {
                    let shown = display_path(&self.dir.join(&relative));
                    diagnostics.push(refusal.diagnostic(&shown, "read"));
                }
                Err(refusal) if is_toml => {
                    let shown = display_path(&self.dir.join(&relative));
                    diagnostics.push(refusal.diagnostic(&shown, "read"));
                }
                Err(_) => {}
            }
        }
    }

    /// Read one catalog file (relative to the catalog) into the registry; `None` (with a
    /// diagnostic) when it cannot or may not be read.
    fn read(
        &self,
        found: &Found,
        files: &mut Files,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Option<FileId> {
        let path = self.dir.join(&found.path);
        let shown = display_path(&path);
        if found.is_folder {
            diagnostics.push(Diagnostic::not_a_file(&shown));
            return None;
        }
        let inside = self.within.join(&found.path);
        let bytes = match self.sandbox.read(&inside, sandbox::CATALOG_FILE) {
            Ok(bytes) => bytes,
            Err(refusal) => {
                diagnostics.push(refusal.diagnostic(&shown, "read"));
                return None;
            }
        };
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(error) => {
                // Show the file up to the bad byte, which is valid text, and point at that byte.
                let offset = error.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
                let id = files.add(&path, text);
                diagnostics.push(Diagnostic::not_utf8(&shown).at(
                    id,
                    offset..offset + 1,
                    "first byte that is not UTF-8",
                ));
                return None;
            }
        };
        Some(files.add(&path, text))
    }
}

/// Load a catalog held in memory: (path, text) pairs, the root file being the one whose path is
/// `secretcat.toml`. For tools and tests that have no folder on disk. It stands for a catalog in
/// `catalog/` below the root, as its headers say, so outputs there are refused as on disk.
pub fn load_sources(
    sources: Vec<(PathBuf, String)>,
    files: &mut Files,
    diagnostics: &mut Vec<Diagnostic>,
) -> RawCatalog {
    let mut catalog = RawCatalog::default();
    let mut sources = sources;
    sources.sort_by(|a, b| a.0.cmp(&b.0));
    if !sources.iter().any(|(path, _)| path == Path::new(ROOT_FILE)) {
        diagnostics.push(Diagnostic::no_catalog("."));
        return catalog;
    }
    let read: Vec<(FileId, bool)> = sources
        .into_iter()
        .map(|(path, text)| {
            let is_root = path == Path::new(ROOT_FILE);
            (files.add(&path, text), is_root)
        })
        .collect();
    merge_all(&mut catalog, &read, files, diagnostics);
    catalog.within_root = Some(PathBuf::from("catalog"));
    catalog
}

/// Parse every file read (`(file, is the root file)`, in path order), each on a free core, then
/// merge them one after another in that order, so diagnostics and the merged catalog are the
/// same however the parsing was shared out.
fn merge_all(
    catalog: &mut RawCatalog,
    read: &[(FileId, bool)],
    files: &Files,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let parsed = crate::parallel::map(read, |&(id, _)| parse_source(id, files));
    let parsed_files = || parsed.iter().filter_map(|file| file.as_ref().ok());
    let count = |section: fn(&RawFile) -> usize| parsed_files().map(section).sum();
    let mut merging = Merging {
        environments: Merger::new("environment", count(|f| f.environments.len())),
        owners: Merger::new("owner", count(|f| f.owners.len())),
        bundles: Merger::new("bundle", count(|f| f.bundles.len())),
        keys: Merger::new("key", count(|f| f.keys.len())),
        secrets: Merger::new("secret", count(|f| f.secrets.len())),
        unmanaged_secrets: Merger::new("unmanaged secret", count(|f| f.unmanaged_secrets.len())),
    };
    for (&(id, is_root), parsed) in read.iter().zip(parsed) {
        match parsed {
            Ok(file) => merge(catalog, &mut merging, id, is_root, file, diagnostics),
            Err(problem) => diagnostics.push(problem),
        }
    }
    catalog.environments = merging.environments.finish();
    catalog.owners = merging.owners.finish();
    catalog.bundles = merging.bundles.finish();
    catalog.keys = merging.keys.finish();
    catalog.secrets = merging.secrets.finish();
    catalog.unmanaged_secrets = merging.unmanaged_secrets.finish();
}

/// The named sections of every file merged so far.
struct Merging {
    environments: Merger<RawEnvironment>,
    owners: Merger<RawOwner>,
    bundles: Merger<RawBundle>,
    keys: Merger<RawKey>,
    secrets: Merger<RawSecret>,
    unmanaged_secrets: Merger<raw::RawUnmanagedSecret>,
}

fn parse_source(id: FileId, files: &Files) -> Result<RawFile, Diagnostic> {
    parse::from_str::<RawFile>(&files.get(id).text).map_err(|error| {
        let file = files.get(id);
        let span = file.clamp(error.span().unwrap_or(0..0));
        let spanned = &file.text[span.clone()];
        Diagnostic::toml(error.message(), spanned).at(id, span, "")
    })
}

fn merge(
    catalog: &mut RawCatalog,
    merging: &mut Merging,
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
        merging.environments.add(id, file.environments, diagnostics);
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
    merging.owners.add(id, file.owners, diagnostics);
    merging.bundles.add(id, file.bundles, diagnostics);
    merging.keys.add(id, file.keys, diagnostics);
    merging
        .unmanaged_secrets
        .add(id, file.unmanaged_secrets, diagnostics);
    merging.secrets.add(id, file.secrets, diagnostics);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Code;

    fn load_files(files_on_disk: &[(&str, &str)]) -> (RawCatalog, Files, Vec<Diagnostic>) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files_on_disk {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let mut files = Files::default();
        let mut diagnostics = Vec::new();
        let catalog = load(dir.path(), &mut files, &mut diagnostics);
        (catalog, files, diagnostics)
    }

    const ROOT: &str = "[store]\nname = \"v\"\nmount = \"secret\"\n";

    #[test]
    fn fragments_in_nested_folders_merge_with_the_names_spans() {
        let (catalog, files, diagnostics) = load_files(&[
            ("secretcat.toml", ROOT),
            ("teams/a.toml", "[keys.a]\nfixture = \"x\"\n"),
            ("b.toml", "[keys.\"b/c\"]\nexternal = \"y\"\n"),
        ]);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let key = &catalog.keys["b/c"];
        assert_eq!(&files.get(key.file).text[key.name_span.clone()], "\"b/c\"");
        assert_eq!(catalog.keys.len(), 2);
    }

    #[test]
    fn a_name_keeps_its_first_definition_and_names_come_out_sorted_across_files() {
        let (catalog, files, diagnostics) = load_files(&[
            ("secretcat.toml", ROOT),
            (
                "a.toml",
                "[keys.m]\nfixture = \"first\"\n[keys.z]\nfixture = \"z\"\n",
            ),
            (
                "b.toml",
                "[keys.m]\nfixture = \"second\"\n[keys.b]\nfixture = \"b\"\n",
            ),
            ("c.toml", "[keys.m]\nfixture = \"third\"\n"),
        ]);
        let names: Vec<&String> = catalog.keys.names().collect();
        assert_eq!(names, ["b", "m", "z"]);
        let kept = &catalog.keys["m"];
        assert!(files.get(kept.file).display.ends_with("a.toml"));
        assert_eq!(kept.value.fixture.as_ref().unwrap().value, "first");
        let repeated_in: Vec<&str> = diagnostics
            .iter()
            .map(|d| files.get(d.primary.as_ref().unwrap().file).display.as_str())
            .collect();
        assert_eq!(diagnostics.len(), 2);
        assert!(repeated_in[0].ends_with("b.toml") && repeated_in[1].ends_with("c.toml"));
        for d in &diagnostics {
            assert!(files.get(d.secondary[0].file).display.ends_with("a.toml"));
        }
    }

    #[test]
    fn a_name_defined_in_two_files_names_both() {
        let (_, files, diagnostics) = load_files(&[
            ("secretcat.toml", ROOT),
            ("a.toml", "[keys.k]\nfixture = \"x\"\n"),
            ("b.toml", "\n[keys.k]\nfixture = \"y\"\n"),
        ]);
        assert_eq!(diagnostics.len(), 1);
        let d = &diagnostics[0];
        assert_eq!(d.code, Code::DuplicateDefinition);
        let primary = d.primary.as_ref().unwrap();
        let first = &d.secondary[0];
        assert!(files.get(primary.file).display.ends_with("b.toml"));
        assert_eq!(files.get(primary.file).position(primary.span.start).line, 2);
        assert!(files.get(first.file).display.ends_with("a.toml"));
    }

    #[test]
    fn catalog_wide_sections_in_a_fragment_are_refused() {
        let (_, _, diagnostics) = load_files(&[("secretcat.toml", ROOT), ("a.toml", ROOT)]);
        assert_eq!(
            diagnostics.iter().map(|d| d.code).collect::<Vec<_>>(),
            [Code::MisplacedSection]
        );
    }

    #[test]
    fn a_missing_folder_and_a_missing_root_file_are_told_apart() {
        let mut files = Files::default();
        let mut diagnostics = Vec::new();
        load(
            Path::new("/nonexistent/catalog"),
            &mut files,
            &mut diagnostics,
        );
        assert!(
            diagnostics[0].message.starts_with("catalog folder"),
            "{}",
            diagnostics[0].message
        );
        let (_, _, diagnostics) = load_files(&[("a.toml", "")]);
        assert!(
            diagnostics[0].message.starts_with("no catalog found"),
            "{}",
            diagnostics[0].message
        );
    }
}
