//! Each stage of the pipeline on synthetic catalogs (`secretcat::synthetic`) of 100 to 100,000
//! secrets: load (read and parse every file), validate, render (and render through handlebars,
//! as overrides are), and the whole of `check`
//! (compile, render, compare with a generated tree on disk). Throughput is in secrets, so the
//! per-secret cost at each size shows whether a stage stays linear.
//!
//! `cargo bench --bench pipeline`; `SECRETCAT_BENCH_SIZES=1000,10000` picks the sizes.
//! Peak memory and the comparison with peers are in `scripts/bench-peers.sh`.

use std::path::Path;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use secretcat::diagnostics::Diagnostic;
use secretcat::render::{Templates, render, render_with};
use secretcat::source::Files;
use secretcat::{emit, load, validate};

// The allocator of the secretcat binary, so the stages cost here what they cost there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn sizes() -> Vec<usize> {
    std::env::var("SECRETCAT_BENCH_SIZES")
        .unwrap_or_else(|_| "100,1000,10000,100000".into())
        .split(',')
        .filter_map(|n| n.trim().replace('_', "").parse().ok())
        .collect()
}

/// A synthetic catalog under `root/catalog` with its outputs generated under `root`.
fn prepare(root: &Path, secrets: usize) {
    let catalog_dir = root.join("catalog");
    secretcat::synthetic::write(&catalog_dir, secrets).expect("write the synthetic catalog");
    let compiled = secretcat::compile(&catalog_dir, root);
    let catalog = compiled
        .catalog
        .as_ref()
        .expect("synthetic catalogs compile");
    let files = render(catalog, &Templates::builtin(), &compiled.files).expect("renders");
    emit::write(root, &files, &catalog.outputs).expect("generate");
}

fn load_raw(catalog_dir: &Path) -> (load::RawCatalog, Files, Vec<Diagnostic>) {
    let mut files = Files::default();
    let mut diagnostics = Vec::new();
    let raw = load::load(catalog_dir, &mut files, &mut diagnostics);
    (raw, files, diagnostics)
}

fn pipeline(c: &mut Criterion) {
    for secrets in sizes() {
        let root = tempfile::tempdir().expect("temporary folder");
        prepare(root.path(), secrets);
        let catalog_dir = root.path().join("catalog");
        let mut group = c.benchmark_group("pipeline");
        group.throughput(Throughput::Elements(secrets as u64));
        if secrets >= 10_000 {
            group.sample_size(10);
        }

        group.bench_function(BenchmarkId::new("load", secrets), |b| {
            b.iter(|| load_raw(&catalog_dir))
        });
        group.bench_function(BenchmarkId::new("validate", secrets), |b| {
            b.iter_batched(
                || load_raw(&catalog_dir),
                |(raw, files, mut diagnostics)| {
                    let catalog = validate::validate(raw, "catalog".into(), &mut diagnostics);
                    (catalog, files)
                },
                BatchSize::PerIteration,
            )
        });
        let compiled = secretcat::compile(&catalog_dir, root.path());
        let catalog = compiled
            .catalog
            .as_ref()
            .expect("synthetic catalogs compile");
        let templates = Templates::builtin();
        group.bench_function(BenchmarkId::new("render", secrets), |b| {
            b.iter(|| render(catalog, &templates, &compiled.files).expect("renders"))
        });
        // The same outputs through handlebars (what an override gets), for comparison.
        let interpreted = Templates::interpreted();
        group.bench_function(BenchmarkId::new("render-handlebars", secrets), |b| {
            b.iter(|| render(catalog, &interpreted, &compiled.files).expect("renders"))
        });
        group.bench_function(BenchmarkId::new("check", secrets), |b| {
            b.iter(|| {
                let mut compiled = secretcat::compile(&catalog_dir, root.path());
                let templates = Templates::load(root.path(), &mut compiled.files).expect("loads");
                let catalog = compiled.catalog.as_ref().expect("compiles");
                // As `secretcat check` does it: each output compared where it was rendered.
                let comparer = emit::Comparer::new(root.path()).expect("opens the root");
                let verdicts = render_with(catalog, &templates, &compiled.files, |path, text| {
                    comparer.compare(path, text.pieces())
                })
                .expect("renders");
                let drift = emit::drift(root.path(), verdicts, &catalog.outputs).expect("reads");
                assert!(drift.is_empty(), "the generated tree is fresh");
                drift
            })
        });
        group.finish();
    }
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
