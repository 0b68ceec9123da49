//! Golden end-to-end cases: each folder under `tests/cases/` is one run of the real binary.
//!
//! Layout of `tests/cases/<name>/`:
//! - `in/`: the repository before the run (a `catalog/`, maybe `templates/`);
//! - `setup` (optional): steps that bring `in/` into the state under test, one per line, so that
//!   no case commits generated output that would go stale with every format change:
//!   `run ARGS` (secretcat, must exit 0 or 1), `remove PATH`,
//!   `replace PATH :: OLD :: NEW` (first occurrence of one-line text, which must exist),
//!   `write PATH :: TEXT` (`\n` in TEXT is a newline),
//!   `repeat PATH :: COUNT :: TEXT` (appends TEXT COUNT times, `{i}` replaced by 0, 1, ...),
//!   `symlink PATH :: TARGET` (a symbolic link, as git checks one out), `fifo PATH`;
//! - `args`: the command line after `secretcat` (default `check`);
//! - `status`, `stdout`, `stderr`: what the run must print and exit with;
//! - `out/`: the repository after the run; absent means "exactly as `in/`" (nothing written).
//!
//! `SECRETCAT_BLESS=1 cargo test --test cases` rewrites the expectations from the actual run.
//! Review every blessed change: a golden file is a claim about behaviour, not a recording.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

