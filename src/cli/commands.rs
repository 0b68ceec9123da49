//! The commands that compile a catalog: generate, check, list, explain. Each prints through the
//! `Console` and returns an `Outcome`; none decides an exit code.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{Args, Console, Outcome, Verbosity};
use crate::diagnostics::{Diagnostic, Severity};
use crate::emit::{self, Drift};
use crate::inventory::{self, ListFormat, ListKind};
use crate::render::{self, Templates};
use crate::report::{self, Format};
use crate::{Compiled, compile};

/// The catalog folder and the root, from the flags: each defaults from the other.
pub(super) fn locations(args: &Args) -> (PathBuf, PathBuf) {
    match (&args.catalog, &args.root) {
        (Some(catalog), Some(root)) => (catalog.clone(), root.clone()),
        (Some(catalog), None) => {
            let absolute = std::path::absolute(catalog).unwrap_or_else(|_| catalog.clone());
            let root = absolute
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            (catalog.clone(), root)
        }
        (None, Some(root)) => (root.join("catalog"), root.clone()),
        (None, None) => (PathBuf::from("catalog"), PathBuf::from(".")),
    }
}

/// Compile and print errors; the catalog only when it compiled. Findings and warnings are left
/// to `check`: listing an inventory is not the place to fail on them.
pub(super) fn compiled_catalog(
    catalog_dir: &Path,
    root: &Path,
    console: &mut Console,
) -> Option<(Compiled, crate::model::Catalog)> {
    let mut compiled = compile(catalog_dir, root);
    if compiled.has_errors() {
        print_diagnostics(&compiled, console);
        console.summary(&error_summary(&compiled.diagnostics));
        return None;
    }
    let catalog = compiled.catalog.take()?;
    Some((compiled, catalog))
}

/// One error that ends a command, with its closing line.
/// Every diagnostic to stderr, in order.
pub(super) fn print_each(
    console: &mut Console,
    files: &crate::source::Files,
    diagnostics: &[Diagnostic],
) {
    for diagnostic in diagnostics {
        let text = report::text_in(files, diagnostic, console.err_palette);
        console.report_err(&format!("{text}\n"));
    }
}

/// A run stopped before it wrote anything: its problems, and a summary that says so.
pub(super) fn refuse(
    console: &mut Console,
    files: &crate::source::Files,
    problems: &[Diagnostic],
) -> Outcome {
    print_each(console, files, problems);
    console.summary(&format!("{}; nothing was written", error_summary(problems)));
    Outcome::Error
}

pub(super) fn print_error(
    console: &mut Console,
    files: &crate::source::Files,
    diagnostic: &Diagnostic,
) {
    let text = report::text_in(files, diagnostic, console.err_palette);
    console.report_err(&format!("{text}\n"));
    console.summary(&error_summary(std::slice::from_ref(diagnostic)));
}

/// Every diagnostic, coloured for the terminal; `--quiet` keeps errors and findings only.
fn print_diagnostics(compiled: &Compiled, console: &mut Console) {
    for diagnostic in &compiled.diagnostics {
        if console.verbosity == Verbosity::Quiet && diagnostic.severity == Severity::Warning {
            continue;
        }
        let text = report::text_in(&compiled.files, diagnostic, console.err_palette);
        console.report_err(&format!("{text}\n"));
    }
}

/// Compile the catalog and render every output, each handed to `each` as it is rendered (see
/// `render::render_with`); `None` when either step found errors.
fn compile_and_render<T: Send>(
    catalog_dir: &Path,
    root: &Path,
    each: impl Fn(&str, render::Text) -> T + Sync,
) -> (Compiled, Option<BTreeMap<String, T>>) {
    let mut compiled = compile(catalog_dir, root);
    if compiled.has_errors() {
        return (compiled, None);
    }
    let rendered = Templates::load(root, &mut compiled.files).and_then(|templates| {
        let catalog = compiled.catalog.as_ref().expect("compiled without errors");
        render::render_with(catalog, &templates, &compiled.files, each)
    });
    match rendered {
        Ok(files) => (compiled, Some(files)),
        Err(problems) => {
            compiled.diagnostics.extend(problems);
            (compiled, None)
        }
    }
}

