//! The command line: arguments, one function per command, and the single place where a run's
//! result becomes an exit code. Nothing here knows the catalog format; it calls the pipeline.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::diagnostics::{Diagnostic, Severity};
use crate::emit::{self, Drift};
use crate::inventory::{self, ListKind};
use crate::render::{self, Templates};
use crate::report::{self, Format};
use crate::{Compiled, compile};

/// Compile a TOML catalog of Vault keys and Kubernetes secrets into the files a GitOps platform
/// keeps in sync: the Vault key map, ESO ExternalSecret values, the bootstrap fixture map, the
/// integration-test secrets, a JSON Schema and SECRETS.md.
#[derive(Debug, Parser)]
#[command(name = "secretcat", version, max_term_width = 100)]
#[command(
    after_help = "Exit codes: 0 clean, 1 drift or findings, 2 bad input or usage.\n\n\
Examples:\n  secretcat generate                 write every output from ./catalog\n  \
secretcat check                    fail if generated/ drifted or a guardrail broke\n  \
secretcat explain platform-db-url  follow one key to its secrets and consumers"
)]
pub struct Args {
    /// Folder holding secretcat.toml and the fragments [default: ROOT/catalog, or ./catalog]
    #[arg(long, global = true, value_name = "DIR")]
    pub catalog: Option<PathBuf>,
    /// Repository root the outputs are written below [default: the catalog's parent]
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile the catalog and write every output; reports written, unchanged and removed files.
    #[command(
        after_help = "Nothing is written unless the whole catalog validates.\n\nExample:\n  secretcat generate --catalog catalog"
    )]
    Generate,
    /// Compare the outputs on disk with the catalog (changed, missing, orphaned) and report every finding.
    #[command(
        after_help = "Exit 1 on drift or findings, 2 when the catalog does not compile.\n\n\
Examples:\n  secretcat check\n  secretcat check --format github   annotations for GitHub Actions\n  \
secretcat check --format json     versioned report for other tools"
    )]
    Check {
        /// Report format
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Print the catalog's JSON Schema (draft-07).
    #[command(after_help = "Example:\n  secretcat schema > catalog.schema.json")]
    Schema,
    /// List the compiled inventory.
    #[command(
        after_help = "Examples:\n  secretcat list secrets\n  secretcat list keys --format json | jq '.[] | select(.source.kind == \"external\")'"
    )]
    List {
        /// What to list
        #[arg(value_enum)]
        what: ListKind,
        /// Output format
        #[arg(long, value_enum, default_value = "text")]
        format: inventory::ListFormat,
    },
    /// Follow one key or secret end to end: Vault key -> ExternalSecret -> Secret -> consumers.
    #[command(
        after_help = "Examples:\n  secretcat explain platform-db-url\n  secretcat explain platform-db-credentials"
    )]
    Explain {
        /// A key path or a secret name
        name: String,
    },
}

/// The result of a run. Exit-code contract: 0 clean; 1 drift or guardrail findings (the catalog
/// compiled); 2 bad input or usage (nothing was written). Drift and error never mix: an error wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    Drift,
    Error,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Drift => 1,
            Outcome::Error => 2,
        }
    }

    fn from_severities(diagnostics: &[Diagnostic], drifted: bool) -> Outcome {
        if diagnostics.iter().any(|d| d.severity == Severity::Error) {
            Outcome::Error
        } else if drifted || diagnostics.iter().any(|d| d.severity == Severity::Finding) {
            Outcome::Drift
        } else {
            Outcome::Clean
        }
    }
}

