//! A pull request's catalog, templates and outputs folder are untrusted: the real binary on the
//! repository's own catalog, with what an attacker (or a second process) can put in the tree:
//! FIFOs, devices, huge files, planted temporary files, and runs side by side.
#![cfg(unix)]

mod common;

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{scratch_repo, secretcat, text, tree};

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success());
}

/// Run `secretcat ARGS` in `dir`, killing it if it has not finished within `limit`: a hang is
/// the failure under test, so it must not hang the suite.
fn secretcat_within(dir: &Path, args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_secretcat"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            panic!("secretcat {args:?} still ran after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Exit 2 with `code` named, and the tree exactly as it was.
fn assert_refused(repo: &Path, args: &[&str], code: &str, names: &str) -> String {
    let before = tree(repo);
    let output = secretcat_within(repo, args, Duration::from_secs(60));
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("error[{code}]")), "{stderr}");
    assert!(stderr.contains(names), "{stderr}");
    assert_eq!(tree(repo), before, "nothing written");
    stderr
}

#[test]
fn a_fifo_fragment_template_or_token_file_is_refused_without_waiting_on_it() {
    let repo = scratch_repo();
    mkfifo(&repo.path().join("catalog/zz.toml"));
    let stderr = assert_refused(repo.path(), &["check"], "unsafe-path", "catalog/zz.toml");
    assert!(stderr.contains("a named pipe (FIFO)"), "{stderr}");
    assert_refused(repo.path(), &["generate"], "unsafe-path", "catalog/zz.toml");

    let repo = scratch_repo();
    std::fs::create_dir(repo.path().join("templates")).unwrap();
    mkfifo(&repo.path().join("templates/SECRETS.md.hbs"));
    assert_refused(
        repo.path(),
        &["check"],
        "unsafe-path",
        "templates/SECRETS.md.hbs",
    );

    let repo = scratch_repo();
    mkfifo(&repo.path().join("token"));
    let args = [
        "seed",
        "--env",
        "local",
        "--addr",
        "http://127.0.0.1:9",
        "--token-file",
        "token",
    ];
    let stderr = assert_refused(repo.path(), &args, "unsafe-path", "token");
    assert!(stderr.contains("a named pipe (FIFO)"), "{stderr}");
}

#[test]
fn a_link_to_a_device_is_never_read() {
    let repo = scratch_repo();
    symlink("/dev/zero", repo.path().join("catalog/zz.toml")).unwrap();
    assert_refused(repo.path(), &["check"], "unsafe-path", "/dev/zero");
    let repo = scratch_repo();
    symlink("/dev/zero", repo.path().join("token")).unwrap();
    let args = ["seed", "--env", "local", "--addr", "http://127.0.0.1:9"];
    let with_token = [&args[..], &["--token-file", "token"]].concat();
    let stderr = assert_refused(repo.path(), &with_token, "unsafe-path", "token");
    assert!(stderr.contains("a character device"), "{stderr}");
}

#[test]
fn a_file_over_its_bound_is_refused_before_it_is_read() {
    let repo = scratch_repo();
    // Sparse: 65 MiB on paper, nothing on disk, and refused on its size alone.
    let huge = std::fs::File::create(repo.path().join("catalog/zz.toml")).unwrap();
    huge.set_len(65 * 1024 * 1024).unwrap();
    let stderr = assert_refused(
        repo.path(),
        &["check"],
        "input-too-large",
        "catalog/zz.toml",
    );
    assert!(stderr.contains("catalog file (67108864 bytes)"), "{stderr}");

    let repo = scratch_repo();
    std::fs::create_dir(repo.path().join("templates")).unwrap();
    let huge = std::fs::File::create(repo.path().join("templates/bundle.yaml.hbs")).unwrap();
    huge.set_len(2 * 1024 * 1024).unwrap();
    assert_refused(
        repo.path(),
        &["generate"],
        "input-too-large",
        "templates/bundle.yaml.hbs",
    );

    let repo = scratch_repo();
    let huge = std::fs::File::create(repo.path().join("big.yaml")).unwrap();
    huge.set_len(257 * 1024 * 1024).unwrap();
    assert_refused(
        repo.path(),
        &["verify", "big.yaml"],
        "input-too-large",
        "big.yaml",
    );
}