pub(super) fn generate(catalog_dir: &Path, root: &Path, console: &mut Console) -> Outcome {
    // One generate at a time, and no check while it runs: held until this function returns.
    let _lock = match emit::OutputLock::exclusive(root, emit::LOCK_WAIT) {
        Ok(lock) => lock,
        Err(error) => return refuse(console, &crate::source::Files::default(), &[error]),
    };
    // Each output is staged where it was rendered (written to a synced temporary file if it
    // differs from the file on disk), so neither the texts nor the syncs wait for the others.
    let stager = emit::Stager::new(root);
    let (mut compiled, rendered) =
        compile_and_render(catalog_dir, root, |path, text| match &stager {
            Ok(stager) => stager.stage(path, text.pieces()),
            Err(error) => Err(error.clone()),
        });
    let Some(staged) = rendered else {
        print_diagnostics(&compiled, console);
        console.summary(&format!(
            "{}; nothing was written",
            error_summary(&compiled.diagnostics)
        ));
        return Outcome::Error;
    };
    let outputs = &compiled.catalog.as_ref().expect("compiled").outputs;
    let (written, failure) = match emit::commit(root, staged, outputs) {
        Ok(report) => (report, None),
        Err((report, error)) => (report, Some(error)),
    };
    let quiet = console.verbosity == Verbosity::Quiet;
    let verbose = console.verbosity == Verbosity::Verbose;
    let lines = [
        ("wrote    ", &written.written, !quiet),
        ("unchanged", &written.unchanged, verbose),
        ("removed  ", &written.removed, !quiet),
    ];
    for (word, paths, shown) in lines {
        for path in paths.iter().filter(|_| shown) {
            let _ = writeln!(console.stdout, "{word} {path}");
        }
    }
    let nothing_written = written.written.is_empty() && written.removed.is_empty();
    if !quiet && (failure.is_none() || !nothing_written) {
        let (w, u, r) = (
            written.written.len(),
            written.unchanged.len(),
            written.removed.len(),
        );
        let _ = writeln!(console.stdout, "{w} written, {u} unchanged, {r} removed");
    }
    // Always said, even with --quiet: after a failed write these files are not what the catalog says.
    for path in &written.untouched {
        let _ = writeln!(console.stdout, "untouched {path} (left as it was)");
    }
    if let Some(error) = failure {
        compiled.diagnostics.push(error);
    }
    print_diagnostics(&compiled, console);
    let outcome = Outcome::from_severities(&compiled.diagnostics, false);
    match outcome {
        Outcome::Error if nothing_written => {
            console.summary(&format!(
                "{}; nothing was written",
                error_summary(&compiled.diagnostics)
            ));
        }
        Outcome::Error => console.summary(&error_summary(&compiled.diagnostics)),
        Outcome::Drift => {
            let findings = count(&compiled.diagnostics, Severity::Finding);
            console.summary(&format!(
                "secretcat: outputs written, with {findings} finding(s) to fix"
            ));
        }
        Outcome::Clean => {}
    }
    leave_to_exit(compiled);
    outcome
}

pub(super) fn check(
    catalog_dir: &Path,
    root: &Path,
    format: Format,
    env: Option<&str>,
    console: &mut Console,
) -> Outcome {
    // A generate placing files would look like drift half-way: wait until it is done.
    let _lock = match emit::OutputLock::shared(root, emit::LOCK_WAIT) {
        Ok(lock) => lock,
        Err(error) => {
            print_error(console, &crate::source::Files::default(), &error);
            return Outcome::Error;
        }
    };
    // Each output is compared with the file on disk where it was rendered, and only the verdict
    // is kept.
    let comparer = emit::Comparer::new(root);
    let (mut compiled, verdicts) =
        compile_and_render(catalog_dir, root, |path, text| match &comparer {
            Ok(comparer) => comparer.compare(path, text.pieces()),
            Err(error) => Err(error.clone()),
        });
    // The paths rendered: `None` when the catalog or a template had errors.
    let mut rendered: Option<BTreeSet<String>> = None;
    let mut drift: Vec<Drift> = Vec::new();
    if let (Some(verdicts), Some(catalog)) = (verdicts, &compiled.catalog) {
        let mut paths: BTreeSet<String> = verdicts.keys().cloned().collect();
        match emit::drift(root, verdicts, &catalog.outputs) {
            Ok(found) => drift = found,
            Err(error) => compiled.diagnostics.push(error),
        }
        if let Some(env) = env {
            match environment_files(catalog, &paths, env) {
                Ok(in_env) => {
                    drift.retain(|d| in_env(d.path()));
                    paths.retain(|path| in_env(path));
                }
                Err(error) => {
                    print_error(console, &compiled.files, &error);
                    return Outcome::Error;
                }
            }
        }
        rendered = Some(paths);
    }
    match format {
        Format::Text => {
            print_diagnostics(&compiled, console);
            let with_diff = console.verbosity != Verbosity::Quiet;
            for entry in &drift {
                let text = report::drift_text_in(entry, with_diff, console.out_palette);
                console.report_out(&text);
            }
            if console.verbosity == Verbosity::Verbose
                && let Some(files) = &rendered
            {
                for path in files
                    .iter()
                    .filter(|p| !drift.iter().any(|d| d.path() == p.as_str()))
                {
                    let _ = writeln!(console.stdout, "up to date: {path}");
                }
            }
            let summary = if compiled.has_errors() || rendered.is_none() {
                error_summary(&compiled.diagnostics)
            } else {
                check_summary(&compiled.diagnostics, &drift)
            };
            console.summary(&summary);
        }
        Format::Json => {
            let _ = console
                .stdout
                .write_all(report::json(&compiled.files, &compiled.diagnostics, &drift).as_bytes());
        }
        Format::Github => {
            let _ = console.stdout.write_all(
                report::github(&compiled.files, &compiled.diagnostics, &drift).as_bytes(),
            );
        }
    }
    if rendered.is_none() {
        return Outcome::Error;
    }
    let outcome = Outcome::from_severities(&compiled.diagnostics, !drift.is_empty());
    leave_to_exit(compiled);
    outcome
}

