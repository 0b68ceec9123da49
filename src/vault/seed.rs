//! `seed`: write an environment's fixtures and generated values into Vault, write-once. The plan
//! is the fixture map's (`Catalog::seeded_keys`); each key is written with `cas=0`, so a key that
//! exists is left exactly as it is, and only `--force KEY` overwrites one.

use std::path::Path;

use serde_json::{Map, Value};

use super::client::{Created, Deleted, Kv, Stored};
use super::generate::random_value;
use crate::diagnostics::Diagnostic;
use crate::model::{Catalog, Env, Key, Seed};
use crate::source::Files;

/// The longest value `seed` generates: far above any credential, far below Vault's request
/// size limit (32 MiB), and small enough that a typo like `length = 1000000000` fails here
/// instead of exhausting memory.
const MAX_GENERATED_LENGTH: u64 = 1 << 20;

/// What happened to one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// It did not exist; it was written.
    Created,
    /// It existed; nothing was written.
    Kept,
    /// `--force`: written over the current version.
    Overwritten,
}

/// One key of the plan, and what was (or, in a dry run, would be) done to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub path: String,
    pub action: Action,
    /// `fixture` or `generated, 32 alphanumeric`; never the value.
    pub source: String,
    /// A kept key whose latest version is deleted or destroyed: nothing reads it until someone
    /// brings it back or `--force` writes a new one.
    pub deleted: Option<Deleted>,
}

/// The outcome of a seed: every key handled, in path order, and the error that stopped it.
#[derive(Debug, Default)]
pub struct SeedReport {
    pub lines: Vec<Line>,
    pub error: Option<Diagnostic>,
}

/// One key to write.
#[derive(Debug)]
pub struct Planned<'a> {
    pub key: &'a Key,
    pub seed: Seed<'a>,
    pub force: bool,
}

/// The keys `seed` writes in `env`, checked before Vault is contacted: the environment must
/// seed fixtures, every `--force` key must be one of them, and generated lengths sane.
pub fn plan<'a>(
    catalog: &'a Catalog,
    env: Env,
    force: &[String],
) -> Result<Vec<Planned<'a>>, Vec<Diagnostic>> {
    let env_name = env.unwrap_or("(default)");
    if !catalog.seeds(env) {
        let seeding = catalog.seeding_environments();
        let help = match seeding.as_slice() {
            [] => "no environment of the catalog seeds fixtures".to_string(),
            some => format!("environments that seed fixtures: {}", some.join(", ")),
        };
        return Err(vec![
            Diagnostic::usage(format!(
                "environment `{env_name}` does not seed fixtures (`fixtures = false`): seed writes dev values only where the catalog allows them"
            ))
            .help(help),
        ]);
    }
    let seeded = catalog.seeded_keys(env);
    let mut problems = Vec::new();
    let suggestions = crate::suggest::Index::new(seeded.iter().map(|(k, _)| k.path.as_str()));
    for name in force {
        if seeded.iter().any(|(k, _)| &k.path == name) {
            continue;
        }
        let message = match catalog.keys.get(name) {
            Some(_) => format!(
                "--force: key `{name}` is not seeded in environment `{env_name}`: its value there is external"
            ),
            None => format!("--force: the catalog has no key `{name}`"),
        };
        let problem = match suggestions.closest(name) {
            Some(best) => Diagnostic::usage(message).help(format!("did you mean `{best}`?")),
            None => Diagnostic::usage(message),
        };
        problems.push(problem);
    }
    for (key, seed) in &seeded {
        if let Seed::Generate { length, .. } = seed
            && *length > MAX_GENERATED_LENGTH
        {
            problems.push(Diagnostic::usage(format!(
                "key `{}` asks for a generated value of {length} characters; seed generates at most {MAX_GENERATED_LENGTH}",
                key.path
            )));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(seeded
        .into_iter()
        .map(|(key, seed)| Planned {
            key,
            seed,
            force: force.contains(&key.path),
        })
        .collect())
}

/// How a run writes.
pub struct Options<'a> {
    /// The property values are written under: the store's `property` in this environment.
    pub property: &'a str,
    /// List what would be done (reading only key metadata), write nothing.
    pub dry_run: bool,
    /// The `generated-by` custom metadata: the command that wrote the key.
    pub generated_by: &'a str,
}

