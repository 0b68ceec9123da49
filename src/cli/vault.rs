//! The commands that talk to a live Vault: `seed` and `preflight` (feature `vault`). Each
//! compiles the catalog, settles the environment and the connection before the first request,
//! and leaves the Vault work to `crate::vault`.

use std::io::Write as _;
use std::path::Path;

use super::commands::{
    compiled_catalog, count, error_summary, known_environment, print_each, print_error, refuse,
};
use super::{Console, Outcome, VaultArgs};
use crate::diagnostics::{Diagnostic, Severity};
use crate::model::{Catalog, Env};
use crate::report::{self, Format};
use crate::vault::seed::{self, Action};
use crate::vault::{self as live, ConnectionArgs, HttpTransport, Kv, Transport, preflight};

/// The environment `--env` names: required when the catalog declares environments (each has
/// its own Vault), and then one of them.
fn environment<'a>(catalog: &Catalog, env: Option<&'a str>) -> Result<Env<'a>, Diagnostic> {
    match env {
        Some(env) => known_environment(catalog, env).map(|()| Some(env)),
        None if catalog.environments.is_empty() => Ok(None),
        None => {
            let all: Vec<&str> = catalog.environments.keys().map(String::as_str).collect();
            Err(Diagnostic::usage(format!(
                "--env NAME is required: each environment has its own Vault; the catalog declares {}",
                all.join(", ")
            )))
        }
    }
}

fn connect(catalog: &Catalog, env: Env, args: &VaultArgs) -> Result<HttpTransport, Diagnostic> {
    let connection = ConnectionArgs {
        address: args.addr.as_deref(),
        token_file: args.token_file.as_deref(),
        namespace: args.namespace.as_deref(),
        timeout_seconds: args.timeout,
    };
    let server = catalog.store_in(env).server.as_deref();
    live::connect(&connection, |name| std::env::var(name).ok(), server)
}

/// The environment as summaries name it.
fn env_label(env: Env) -> String {
    env.map_or_else(
        || "the catalog".to_string(),
        |e| format!("environment `{e}`"),
    )
}

pub(super) fn seed(
    catalog_dir: &Path,
    root: &Path,
    env: Option<&str>,
    force: &[String],
    dry_run: bool,
    args: &VaultArgs,
    console: &mut Console,
) -> Outcome {
    let Some((compiled, catalog)) = compiled_catalog(catalog_dir, root, console) else {
        return Outcome::Error;
    };
    let prepared = environment(&catalog, env)
        .map_err(|e| vec![e])
        .and_then(|env| {
            let plan = seed::plan(&catalog, env, force)?;
            let transport = connect(&catalog, env, args).map_err(|e| vec![e])?;
            Ok((env, plan, transport))
        });
    let (env, plan, transport) = match prepared {
        Ok(prepared) => prepared,
        Err(problems) => return refuse(console, &compiled.files, &problems),
    };
    let generated_by = match env {
        Some(env) => format!("secretcat {} seed --env {env}", env!("CARGO_PKG_VERSION")),
        None => format!("secretcat {} seed", env!("CARGO_PKG_VERSION")),
    };
    let store = catalog.store_in(env);
    let options = seed::Options {
        property: &store.property,
        dry_run,
        generated_by: &generated_by,
    };
    let kv = Kv::new(&transport, &store.mount);
    let report = seed::run(&plan, &kv, &options, &compiled.files, root);
    for line in &report.lines {
        let word = match (dry_run, line.action) {
            (false, Action::Created) => "created  ",
            (false, Action::Kept) => "kept     ",
            (false, Action::Overwritten) => "overwrote",
            (true, Action::Created) => "would create   ",
            (true, Action::Kept) => "would keep     ",
            (true, Action::Overwritten) => "would overwrite",
        };
        let note = match (line.action, line.deleted) {
            (Action::Kept, Some(deleted)) => {
                let state = match deleted.destroyed {
                    true => "destroyed",
                    false => "deleted",
                };
                format!(
                    "; exists in Vault with its latest version ({}) {state}, left as it is: nothing reads it until it is brought back (`vault kv undelete`) or `--force {}` writes a new one",
                    deleted.version, line.path
                )
            }
            (Action::Kept, None) => "; exists in Vault, left as it is".to_string(),
            (Action::Overwritten, _) => "; --force".to_string(),
            (Action::Created, _) => String::new(),
        };
        let _ = writeln!(
            console.stdout,
            "{word} {} ({}{note})",
            line.path, line.source
        );
    }
    let tally = |action| report.lines.iter().filter(|l| l.action == action).count();
    let (created, kept, overwritten) = (
        tally(Action::Created),
        tally(Action::Kept),
        tally(Action::Overwritten),
    );
    let place = format!(
        "{} at {} (mount `{}`)",
        env_label(env),
        transport.address(),
        kv.mount()
    );
    if let Some(error) = &report.error {
        print_error(console, &compiled.files, error);
        if !dry_run && created + overwritten > 0 {
            console.summary(&format!(
                "secretcat: {created} key(s) created and {overwritten} overwritten before the error; running again keeps them"
            ));
        }
        return Outcome::Error;
    }
    let summary = match dry_run {
        true => format!(
            "secretcat: dry run for {place}: {created} to create, {kept} to keep, {overwritten} to overwrite; nothing was written"
        ),
        false => format!(
            "secretcat: seeded {place}: {created} created, {kept} kept, {overwritten} overwritten"
        ),
    };
    console.summary(&summary);
    Outcome::Clean
}

pub(super) fn preflight(
    catalog_dir: &Path,
    root: &Path,
    env: Option<&str>,
    format: Format,
    args: &VaultArgs,
    console: &mut Console,
) -> Outcome {
    let Some((compiled, catalog)) = compiled_catalog(catalog_dir, root, console) else {
        return Outcome::Error;
    };
    let prepared = environment(&catalog, env)
        .and_then(|env| connect(&catalog, env, args).map(|transport| (env, transport)));
    let (env, transport) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => {
            print_error(console, &compiled.files, &error);
            return Outcome::Error;
        }
    };
    let kv = Kv::new(&transport, &catalog.store_in(env).mount);
    let report = preflight::run(&catalog, env, &kv);
    let diagnostics = &report.diagnostics;
    match format {
        Format::Text => {
            print_each(console, &compiled.files, diagnostics);
            let (secrets, keys) = (report.secrets, report.keys);
            let summary = if diagnostics.iter().any(|d| d.severity == Severity::Error) {
                error_summary(diagnostics)
            } else {
                match count(diagnostics, Severity::Finding) {
                    0 => format!(
                        "secretcat: every Vault value the {secrets} secret(s) of {} read is in place ({keys} key(s) read)",
                        env_label(env)
                    ),
                    n => format!(
                        "secretcat: {n} finding(s) in {} ({secrets} secret(s), {keys} key(s) read)",
                        env_label(env)
                    ),
                }
            };
            console.summary(&summary);
        }
        Format::Json => {
            let _ = console
                .stdout
                .write_all(report::json(&compiled.files, diagnostics, &[]).as_bytes());
        }
        Format::Github => {
            let _ = console
                .stdout
                .write_all(report::github(&compiled.files, diagnostics, &[]).as_bytes());
        }
    }
    Outcome::from_severities(diagnostics, false)
}