/// Leave the compiled catalog for the process's exit to take back, all at once: check and
/// generate are a run's last work, and freeing a large catalog one allocation at a time took a
/// tenth of check's time at 10,000 secrets.
fn leave_to_exit(compiled: Compiled) {
    std::mem::forget(compiled);
}

/// `--env NAME` must name a declared environment.
pub(super) fn known_environment(
    catalog: &crate::model::Catalog,
    env: &str,
) -> Result<(), Diagnostic> {
    if catalog.environments.contains_key(env) {
        return Ok(());
    }
    let all: Vec<&str> = catalog.environments.keys().map(String::as_str).collect();
    let hint = match crate::suggest::closest(env, all.iter().copied()) {
        Some(best) => format!("; did you mean `{best}`?"),
        None if all.is_empty() => "; the catalog declares none".into(),
        None => format!("; declared environments: {}", all.join(", ")),
    };
    Err(Diagnostic::usage(format!(
        "--env: unknown environment `{env}`{hint}"
    )))
}

/// Which paths belong to `env`: the shared outputs, and everything below its own folder (where
/// its orphans are too).
fn environment_files<'a>(
    catalog: &'a crate::model::Catalog,
    files: &BTreeSet<String>,
    env: &'a str,
) -> Result<impl Fn(&str) -> bool + 'a, Diagnostic> {
    known_environment(catalog, env)?;
    let folder = format!("{}/", catalog.outputs.place("", Some(env)));
    let outputs = &catalog.outputs;
    let shared: std::collections::BTreeSet<String> = outputs
        .outputs(catalog.bundles.values())
        .into_iter()
        .map(|(_, _, relative)| outputs.place(&relative, None))
        .filter(|path| files.contains(path))
        .collect();
    Ok(move |path: &str| path.starts_with(&folder) || shared.contains(path))
}

pub(super) fn import(
    catalog_dir: &Path,
    inputs: &[std::path::PathBuf],
    console: &mut Console,
) -> Outcome {
    let files = crate::source::Files::default();
    let manifests = match crate::verify::read_inputs(inputs) {
        Ok(manifests) => manifests,
        Err(problems) => return refuse(console, &files, &problems),
    };
    let plan = crate::import::import(&manifests, catalog_dir);
    print_each(console, &files, &plan.diagnostics);
    if plan
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error)
    {
        console.summary(&format!(
            "{}; nothing was written",
            error_summary(&plan.diagnostics)
        ));
        return Outcome::Error;
    }
    for (relative, text) in &plan.files {
        let path = catalog_dir.join(relative);
        let written = std::fs::create_dir_all(catalog_dir)
            .and_then(|()| emit::write_atomic(&path, text.as_bytes()));
        if let Err(error) = written {
            let shown = crate::source::display_path(&path);
            print_error(console, &files, &Diagnostic::io(&shown, "write", &error));
            return Outcome::Error;
        }
        let _ = writeln!(
            console.stdout,
            "wrote     {}",
            crate::source::display_path(&path)
        );
    }
    let findings = count(&plan.diagnostics, Severity::Finding);
    let tail = match findings {
        0 => String::new(),
        n => format!("; {n} field(s) could not be imported (see above)"),
    };
    console.summary(&format!(
        "secretcat: {} catalog file(s) written{tail}; review them, then run `secretcat generate`",
        plan.files.len()
    ));
    Outcome::from_severities(&plan.diagnostics, false)
}