#[test]
fn a_manifest_folder_link_leading_out_of_it_is_refused() {
    let repo = scratch_repo();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.yaml"), "kind: Secret\n").unwrap();
    std::fs::create_dir(repo.path().join("rendered")).unwrap();
    symlink(
        outside.path().join("secret.yaml"),
        repo.path().join("rendered/a.yaml"),
    )
    .unwrap();
    assert_refused(
        repo.path(),
        &["verify", "rendered"],
        "unsafe-path",
        "rendered/a.yaml",
    );
}

#[test]
fn a_replaced_output_keeps_its_permission_bits() {
    let repo = scratch_repo();
    let path = repo.path().join("generated/SECRETS.md");
    std::fs::write(&path, "edited by hand\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let output = secretcat(repo.path(), &["generate"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("wrote     generated/SECRETS.md"));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[test]
fn a_killed_runs_temporary_file_is_found_by_its_name_whatever_it_holds() {
    let repo = scratch_repo();
    // What a killed generate leaves while staging an override template without the header.
    let left = repo.path().join("generated/.secretcat-4242-0.tmp");
    std::fs::write(&left, "no header here\n").unwrap();
    // Not a temporary file of secretcat's, and without the header: the user's, left alone.
    let mine = repo.path().join("generated/.secretcat-notes.tmp");
    std::fs::write(&mine, "mine\n").unwrap();
    let check = secretcat(repo.path(), &["check"]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stderr));
    assert!(
        text(&check.stdout).contains("orphaned: generated/.secretcat-4242-0.tmp"),
        "{}",
        text(&check.stdout)
    );
    assert!(!text(&check.stdout).contains("secretcat-notes"));
    let generate = secretcat(repo.path(), &["generate"]);
    assert_eq!(
        generate.status.code(),
        Some(0),
        "{}",
        text(&generate.stderr)
    );
    assert!(!left.exists());
    assert!(mine.exists());
    let check = secretcat(repo.path(), &["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stdout));
}

#[test]
fn two_generates_and_a_check_side_by_side_never_fail_or_see_false_drift() {
    let repo = scratch_repo();
    // Outputs that really change on every generate: each run rewrites a file another removed.
    let docs = repo.path().join("generated/SECRETS.md");
    let run = |args: &'static [&'static str]| {
        let dir = repo.path().to_path_buf();
        std::thread::spawn(move || secretcat_within(&dir, args, Duration::from_secs(60)))
    };
    for round in 0..15 {
        let _ = std::fs::remove_file(&docs);
        let first = run(&["generate", "--quiet"]);
        let second = run(&["generate", "--quiet"]);
        let check = run(&["check", "--quiet"]);
        for (name, handle) in [("generate", first), ("generate", second)] {
            let output = handle.join().unwrap();
            assert_eq!(
                output.status.code(),
                Some(0),
                "round {round}: {name}: {}",
                text(&output.stderr)
            );
        }
        // The check ran before, between or after the generates: the docs page missing (before
        // either placed it) is the only drift it may see.
        let output = check.join().unwrap();
        let stdout = text(&output.stdout);
        let drift: Vec<&str> = stdout.lines().filter(|l| !l.starts_with(' ')).collect();
        assert!(
            output.status.code() == Some(0)
                || drift
                    == [
                        "missing: generated/SECRETS.md is produced by the catalog but does not exist"
                    ],
            "round {round}: check exited {:?}\n{stdout}{}",
            output.status.code(),
            text(&output.stderr)
        );
        assert!(!repo.path().join(".secretcat.lock").exists());
    }
    let output = secretcat(repo.path(), &["check"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
}