fn copy_tree(from: &Path, to: &Path) {
    for (relative, bytes) in common::tree(from) {
        let target = to.join(&relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    // Empty folders matter to some cases (a folder where a file is expected).
    fn dirs(from: &Path, to: &Path) {
        for entry in std::fs::read_dir(from).unwrap().flatten() {
            if entry.file_type().unwrap().is_dir() {
                let target = to.join(entry.file_name());
                std::fs::create_dir_all(&target).unwrap();
                dirs(&entry.path(), &target);
            }
        }
    }
    dirs(from, to);
}

fn write_tree(root: &Path, tree: &BTreeMap<String, Vec<u8>>) {
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(root).unwrap();
    for (relative, bytes) in tree {
        let target = root.join(relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
}

fn describe_tree_difference(
    expected: &BTreeMap<String, Vec<u8>>,
    actual: &BTreeMap<String, Vec<u8>>,
) -> String {
    let mut problems = Vec::new();
    for (path, bytes) in expected {
        match actual.get(path) {
            None => problems.push(format!("missing after run: {path}")),
            Some(got) if got != bytes => problems.push(format!(
                "differs: {path}\n--- expected\n{}\n--- actual\n{}",
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(got)
            )),
            Some(_) => {}
        }
    }
    for path in actual.keys().filter(|p| !expected.contains_key(*p)) {
        problems.push(format!("unexpected after run: {path}"));
    }
    problems.join("\n")
}

struct Case {
    name: String,
    dir: PathBuf,
}

fn cases() -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut cases: Vec<Case> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("in").is_dir())
        .map(|e| Case {
            name: e.file_name().to_string_lossy().into_owned(),
            dir: e.path(),
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

fn read_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Apply the case's `setup` steps to the fresh copy of `in/`.
fn set_up(case: &Case, root: &Path) -> Result<(), String> {
    let script = read_text(&case.dir.join("setup"));
    for line in script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (step, rest) = line.split_once(' ').unwrap_or((line, ""));
        let parts: Vec<&str> = rest.split(" :: ").collect();
        let fail = |why: &str| -> Result<(), String> { Err(format!("setup step `{line}`: {why}")) };
        match (step, parts.as_slice()) {
            ("run", _) => {
                let output = Command::new(env!("CARGO_BIN_EXE_secretcat"))
                    .args(rest.split_whitespace())
                    .current_dir(root)
                    .output()
                    .unwrap();
                if !matches!(output.status.code(), Some(0 | 1)) {
                    return fail(&String::from_utf8_lossy(&output.stderr));
                }
            }
            ("remove", [path]) => {
                std::fs::remove_file(root.join(path)).or_else(|e| fail(&e.to_string()))?
            }
            ("replace", [path, old, new]) => {
                let text = std::fs::read_to_string(root.join(path))
                    .map_err(|e| format!("setup step `{line}`: {e}"))?;
                if !text.contains(old) {
                    return fail("the text to replace is not in the file");
                }
                std::fs::write(root.join(path), text.replacen(old, new, 1)).unwrap();
            }
            ("write", [path, text]) => {
                let target = root.join(path);
                std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                std::fs::write(target, text.replace("\\n", "\n")).unwrap();
            }
            ("repeat", [path, count, text]) => {
                let count: usize = count
                    .parse()
                    .map_err(|e| format!("setup step `{line}`: {e}"))?;
                let text = text.replace("\\n", "\n");
                let mut out = std::fs::read_to_string(root.join(path)).unwrap_or_default();
                for i in 0..count {
                    out.push_str(&text.replace("{i}", &i.to_string()));
                }
                std::fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
                std::fs::write(root.join(path), out).unwrap();
            }
            #[cfg(unix)]
            ("symlink", [path, target]) => {
                let link = root.join(path);
                std::fs::create_dir_all(link.parent().unwrap()).unwrap();
                std::os::unix::fs::symlink(target, link).or_else(|e| fail(&e.to_string()))?
            }
            ("fifo", [path]) => {
                let made = Command::new("mkfifo")
                    .arg(root.join(path))
                    .status()
                    .unwrap();
                if !made.success() {
                    return fail("mkfifo failed");
                }
            }
            _ => return fail("unknown step or wrong number of `::` parts"),
        }
    }
    Ok(())
}

/// Run one case; returns a description of every mismatch.
fn run_case(case: &Case, bless: bool) -> Result<(), String> {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("repo");
    std::fs::create_dir_all(&root).unwrap();
    copy_tree(&case.dir.join("in"), &root);
    set_up(case, &root)?;
    let before = common::tree(&root);
    let args_text = read_text(&case.dir.join("args"));
    let args: Vec<&str> = match args_text.split_whitespace().collect::<Vec<_>>() {
        args if args.is_empty() => vec!["check"],
        args => args,
    };
    let output = Command::new(env!("CARGO_BIN_EXE_secretcat"))
        .args(&args)
        .current_dir(&root)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let status = output.status.code().unwrap_or(-1).to_string();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let after = common::tree(&root);
    if bless {
        std::fs::write(case.dir.join("status"), format!("{status}\n")).unwrap();
        std::fs::write(case.dir.join("stdout"), &stdout).unwrap();
        std::fs::write(case.dir.join("stderr"), &stderr).unwrap();
        if after == before {
            let _ = std::fs::remove_dir_all(case.dir.join("out"));
        } else {
            write_tree(&case.dir.join("out"), &after);
        }
        return Ok(());
    }
    let mut problems = Vec::new();
    let expected_status = read_text(&case.dir.join("status")).trim().to_string();
    if status != expected_status {
        problems.push(format!("exit status {status}, expected {expected_status}"));
    }
    for (stream, actual) in [("stdout", &stdout), ("stderr", &stderr)] {
        let expected = read_text(&case.dir.join(stream));
        if *actual != expected {
            problems.push(format!(
                "{stream} differs\n--- expected\n{expected}--- actual\n{actual}"
            ));
        }
    }
    let expected_tree = if case.dir.join("out").is_dir() {
        common::tree(&case.dir.join("out"))
    } else {
        before
    };
    let tree = describe_tree_difference(&expected_tree, &after);
    if !tree.is_empty() {
        problems.push(tree);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[test]
fn golden_cases() {
    let bless = std::env::var_os("SECRETCAT_BLESS").is_some();
    let cases = cases();
    assert!(!cases.is_empty(), "no cases found under tests/cases");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            run_case(case, bless)
                .err()
                .map(|e| format!("=== case {}\n{e}", case.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