pub(super) fn verify(
    catalog_dir: &Path,
    root: &Path,
    inputs: &[std::path::PathBuf],
    env: Option<&str>,
    value_paths: &[String],
    format: Format,
    console: &mut Console,
) -> Outcome {
    let Some((mut compiled, catalog)) = compiled_catalog(catalog_dir, root, console) else {
        return Outcome::Error;
    };
    if let Some(env) = env
        && let Err(error) = known_environment(&catalog, env)
    {
        print_error(console, &compiled.files, &error);
        return Outcome::Error;
    }
    // The catalog's own findings belong to `check`; verify reports the manifests'.
    compiled.diagnostics.clear();
    match crate::verify::read_inputs(inputs) {
        Ok(manifests) => {
            let options = crate::verify::Options {
                value_paths: if value_paths.is_empty() {
                    crate::verify::DEFAULT_VALUE_PATHS
                        .iter()
                        .map(|p| p.to_string())
                        .collect()
                } else {
                    value_paths.to_vec()
                },
                env: env.map(str::to_string),
            };
            compiled.diagnostics = crate::verify::verify(&catalog, &manifests, &options);
        }
        Err(problems) => compiled.diagnostics = problems,
    }
    match format {
        Format::Text => {
            print_diagnostics(&compiled, console);
            let failed = compiled
                .diagnostics
                .iter()
                .any(|d| d.severity == Severity::Error);
            let summary = if failed {
                error_summary(&compiled.diagnostics)
            } else {
                match count(&compiled.diagnostics, Severity::Finding) {
                    0 => "secretcat: every Secret reference is in the catalog".to_string(),
                    n => format!("secretcat: {n} finding(s)"),
                }
            };
            console.summary(&summary);
        }
        Format::Json => {
            let _ = console
                .stdout
                .write_all(report::json(&compiled.files, &compiled.diagnostics, &[]).as_bytes());
        }
        Format::Github => {
            let _ = console
                .stdout
                .write_all(report::github(&compiled.files, &compiled.diagnostics, &[]).as_bytes());
        }
    }
    Outcome::from_severities(&compiled.diagnostics, false)
}

pub(super) fn list(
    catalog_dir: &Path,
    root: &Path,
    what: ListKind,
    format: ListFormat,
    env: Option<&str>,
    console: &mut Console,
) -> Outcome {
    let Some((compiled, mut catalog)) = compiled_catalog(catalog_dir, root, console) else {
        return Outcome::Error;
    };
    if let Some(env) = env {
        if let Err(error) = known_environment(&catalog, env) {
            print_error(console, &compiled.files, &error);
            return Outcome::Error;
        }
        catalog = catalog.in_environment(env);
    }
    let _ = console
        .stdout
        .write_all(inventory::list(&catalog, what, format).as_bytes());
    Outcome::Clean
}

pub(super) fn explain(
    catalog_dir: &Path,
    root: &Path,
    name: &str,
    console: &mut Console,
) -> Outcome {
    let Some((compiled, catalog)) = compiled_catalog(catalog_dir, root, console) else {
        return Outcome::Error;
    };
    match inventory::explain(&catalog, &compiled.files, name) {
        Ok(text) => {
            let _ = console.stdout.write_all(text.as_bytes());
            Outcome::Clean
        }
        Err(diagnostic) => {
            print_error(console, &compiled.files, &diagnostic);
            Outcome::Error
        }
    }
}

pub(super) fn graph(
    catalog_dir: &Path,
    root: &Path,
    name: Option<&str>,
    format: crate::graph::GraphFormat,
    console: &mut Console,
) -> Outcome {
    let Some((_, catalog)) = compiled_catalog(catalog_dir, root, console) else {
        return Outcome::Error;
    };
    match crate::graph::render(&catalog, name, format) {
        Some(text) => {
            let _ = console.stdout.write_all(text.as_bytes());
            Outcome::Clean
        }
        None => {
            let diagnostic = inventory::unknown_name(&catalog, name.unwrap_or_default());
            print_error(console, &Default::default(), &diagnostic);
            Outcome::Error
        }
    }
}

pub(super) fn count(diagnostics: &[Diagnostic], severity: Severity) -> usize {
    diagnostics
        .iter()
        .filter(|d| d.severity == severity)
        .count()
}

pub(super) fn error_summary(diagnostics: &[Diagnostic]) -> String {
    let errors = count(diagnostics, Severity::Error).max(1);
    format!("secretcat: {errors} error(s)")
}

fn check_summary(diagnostics: &[Diagnostic], drift: &[Drift]) -> String {
    let findings = count(diagnostics, Severity::Finding);
    let warnings = count(diagnostics, Severity::Warning);
    if drift.is_empty() && findings == 0 {
        return format!("secretcat: outputs are up to date ({warnings} warning(s))");
    }
    let mut parts = Vec::new();
    if !drift.is_empty() {
        parts.push(format!(
            "{} file(s) drifted from the catalog: run `secretcat generate`",
            drift.len()
        ));
    }
    if findings > 0 {
        parts.push(format!("{findings} finding(s)"));
    }
    format!("secretcat: {}", parts.join("; "))
}