/// Run one command. Everything the user sees goes to `stdout` / `stderr`.
pub fn run(args: &Args, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Outcome {
    let (catalog_dir, root) = locations(args);
    match &args.command {
        Command::Schema => {
            let _ = stdout.write_all(render::schema::render().as_bytes());
            Outcome::Clean
        }
        Command::Generate => generate(&catalog_dir, &root, stdout, stderr),
        Command::Check { format } => check(&catalog_dir, &root, *format, stdout, stderr),
        Command::List { what, format } => {
            let Some((_, catalog)) = compiled_catalog(&catalog_dir, &root, stderr) else {
                return Outcome::Error;
            };
            let _ = stdout.write_all(inventory::list(&catalog, *what, *format).as_bytes());
            Outcome::Clean
        }
        Command::Explain { name } => {
            let Some((compiled, catalog)) = compiled_catalog(&catalog_dir, &root, stderr) else {
                return Outcome::Error;
            };
            match inventory::explain(&catalog, &compiled.files, name) {
                Ok(text) => {
                    let _ = stdout.write_all(text.as_bytes());
                    Outcome::Clean
                }
                Err(diagnostic) => {
                    let _ = stderr.write_all(report::text(&compiled.files, &diagnostic).as_bytes());
                    Outcome::Error
                }
            }
        }
    }
}

/// The catalog folder and the root, from the flags: each defaults from the other.
fn locations(args: &Args) -> (PathBuf, PathBuf) {
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
fn compiled_catalog(
    catalog_dir: &Path,
    root: &Path,
    stderr: &mut dyn Write,
) -> Option<(Compiled, crate::model::Catalog)> {
    let mut compiled = compile(catalog_dir, root);
    if compiled.has_errors() {
        print_diagnostics(&compiled, stderr);
        let _ = writeln!(stderr, "{}", error_summary(&compiled.diagnostics));
        return None;
    }
    let catalog = compiled.catalog.take()?;
    Some((compiled, catalog))
}

fn print_diagnostics(compiled: &Compiled, stderr: &mut dyn Write) {
    for diagnostic in &compiled.diagnostics {
        let _ = writeln!(stderr, "{}", report::text(&compiled.files, diagnostic));
    }
}

/// Compile and render in memory; `Err` carries everything that went wrong, nothing written.
fn compile_and_render(
    catalog_dir: &Path,
    root: &Path,
) -> (Compiled, Option<std::collections::BTreeMap<String, String>>) {
    let mut compiled = compile(catalog_dir, root);
    if compiled.has_errors() {
        return (compiled, None);
    }
    let rendered = Templates::load(root, &mut compiled.files).and_then(|templates| {
        let catalog = compiled.catalog.as_ref().expect("compiled without errors");
        render::render(catalog, &templates, &compiled.files)
    });
    match rendered {
        Ok(files) => (compiled, Some(files)),
        Err(problems) => {
            compiled.diagnostics.extend(problems);
            (compiled, None)
        }
    }
}

fn generate(
    catalog_dir: &Path,
    root: &Path,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Outcome {
    let (mut compiled, rendered) = compile_and_render(catalog_dir, root);
    let Some(files) = rendered else {
        print_diagnostics(&compiled, stderr);
        let _ = writeln!(
            stderr,
            "{}; nothing was written",
            error_summary(&compiled.diagnostics)
        );
        return Outcome::Error;
    };
    let outputs = &compiled.catalog.as_ref().expect("compiled").outputs;
    let result = emit::write(root, &files, outputs);
    let (written, failure) = match result {
        Ok(report) => (report, None),
        Err((report, error)) => (report, Some(error)),
    };
    for path in &written.written {
        let _ = writeln!(stdout, "wrote     {path}");
    }
    for path in &written.removed {
        let _ = writeln!(stdout, "removed   {path}");
    }
    let _ = writeln!(
        stdout,
        "{} written, {} unchanged, {} removed",
        written.written.len(),
        written.unchanged.len(),
        written.removed.len()
    );
    for path in &written.untouched {
        let _ = writeln!(stdout, "untouched {path} (left as it was)");
    }
    if let Some(error) = failure {
        compiled.diagnostics.push(error);
    }
    print_diagnostics(&compiled, stderr);
    let outcome = Outcome::from_severities(&compiled.diagnostics, false);
    match outcome {
        Outcome::Error => {
            let _ = writeln!(stderr, "{}", error_summary(&compiled.diagnostics));
        }
        Outcome::Drift => {
            let findings = count(&compiled.diagnostics, Severity::Finding);
            let _ = writeln!(
                stderr,
                "secretcat: outputs written, with {findings} finding(s) to fix"
            );
        }
        Outcome::Clean => {}
    }
    outcome
}

fn check(
    catalog_dir: &Path,
    root: &Path,
    format: Format,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Outcome {
    let (mut compiled, rendered) = compile_and_render(catalog_dir, root);
    let mut drift: Vec<Drift> = Vec::new();
    if let (Some(files), Some(catalog)) = (&rendered, &compiled.catalog) {
        match emit::compare(root, files, &catalog.outputs) {
            Ok(found) => drift = found,
            Err(error) => compiled.diagnostics.push(error),
        }
    }
    match format {
        Format::Text => {
            print_diagnostics(&compiled, stderr);
            for entry in &drift {
                let _ = write!(stdout, "{}", report::drift_text(entry));
            }
            let summary = if compiled.has_errors() || rendered.is_none() {
                error_summary(&compiled.diagnostics)
            } else {
                check_summary(&compiled.diagnostics, &drift)
            };
            let _ = writeln!(stderr, "{summary}");
        }
        Format::Json => {
            let _ = stdout
                .write_all(report::json(&compiled.files, &compiled.diagnostics, &drift).as_bytes());
        }
        Format::Github => {
            let _ = stdout.write_all(
                report::github(&compiled.files, &compiled.diagnostics, &drift).as_bytes(),
            );
        }
    }
    if rendered.is_none() {
        return Outcome::Error;
    }
    Outcome::from_severities(&compiled.diagnostics, !drift.is_empty())
}

fn count(diagnostics: &[Diagnostic], severity: Severity) -> usize {
    diagnostics
        .iter()
        .filter(|d| d.severity == severity)
        .count()
}

fn error_summary(diagnostics: &[Diagnostic]) -> String {
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
