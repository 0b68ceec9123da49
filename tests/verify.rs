//! `secretcat verify` through the real binary: rendered manifests of the Ameide platform
//! (`tests/verify/`) against the bundled catalog, and small catalogs written here for unmanaged
//! secrets, same-named Secrets in two namespaces and value paths. Exit codes: 0 clean, 1
//! findings, 2 an unreadable or invalid manifest or an unknown `--env`.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{copy_dir, repo_root, secretcat, text};

/// A scratch folder holding a copy of `tests/verify/`, so manifest names in findings are short
/// relative paths (`findings.yaml`, `clean/platform.yaml`).
fn fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("tests/verify"), dir.path());
    dir
}

fn bundled_catalog() -> String {
    repo_root().join("catalog").to_string_lossy().into_owned()
}

/// `secretcat verify ARGS --catalog <the bundled catalog>` in `dir`.
fn verify(dir: &Path, args: &[&str]) -> Output {
    let catalog = bundled_catalog();
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    all.extend(["--catalog", catalog.as_str()]);
    secretcat(dir, &all)
}

fn verify_stdin(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    let catalog = bundled_catalog();
    let mut child = Command::new(env!("CARGO_BIN_EXE_secretcat"))
        .arg("verify")
        .args(args)
        .args(["--catalog", catalog.as_str()])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// The diagnostics of a `--format json` run: (code, message, path).
fn json_diagnostics(output: &Output) -> Vec<(String, String, String)> {
    let document: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(&output.stdout)));
    assert_eq!(document["version"], 1);
    document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let field = |name: &str| d[name].as_str().unwrap_or_default().to_string();
            (field("code"), field("message"), field("path"))
        })
        .collect()
}

fn codes(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter_map(|l| {
            l.split_once('[')
                .filter(|(s, _)| matches!(*s, "finding" | "error"))
        })
        .map(|(_, rest)| rest.split(']').next().unwrap_or_default())
        .collect()
}

