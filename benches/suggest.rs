//! "Did you mean" at scale (issue 18): a pull request's catalog with thousands of misspelt
//! references must not cost quadratic time. Each case is measured with one unknown name and
//! with thousands, on the same catalog and manifests, so the ratio is the suggestions' cost:
//! - compile: `n` keys and `n` secrets, each secret reading one key; one reference misspelt
//!   (`key-01234-token` → `key-01234-toekn`), or every one (letters swapped, replaced or left
//!   out, every hundredth a name unlike any key);
//! - verify: a catalog of `5n` secrets and `n / 2` Pods, each reading one Secret by name: one
//!   Pod, or every Pod, reading a misspelt name; and one Pod alone.
//!
//! `cargo bench --bench suggest`; `SECRETCAT_BENCH_SIZES=1000` picks `n` (default 4000).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

use secretcat::verify::{Manifest, Options, verify};

// The allocator of the secretcat binary, so the stages cost here what they cost there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn sizes() -> Vec<usize> {
    std::env::var("SECRETCAT_BENCH_SIZES")
        .unwrap_or_else(|_| "4000".into())
        .split(',')
        .filter_map(|n| n.trim().replace('_', "").parse().ok())
        .collect()
}

/// The `i`-th misspelling of `name` (which ends in a word of distinct letters, without `x`):
/// two letters swapped, one replaced or one left out, or (every hundredth) a name unlike any.
fn typo(name: &str, i: usize) -> String {
    if i % 100 == 99 {
        return format!("zq-unrelated-{i}");
    }
    let mut chars: Vec<char> = name.chars().collect();
    let at = chars.len() - 2;
    match i % 3 {
        0 => chars.swap(at - 1, at),
        1 => chars[at] = 'x',
        _ => {
            chars.remove(at);
        }
    }
    chars.into_iter().collect()
}

/// A catalog of `keys` keys and `secrets` secrets, secret `i` reading key `i % keys`; the first
/// `misspelt` of them a misspelling of it instead.
fn catalog(keys: usize, secrets: usize, misspelt: usize) -> Vec<(std::path::PathBuf, String)> {
    let settings = "[store]\nname = \"vault\"\nmount = \"secret\"\n\n[environments.local]\nfixtures = true\n\n[bundles.apps]\nkind = \"chart\"\nnamespace = \"apps\"\n".to_string();
    let mut text = String::new();
    for k in 0..keys {
        text.push_str(&format!(
            "[keys.key-{k:05}-token]\nowner = \"team\"\nfixture = \"value-{k}\"\n"
        ));
    }
    for s in 0..secrets {
        let key = format!("key-{:05}-token", s % keys);
        let read = if s < misspelt { typo(&key, s) } else { key };
        text.push_str(&format!(
            "[secrets.secret-{s:05}-creds]\nbundle = \"apps\"\nowner = \"team\"\ndata.VALUE = \"{read}\"\n"
        ));
    }
    vec![
        ("secretcat.toml".into(), settings),
        ("team.toml".into(), text),
    ]
}

/// `pods` Pods, Pod `i` reading Secret `secret-<i * 7>-creds` through `envFrom`; the first `misspelt`
/// of them a misspelling of it.
fn manifests(pods: usize, misspelt: usize) -> Vec<Manifest> {
    let mut text = String::new();
    for p in 0..pods {
        let secret = format!("secret-{:05}-creds", p * 7);
        let read = if p < misspelt {
            typo(&secret, p)
        } else {
            secret
        };
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: pod-{p}, namespace: apps}}\nspec:\n  containers:\n    - name: app\n      image: app\n      envFrom: [{{secretRef: {{name: {read}}}}}]\n"
        ));
    }
    vec![Manifest {
        name: "pods.yaml".into(),
        text,
    }]
}

fn suggest(c: &mut Criterion) {
    for n in sizes() {
        let mut group = c.benchmark_group("suggest");
        group.sample_size(10);
        for misspelt in [1, n] {
            let sources = catalog(n, n, misspelt);
            let unknown = secretcat::compile_sources(sources.clone())
                .diagnostics
                .len();
            assert_eq!(unknown, misspelt, "one finding per misspelt reference");
            group.bench_function(
                BenchmarkId::new(format!("compile-{n}/misspelt"), misspelt),
                |b| b.iter(|| secretcat::compile_sources(sources.clone())),
            );
        }

        let secrets = 5 * n;
        let pods = (n / 2).max(1);
        let compiled = secretcat::compile_sources(catalog(secrets, secrets, 0));
        assert!(
            compiled.diagnostics.is_empty(),
            "{:?}",
            compiled.diagnostics
        );
        let catalog = compiled.catalog.expect("compiles");
        let options = Options {
            value_paths: Vec::new(),
            env: None,
        };
        for (pods, misspelt) in [(1, 1), (pods, 1), (pods, pods)] {
            let manifests = manifests(pods, misspelt);
            let findings = verify(&catalog, &manifests, &options);
            assert_eq!(findings.len(), misspelt, "{findings:?}");
            let id = format!("verify-{secrets}/pods-{pods}/misspelt");
            group.bench_function(BenchmarkId::new(id, misspelt), |b| {
                b.iter(|| verify(&catalog, &manifests, &options))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, suggest);
criterion_main!(benches);