/// Carry out the plan against one Vault. The first Vault error ends the run (every later key
/// would meet it too); what was written before it stays, and running again is safe, since
/// every key that now exists is kept.
pub fn run(plan: &[Planned], kv: &Kv, options: &Options, files: &Files, root: &Path) -> SeedReport {
    let mut report = SeedReport::default();
    if let Err(error) = kv.check_mount() {
        report.error = Some(error);
        return report;
    }
    for planned in plan {
        if let Err(error) = seed_one(planned, kv, options, files, root, &mut report.lines) {
            report.error = Some(error);
            break;
        }
    }
    report
}

fn seed_one(
    planned: &Planned,
    kv: &Kv,
    options: &Options,
    files: &Files,
    root: &Path,
    lines: &mut Vec<Line>,
) -> Result<(), Diagnostic> {
    let path = planned.key.path.as_str();
    let mut line = Line {
        path: path.to_string(),
        action: Action::Created,
        source: describe(planned.seed),
        deleted: None,
    };
    // A forced key that does not exist yet is simply created.
    let version = match planned.force || options.dry_run {
        true => kv.current_version(path)?,
        false => 0,
    };
    if options.dry_run {
        line.action = match (planned.force, version) {
            (_, 0) => Action::Created,
            (true, _) => Action::Overwritten,
            (false, _) => Action::Kept,
        };
        lines.push(line);
        return Ok(());
    }
    let mut properties = Map::new();
    properties.insert(
        options.property.to_string(),
        Value::String(value(planned.seed)?),
    );
    if planned.force {
        kv.overwrite(path, &properties, version)?;
        if version > 0 {
            line.action = Action::Overwritten;
        }
    } else if kv.create(path, &properties)? == Created::Exists {
        line.action = Action::Kept;
        // Write-once keeps a deleted key deleted; say so, since ESO then reads nothing.
        if let Stored::Deleted(deleted) = kv.read(path)? {
            line.deleted = Some(deleted);
        }
    }
    let written = line.action != Action::Kept;
    lines.push(line);
    if written {
        kv.set_metadata(path, &metadata(planned, options, files, root))?;
    }
    Ok(())
}

/// The value to write: the fixture, or a fresh random value. A generated value is drawn only
/// when a write is attempted; a key that exists keeps its own.
fn value(seed: Seed) -> Result<String, Diagnostic> {
    match seed {
        Seed::Fixture(value) => Ok(value.to_string()),
        Seed::Generate { length, charset } => {
            // `plan` caps the length far below usize::MAX.
            let length = usize::try_from(length).unwrap_or(usize::MAX);
            random_value(length, charset).map_err(|error| {
                Diagnostic::usage(format!(
                    "the operating system's random number generator failed: {error}"
                ))
            })
        }
    }
}

fn describe(seed: Seed) -> String {
    match seed {
        Seed::Fixture(_) => "fixture".to_string(),
        Seed::Generate { length, charset } => {
            let charset = serde_json::to_value(charset).ok();
            let charset = charset.as_ref().and_then(Value::as_str).unwrap_or("");
            format!("generated, {length} {charset}")
        }
    }
}

/// `custom_metadata` of a written key: who owns it, where the catalog defines it, what wrote
/// it. ESO can read it back (`metadataPolicy: Fetch`) and select on it (`find.tags`).
fn metadata(
    planned: &Planned,
    options: &Options,
    files: &Files,
    root: &Path,
) -> Map<String, Value> {
    let mut metadata = Map::new();
    if let Some(owner) = &planned.key.owner {
        metadata.insert("owner".into(), owner.clone().into());
    }
    let file = files.get(planned.key.origin.file);
    metadata.insert("catalog-file".into(), relative_to(&file.path, root).into());
    metadata.insert("generated-by".into(), options.generated_by.into());
    let source = match planned.seed {
        Seed::Fixture(_) => "fixture",
        Seed::Generate { .. } => "generate",
    };
    metadata.insert("value-source".into(), source.into());
    metadata
}