#[test]
fn the_clean_platform_render_exits_0() {
    let dir = fixtures();
    let output = verify(dir.path(), &["clean"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(codes(&stderr), Vec::<&str>::new(), "{stderr}");
    assert_eq!(text(&output.stdout), "");
}

/// Every finding of `findings.yaml`, in order: code and the place it names (document, resource
/// and path), each in `findings.yaml`.
const FINDINGS: &[(&str, &str)] = &[
    (
        "unknown-secret",
        "document 1 (Deployment ameide/platform), spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef reads Secret `platform-db-credential` in namespace `ameide`",
    ),
    (
        "unknown-secret-key",
        "document 1 (Deployment ameide/platform), spec.template.spec.containers[0].env[1].valueFrom.secretKeyRef reads key `PLATFORM_DATABASE_PASSWD` of Secret `platform-db-credentials`",
    ),
    (
        "inline-credential",
        "document 1 (Deployment ameide/platform), spec.template.spec.containers[0].env[3] sets `REDIS_PASSWORD` to a literal value",
    ),
    (
        "unknown-secret",
        "document 1 (Deployment ameide/platform), spec.template.spec.imagePullSecrets[0] reads Secret `ghcr-pul` in namespace `ameide`",
    ),
    (
        "inline-secret",
        "document 2 (Secret ameide/platform-extra) is Secret `platform-extra` in namespace `ameide` with inline data",
    ),
    (
        "unknown-secret-key",
        "document 3 (Job ameide/db-migrations), spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef reads key `TRANSFORMATION_DB_URL` of Secret `transformation-db-credentials`",
    ),
    (
        "secret-not-in-namespace",
        "document 4 (Deployment monitoring/grafana), spec.template.spec.volumes[0].projected.sources[0].secret reads Secret `grafana-admin-credentials` in namespace `monitoring`, but the catalog syncs it only to ameide, ameide-dev, ameide-prod, ameide-staging",
    ),
    (
        "unknown-secret-key",
        "document 5 (CronJob ameide/neo4j-backup), spec.jobTemplate.spec.template.spec.volumes[0].secret.items[1] reads key `NEO4J_PASSWORT` of Secret `neo4j-auth`",
    ),
    (
        "unknown-secret",
        "document 6 (Application argocd/grafana), spec.source.helm.valuesObject.admin.existingSecret reads Secret `grafana-admin-credential` in namespace `ameide`",
    ),
];

fn assert_findings(found: &[(String, String, String)], file: &str) {
    let got: Vec<(&str, &str)> = found
        .iter()
        .map(|(code, message, _)| (code.as_str(), message.as_str()))
        .collect();
    assert_eq!(got.len(), FINDINGS.len(), "{got:#?}");
    for ((code, message), (want_code, want_message)) in got.iter().zip(FINDINGS) {
        assert_eq!(code, want_code, "{message}");
        assert!(
            message.starts_with(want_message),
            "{message}\n  does not start with\n{want_message}"
        );
    }
    assert!(found.iter().all(|(_, _, path)| path == file), "{found:#?}");
}

#[test]
fn every_kind_of_finding_names_file_document_and_path() {
    let dir = fixtures();
    let output = verify(dir.path(), &["findings.yaml", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let found = json_diagnostics(&output);
    assert_findings(&found, "findings.yaml");
    // Optional references to a missing Secret, and `*_FILE` paths, are no findings.
    let all: String = found.iter().map(|f| f.1.as_str()).collect();
    assert!(!all.contains("platform-sentry"), "{all}");
    assert!(!all.contains("REDIS_PASSWORD_FILE"), "{all}");
}

#[test]
fn text_findings_carry_the_file_and_a_did_you_mean() {
    let dir = fixtures();
    let output = verify(dir.path(), &["findings.yaml"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(
        codes(&stderr),
        FINDINGS.iter().map(|(c, _)| *c).collect::<Vec<_>>()
    );
    assert_eq!(
        stderr.matches(" --> findings.yaml\n").count(),
        FINDINGS.len(),
        "{stderr}"
    );
    for help in [
        "did you mean `platform-db-credentials`?",
        "did you mean `PLATFORM_DATABASE_PASSWORD`? `platform-db-credentials` provides: PLATFORM_DATABASE_PASSWORD, PLATFORM_DATABASE_URL, PLATFORM_DATABASE_USER",
        "did you mean `ghcr-pull`?",
        "did you mean `NEO4J_PASSWORD`? `neo4j-auth` provides: NEO4J_AUTH, NEO4J_PASSWORD, NEO4J_USERNAME",
        "did you mean `grafana-admin-credentials`?",
    ] {
        assert!(stderr.contains(help), "{help}\n{stderr}");
    }
    assert_eq!(text(&output.stdout), "");
}

#[test]
fn stdin_is_read_with_dash() {
    let dir = fixtures();
    let input = std::fs::read(dir.path().join("findings.yaml")).unwrap();
    let output = verify_stdin(dir.path(), &["-", "--format", "json"], &input);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_findings(&json_diagnostics(&output), "-");

    let clean = std::fs::read(dir.path().join("clean/platform.yaml")).unwrap();
    let output = verify_stdin(dir.path(), &["-"], &clean);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

#[test]
fn folders_and_files_mix_and_findings_are_sorted_by_file() {
    let dir = fixtures();
    // `findings.yaml` named first, the clean folder second: the order of the inputs does not
    // matter, findings come sorted by file, document and path.
    let output = verify(
        dir.path(),
        &["findings.yaml", "clean", "production", "--format", "json"],
    );
    let found = json_diagnostics(&output);
    let files: Vec<&str> = found.iter().map(|f| f.2.as_str()).collect();
    assert!(files.iter().all(|f| *f == "findings.yaml"), "{files:?}");
    // The production render, read without --env, is fine: production syncs these Secrets to
    // ameide-prod.
    assert_eq!(found.len(), FINDINGS.len());

    let output = verify(dir.path(), &["production", "clean", "--env", "production"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let arrows: Vec<&str> = stderr.lines().filter(|l| l.starts_with(" --> ")).collect();
    let mut sorted = arrows.clone();
    sorted.sort();
    assert_eq!(arrows, sorted, "sorted by file");
    assert!(
        arrows.iter().all(|a| a.starts_with(" --> clean/")),
        "{arrows:?}"
    );
}

#[test]
fn env_production_maps_namespaces() {
    let dir = fixtures();
    let rendered = "production/rendered.yaml";
    let output = verify(dir.path(), &[rendered, "--env", "production"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));

    // Rendered for production, verified as dev: dev syncs to ameide-dev.
    let output = verify(dir.path(), &[rendered, "--env", "dev", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let found = json_diagnostics(&output);
    assert!(!found.is_empty());
    for (code, message, path) in &found {
        assert_eq!(code, "secret-not-in-namespace", "{message}");
        assert!(message.contains("in namespace `ameide-prod`"), "{message}");
        assert!(message.ends_with("only to ameide-dev"), "{message}");
        assert_eq!(path, rendered);
    }

    // The local render (namespace `ameide`) is not what production deploys.
    let output = verify(
        dir.path(),
        &[
            "clean/platform.yaml",
            "--env",
            "production",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let found = json_diagnostics(&output);
    assert!(found.iter().any(|(code, message, _)| code == "secret-not-in-namespace"
        && message.starts_with("document 3 (Deployment ameide/platform), spec.template.spec.containers[0].env[1].valueFrom.secretKeyRef reads Secret `platform-db-credentials` in namespace `ameide`, but the catalog syncs it only to ameide-prod")));
    // platform-gitlab-api-token exists in local and dev only.
    assert!(
        found
            .iter()
            .any(|(code, message, _)| code == "unknown-secret"
                && message.contains("`platform-gitlab-api-token`"))
    );
}

#[test]
fn an_unknown_env_exits_2() {
    let dir = fixtures();
    let output = verify(dir.path(), &["clean", "--env", "prod"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("did you mean `production`?"));
}

#[test]
fn unreadable_and_invalid_manifests_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("broken.yaml"), "kind: Pod\nspec: [unclosed\n").unwrap();
    std::fs::write(
        root.join("latin1.yaml"),
        b"kind: Pod\nmetadata: {name: caf\xe9}\n",
    )
    .unwrap();
    std::fs::write(root.join("dup.yaml"), "kind: Pod\nkind: Job\n").unwrap();
    std::fs::create_dir_all(root.join("empty")).unwrap();
    std::fs::create_dir_all(root.join("notes")).unwrap();
    std::fs::write(root.join("notes/readme.txt"), "no manifests here").unwrap();
    std::fs::write(root.join("bad.json"), "{\"kind\": ").unwrap();
    let cases: &[(&str, &str)] = &[
        (
            "broken.yaml",
            "cannot verify `broken.yaml`: not valid YAML (line 2",
        ),
        (
            "latin1.yaml",
            "cannot verify `latin1.yaml`: not valid UTF-8 (first bad byte at line 2, column 21)",
        ),
        ("dup.yaml", "cannot verify `dup.yaml`: not valid YAML"),
        (
            "missing.yaml",
            "cannot verify `missing.yaml`: no such file or folder",
        ),
        (
            "empty",
            "cannot verify `empty`: the folder holds no manifests",
        ),
        (
            "notes",
            "cannot verify `notes`: the folder holds no manifests",
        ),
        ("bad.json", "cannot verify `bad.json`: not valid JSON"),
    ];
    for (input, message) in cases {
        let output = verify(root, &[input]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{input}: {stderr}");
        assert!(
            stderr.contains(&format!("error[invalid-manifest]: {message}")),
            "{input}: {stderr}"
        );
        assert!(
            stderr.contains(&format!(" --> {input}\n")),
            "{input}: {stderr}"
        );
    }
    // An invalid manifest next to valid ones still fails the run, and each is named.
    let output = verify(root, &["broken.yaml", "missing.yaml", "--format", "json"]);
    assert_eq!(output.status.code(), Some(2));
    let found = json_diagnostics(&output);
    assert_eq!(
        found.len(),
        1,
        "read problems stop the run before parsing: {found:?}"
    );
    assert_eq!(found[0].2, "missing.yaml");
}

#[test]
fn hostile_yaml_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut deep = String::from("kind: ConfigMap\ndata:\n");
    for depth in 1..2_000 {
        deep.push_str(&" ".repeat(depth * 2));
        deep.push_str("a:\n");
    }
    std::fs::write(root.join("deep.yaml"), deep).unwrap();
    let flow = format!(
        "kind: ConfigMap\ndata: {}1{}\n",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    std::fs::write(root.join("flow.yaml"), flow).unwrap();
    let mut bomb = String::from("kind: ConfigMap\nx0: &x0 [a, a, a, a, a, a, a, a, a, a]\n");
    for i in 1..30 {
        let p = i - 1;
        bomb.push_str(&format!(
            "x{i}: &x{i} [*x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}]\n"
        ));
    }
    std::fs::write(root.join("bomb.yaml"), bomb).unwrap();
    for file in ["deep.yaml", "flow.yaml", "bomb.yaml"] {
        let output = verify(root, &[file]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains("error[invalid-manifest]"),
            "{file}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{file}: {stderr}");
    }
    // Odd shapes where objects are expected are skipped, not fatal.
    std::fs::write(
        root.join("odd.yaml"),
        "- just\n- a list\n---\n42\n---\nkind: Deployment\nspec: {template: {spec: {containers: [1, {env: [{name: X, valueFrom: 3}]}], volumes: {a: b}}}}\n---\nkind: [Pod]\n",
    )
    .unwrap();
    let output = verify(root, &["odd.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

#[test]
fn a_render_without_namespaces_is_any_namespace() {
    // `helm template` without --namespace leaves every metadata.namespace out.
    let dir = fixtures();
    let without: String = std::fs::read_to_string(dir.path().join("clean/platform.yaml"))
        .unwrap()
        .lines()
        .filter(|l| l.trim() != "namespace: ameide")
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!without.contains("namespace:"));
    std::fs::write(dir.path().join("no-namespace.yaml"), &without).unwrap();
    let output = verify(dir.path(), &["no-namespace.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    // Checked across namespaces all the same: a typo is still a finding.
    std::fs::write(
        dir.path().join("typo.yaml"),
        without.replace("name: platform-db-credentials", "name: platform-db-creds"),
    )
    .unwrap();
    let output = verify(dir.path(), &["typo.yaml", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let found = json_diagnostics(&output);
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(found[0].1.starts_with("document 3 (Deployment platform), spec.template.spec.containers[0].env[1].valueFrom.secretKeyRef reads Secret `platform-db-creds` in namespace `(any)`"), "{found:#?}");

    // One resource with a namespace: the file was rendered for one, the rest are in `default`.
    let mixed = format!(
        "{without}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: ameide\n"
    );
    std::fs::write(dir.path().join("mixed.yaml"), mixed).unwrap();
    let output = verify(dir.path(), &["mixed.yaml", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let found = json_diagnostics(&output);
    assert!(
        found
            .iter()
            .all(|(code, message, _)| (code == "secret-not-in-namespace"
                || code == "unknown-secret")
                && message.contains("in namespace `default`"))
    );
}

/// A small catalog: one Secret name in two namespaces with different keys, unmanaged secrets with
/// and without namespaces and keys, and an environment that maps a namespace.
const SMALL_CATALOG: &str = r#"
[store]
name = "ameide-vault"
mount = "secret"

[environments.local]
fixtures = true

[environments.production]
fixtures = true
namespaces = { ameide = "ameide-prod" }

[bundles.platform]
kind = "layer15"
namespace = "ameide"

[bundles.billing]
kind = "chart"
namespace = "billing"
installed = { local = false }

[keys.db-url]
fixture = "postgresql://db"

[keys.db-password]
generate = { length = 32 }

[keys.shared-config]
external = "operator"

[secrets.db-credentials]
bundle = "platform"
data.DATABASE_URL = "db-url"
data.DATABASE_PASSWORD = "db-password"

[secrets.db-credentials-billing]
bundle = "billing"
target = "db-credentials"
external_secret = "db-credentials-sync"
data.DATABASE_URL = "db-url"

[secrets.extracted]
bundle = "platform"
data.A = "db-url"
extract = ["shared-config"]

[unmanaged_secrets.postgres-ameide-app]
created_by = "CloudNativePG operator (cluster postgres-ameide)"
namespaces = ["ameide"]
keys = ["username", "password", "uri"]

[unmanaged_secrets.ingress-tls]
created_by = "cert-manager"
"#;

fn small_catalog() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("catalog")).unwrap();
    std::fs::write(dir.path().join("catalog/secretcat.toml"), SMALL_CATALOG).unwrap();
    dir
}

fn run_small(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    all.extend(["--format", "json"]);
    secretcat(dir, &all)
}

fn pod(namespace: &str, env: &[(&str, &str)]) -> String {
    let entries: Vec<String> = env
        .iter()
        .enumerate()
        .map(|(i, (secret, key))| {
            format!("        - {{name: V{i}, valueFrom: {{secretKeyRef: {{name: {secret}, key: {key}}}}}}}\n")
        })
        .collect();
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: api\n  namespace: {namespace}\nspec:\n  containers:\n    - name: api\n      env:\n{}",
        entries.concat()
    )
}

#[test]
fn keys_are_checked_per_namespace_and_unmanaged_secrets_count() {
    let dir = small_catalog();
    let check = secretcat(dir.path(), &["check"]);
    assert_ne!(check.status.code(), Some(2), "{}", text(&check.stderr));
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "ameide.yaml",
        &pod(
            "ameide",
            &[
                ("db-credentials", "DATABASE_PASSWORD"),
                ("postgres-ameide-app", "password"),
                ("postgres-ameide-app", "pasword"),
                ("ingress-tls", "anything"),
                ("extracted", "whatever-the-vault-key-holds"),
            ],
        ),
    );
    let output = run_small(dir.path(), &["ameide.yaml"]);
    let found = json_diagnostics(&output);
    assert_eq!(output.status.code(), Some(1), "{found:#?}");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "unknown-secret-key");
    assert!(
        found[0]
            .1
            .contains("`pasword` of Secret `postgres-ameide-app`")
    );

    // In billing the same Secret name holds DATABASE_URL only, and CNPG's Secret is not there.
    write(
        "billing.yaml",
        &pod(
            "billing",
            &[
                ("db-credentials", "DATABASE_URL"),
                ("db-credentials", "DATABASE_PASSWORD"),
                ("postgres-ameide-app", "password"),
                ("ingress-tls", "tls.crt"),
            ],
        ),
    );
    let found = json_diagnostics(&run_small(dir.path(), &["billing.yaml"]));
    let got: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        got,
        ["unknown-secret-key", "secret-not-in-namespace"],
        "{found:#?}"
    );
    assert!(
        found[0]
            .1
            .contains("`DATABASE_PASSWORD` of Secret `db-credentials`")
    );
    // Without --env, the unmanaged secret is where any environment maps `ameide`.
    assert!(
        found[1].1.ends_with("only to ameide, ameide-prod"),
        "{found:#?}"
    );

    // Production maps ameide to ameide-prod; billing is not installed in local, so with
    // --env local no Secret of that name is in billing.
    let output = run_small(dir.path(), &["billing.yaml", "--env", "production"]);
    assert_eq!(json_diagnostics(&output).len(), 2);
    let found = json_diagnostics(&run_small(dir.path(), &["billing.yaml", "--env", "local"]));
    let got: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(got, ["secret-not-in-namespace"; 3], "{found:#?}");
    assert!(
        found[0].1.contains(
            "`db-credentials` in namespace `billing`, but the catalog syncs it only to ameide"
        ),
        "{found:#?}"
    );
    write(
        "prod.yaml",
        &pod(
            "ameide-prod",
            &[
                ("db-credentials", "DATABASE_PASSWORD"),
                // Unmanaged secrets' namespaces are mapped like the catalog's own.
                ("postgres-ameide-app", "password"),
            ],
        ),
    );
    let output = run_small(dir.path(), &["prod.yaml", "--env", "production"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    let output = run_small(dir.path(), &["ameide.yaml", "--env", "production"]);
    let found = json_diagnostics(&output);
    assert!(
        found.iter().any(|f| f.0 == "secret-not-in-namespace"
            && f.1.contains("`db-credentials` in namespace `ameide`, but the catalog syncs it only to ameide-prod, billing")),
        "{found:#?}"
    );
}

#[test]
fn inline_secrets_unless_declared_or_exempt() {
    let dir = small_catalog();
    let manifest = r#"
apiVersion: v1
kind: Secret
metadata: {name: postgres-ameide-app, namespace: ameide}
stringData: {username: app, password: dev}
---
apiVersion: v1
kind: Secret
metadata: {name: postgres-ameide-app, namespace: billing}
stringData: {username: app, password: dev}
---
apiVersion: v1
kind: Secret
metadata: {name: db-credentials, namespace: ameide}
data: {DATABASE_URL: eA==}
---
apiVersion: v1
kind: Secret
type: helm.sh/release.v1
metadata: {name: sh.helm.release.v1.api.v1, namespace: ameide}
data: {release: eA==}
---
apiVersion: v1
kind: Secret
metadata: {name: placeholder, namespace: ameide}
data: {}
---
apiVersion: v1
kind: Secret
metadata: {name: api-local, namespace: ameide}
stringData: {API_KEY: dev}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: ameide}
spec:
  containers:
    - name: api
      env:
        - {name: API_KEY, valueFrom: {secretKeyRef: {name: api-local, key: API_KEY}}}
        - {name: OTHER, valueFrom: {secretKeyRef: {name: api-local, key: OTHER}}}
        - {name: FROM_ES, valueFrom: {secretKeyRef: {name: es-target, key: TOKEN}}}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: es, namespace: ameide}
spec:
  target: {name: es-target}
  data: [{secretKey: TOKEN, remoteRef: {key: x}}]
"#;
    std::fs::write(dir.path().join("m.yaml"), manifest).unwrap();
    let found = json_diagnostics(&run_small(dir.path(), &["m.yaml"]));
    let got: Vec<(&str, &str)> = found
        .iter()
        .map(|f| (f.0.as_str(), f.1.split(" is ").next().unwrap_or_default()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "inline-secret",
                "document 2 (Secret billing/postgres-ameide-app)"
            ),
            ("inline-secret", "document 6 (Secret ameide/api-local)"),
            (
                "unknown-secret-key",
                "document 7 (Pod ameide/api), spec.containers[0].env[1].valueFrom.secretKeyRef reads key `OTHER` of Secret `api-local`, which it does not provide"
            ),
        ],
        "{found:#?}"
    );
}

#[test]
fn value_paths_are_configurable() {
    let dir = small_catalog();
    let manifest = r#"
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: api, namespace: flux-system}
spec:
  targetNamespace: ameide
  values:
    auth: {existingSecret: db-credentials}
    postgres: {existingSecret: postgres-ameide-ap}
    extraSecretRefs: [db-credentials, {name: ingress-tls}, {name: missing-one}]
"#;
    std::fs::write(dir.path().join("release.yaml"), manifest).unwrap();
    let found = json_diagnostics(&run_small(dir.path(), &["release.yaml"]));
    let got: Vec<&str> = found.iter().map(|f| f.1.as_str()).collect();
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(got[0].starts_with("document 1 (HelmRelease flux-system/api), spec.values.extraSecretRefs[2] reads Secret `missing-one` in namespace `ameide`"));
    assert!(got[1].starts_with("document 1 (HelmRelease flux-system/api), spec.values.postgres.existingSecret reads Secret `postgres-ameide-ap` in namespace `ameide`"));
    let stdout = text(&run_small(dir.path(), &["release.yaml"]).stdout);
    assert!(
        stdout.contains("did you mean `postgres-ameide-app`?"),
        "{stdout}"
    );

    // --value-path replaces the defaults.
    let found = json_diagnostics(&run_small(
        dir.path(),
        &["release.yaml", "--value-path", "auth.existingSecret"],
    ));
    assert!(found.is_empty(), "{found:#?}");
    let found = json_diagnostics(&run_small(
        dir.path(),
        &[
            "release.yaml",
            "--value-path",
            "postgres.existingSecret",
            "--value-path",
            "nothing.here",
        ],
    ));
    assert_eq!(found.len(), 1, "{found:#?}");
}

#[test]
fn output_is_deterministic() {
    let dir = fixtures();
    let args = [
        "findings.yaml",
        "clean",
        "--env",
        "production",
        "--format",
        "json",
    ];
    let first = verify(dir.path(), &args);
    let second = verify(dir.path(), &args);
    assert_eq!(first.stdout, second.stdout);
    assert!(!json_diagnostics(&first).is_empty());
}