/// `path` relative to `root` with `/` separators, or as given when it lies elsewhere.
fn relative_to(path: &Path, root: &Path) -> String {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let path = absolute(path);
    let relative = path.strip_prefix(absolute(root)).unwrap_or(&path);
    relative.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Code;
    use crate::vault::client::tests::{KV2, Scripted};
    use crate::vault::http::Method;

    const CATALOG: &str = r#"
[store]
name = "vault"
mount = "secret"
[environments.dev]
fixtures = true
[environments.production]
fixtures = false
[bundles.b]
kind = "chart"
namespace = "ns"
[keys.db-url]
owner = "platform"
fixture = "postgres://dev"
overrides.production = { external = "AKV" }
[keys.db-password]
generate = { length = 24, charset = "hex" }
overrides.production = { external = "AKV" }
[keys.api-token]
external = "a person"
overrides.dev = { external = "a person" }
[secrets.s]
bundle = "b"
data.URL = "db-url"
data.PASSWORD = "db-password"
data.TOKEN = "api-token"
"#;

    fn compiled() -> crate::Compiled {
        let compiled = crate::compile_sources(vec![(
            std::path::PathBuf::from("secretcat.toml"),
            CATALOG.to_string(),
        )]);
        assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
        compiled
    }

    #[test]
    fn the_plan_is_the_fixture_map_and_refuses_what_it_cannot_seed() {
        let compiled = compiled();
        let catalog = compiled.catalog.as_ref().unwrap();
        let planned = plan(catalog, Some("dev"), &["db-url".into()]).unwrap();
        let summary: Vec<(&str, bool)> = planned
            .iter()
            .map(|p| (p.key.path.as_str(), p.force))
            .collect();
        assert_eq!(
            summary,
            [("db-password", false), ("db-url", true)],
            "external keys are never written"
        );

        let refused = plan(catalog, Some("production"), &[]).unwrap_err();
        assert!(
            refused[0].message.contains("does not seed fixtures"),
            "{}",
            refused[0].message
        );
        assert_eq!(
            refused[0].help.as_deref(),
            Some("environments that seed fixtures: dev")
        );

        let bad_force =
            plan(catalog, Some("dev"), &["db-ulr".into(), "api-token".into()]).unwrap_err();
        assert_eq!(bad_force[0].help.as_deref(), Some("did you mean `db-url`?"));
        assert!(
            bad_force[1].message.contains("its value there is external"),
            "{}",
            bad_force[1].message
        );
    }

    #[test]
    fn existing_keys_are_kept_new_ones_written_with_metadata() {
        let compiled = compiled();
        let catalog = compiled.catalog.as_ref().unwrap();
        let cas_mismatch =
            r#"{"errors":["check-and-set parameter did not match the current version"]}"#;
        let vault = Scripted::default()
            .answer("GET sys/internal/ui/mounts/secret", 200, KV2)
            .answer("POST secret/data/db-password", 400, cas_mismatch)
            .answer("POST secret/data/db-url", 200, "{}")
            .answer("POST secret/metadata/db-url", 204, "");
        let kv = Kv::new(&vault, "secret");
        let options = Options {
            property: "value",
            dry_run: false,
            generated_by: "secretcat seed --env dev",
        };
        let planned = plan(catalog, Some("dev"), &[]).unwrap();
        let report = run(&planned, &kv, &options, &compiled.files, Path::new("."));
        assert!(report.error.is_none(), "{:?}", report.error);
        let actions: Vec<(&str, Action, &str)> = report
            .lines
            .iter()
            .map(|l| (l.path.as_str(), l.action, l.source.as_str()))
            .collect();
        assert_eq!(
            actions,
            [
                ("db-password", Action::Kept, "generated, 24 hex"),
                ("db-url", Action::Created, "fixture")
            ]
        );
        let requests = vault.requests.borrow();
        let posts: Vec<&crate::vault::http::Request> = requests
            .iter()
            .filter(|r| r.method == Method::Post)
            .collect();
        assert_eq!(
            posts.len(),
            3,
            "two writes, metadata only for the written key: {posts:?}"
        );
        let password = posts[0].body.as_ref().unwrap();
        let generated = password["data"]["value"].as_str().unwrap();
        assert_eq!(generated.len(), 24);
        assert!(
            generated.chars().all(|c| c.is_ascii_hexdigit()),
            "{generated}"
        );
        assert_eq!(
            posts[1].body,
            Some(serde_json::json!({"options": {"cas": 0}, "data": {"value": "postgres://dev"}}))
        );
        assert_eq!(
            posts[2].body,
            Some(serde_json::json!({"custom_metadata": {
                "owner": "platform",
                "catalog-file": "secretcat.toml",
                "generated-by": "secretcat seed --env dev",
                "value-source": "fixture",
            }}))
        );
    }

    #[test]
    fn force_overwrites_the_current_version_and_a_dry_run_writes_nothing() {
        let compiled = compiled();
        let catalog = compiled.catalog.as_ref().unwrap();
        let vault = Scripted::default()
            .answer("GET sys/internal/ui/mounts/secret", 200, KV2)
            .answer(
                "GET secret/metadata/db-url",
                200,
                r#"{"data":{"current_version":4}}"#,
            )
            .answer("POST secret/data/db-url", 200, "{}")
            .answer("POST secret/metadata/db-url", 204, "");
        let kv = Kv::new(&vault, "secret");
        let planned = plan(catalog, Some("dev"), &["db-url".into()]).unwrap();
        let dry = Options {
            property: "value",
            dry_run: true,
            generated_by: "x",
        };
        let report = run(&planned, &kv, &dry, &compiled.files, Path::new("."));
        let actions: Vec<Action> = report.lines.iter().map(|l| l.action).collect();
        assert_eq!(actions, [Action::Created, Action::Overwritten]);
        assert!(
            vault
                .requests
                .borrow()
                .iter()
                .all(|r| r.method == Method::Get),
            "a dry run only reads"
        );

        vault.requests.borrow_mut().clear();
        let real = Options {
            dry_run: false,
            ..dry
        };
        let forced = plan(catalog, Some("dev"), &["db-url".into()]).unwrap();
        let only_url: Vec<Planned> = forced.into_iter().filter(|p| p.force).collect();
        let report = run(&only_url, &kv, &real, &compiled.files, Path::new("."));
        assert_eq!(report.lines[0].action, Action::Overwritten);
        let write = vault
            .requests
            .borrow()
            .iter()
            .find(|r| r.path == "secret/data/db-url")
            .cloned()
            .unwrap();
        assert_eq!(
            write.body.unwrap()["options"]["cas"],
            4,
            "check-and-set against the version read"
        );
    }

    #[test]
    fn forcing_a_key_that_does_not_exist_creates_it() {
        let compiled = compiled();
        let catalog = compiled.catalog.as_ref().unwrap();
        let vault = Scripted::default()
            .answer("GET sys/internal/ui/mounts/secret", 200, KV2)
            .answer("POST secret/data/db-url", 200, "{}")
            .answer("POST secret/metadata/db-url", 204, "");
        let kv = Kv::new(&vault, "secret");
        let forced: Vec<Planned> = plan(catalog, Some("dev"), &["db-url".into()])
            .unwrap()
            .into_iter()
            .filter(|p| p.force)
            .collect();
        for dry_run in [true, false] {
            let options = Options {
                property: "value",
                dry_run,
                generated_by: "x",
            };
            let report = run(&forced, &kv, &options, &compiled.files, Path::new("."));
            assert_eq!(
                report.lines[0].action,
                Action::Created,
                "dry run: {dry_run}"
            );
        }
        let write = vault
            .requests
            .borrow()
            .iter()
            .find(|r| r.path == "secret/data/db-url")
            .cloned();
        assert_eq!(write.unwrap().body.unwrap()["options"]["cas"], 0);
    }

    #[test]
    fn the_first_vault_error_stops_the_run_and_keeps_what_was_done() {
        let compiled = compiled();
        let catalog = compiled.catalog.as_ref().unwrap();
        let vault = Scripted::default()
            .answer("GET sys/internal/ui/mounts/secret", 200, KV2)
            .answer("POST secret/data/db-password", 200, "{}")
            .answer("POST secret/metadata/db-password", 204, "")
            .answer(
                "POST secret/data/db-url",
                503,
                r#"{"errors":["Vault is sealed"]}"#,
            );
        let kv = Kv::new(&vault, "secret");
        let options = Options {
            property: "value",
            dry_run: false,
            generated_by: "x",
        };
        let planned = plan(catalog, Some("dev"), &[]).unwrap();
        let report = run(&planned, &kv, &options, &compiled.files, Path::new("."));
        assert_eq!(report.lines.len(), 1);
        assert_eq!(report.error.map(|e| e.code), Some(Code::VaultSealed));
    }
}
