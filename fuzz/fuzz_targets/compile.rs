//! Fuzz target `compile`: the whole in-memory pipeline, load → validate → render → report.
//!
//! The input is split on 0xFF into at most 4 parts: part 0 is `secretcat.toml`, part N is
//! `fragment-N.toml` (a fourth 0xFF and anything after it stay in part 3). A part that is not
//! UTF-8 goes through `String::from_utf8_lossy`. A catalog without Error diagnostics is rendered
//! with the built-in templates, and every diagnostic (compile and render) is turned into text,
//! JSON and GitHub annotations. None of it may panic.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use secretcat::diagnostics::Severity;
use secretcat::render::{Templates, render};
use secretcat::report;

/// Parsing the built-in templates is the same on every run: do it once.
fn templates() -> &'static Templates {
    static TEMPLATES: OnceLock<Templates> = OnceLock::new();
    TEMPLATES.get_or_init(Templates::builtin)
}

fn sources(data: &[u8]) -> Vec<(PathBuf, String)> {
    data.splitn(4, |&b| b == 0xFF)
        .enumerate()
        .map(|(i, part)| {
            let name = if i == 0 {
                "secretcat.toml".to_string()
            } else {
                format!("fragment-{i}.toml")
            };
            (
                PathBuf::from(name),
                String::from_utf8_lossy(part).into_owned(),
            )
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let compiled = secretcat::compile_sources(sources(data));
    let mut diagnostics = compiled.diagnostics;
    let clean = !diagnostics.iter().any(|d| d.severity == Severity::Error);
    if clean && let Some(catalog) = &compiled.catalog {
        match render(catalog, templates(), &compiled.files) {
            Ok(outputs) => {
                for text in outputs.values() {
                    std::hint::black_box(text);
                }
            }
            Err(problems) => diagnostics.extend(problems),
        }
    }
    for diagnostic in &diagnostics {
        std::hint::black_box(report::text(&compiled.files, diagnostic));
    }
    std::hint::black_box(report::json(&compiled.files, &diagnostics, &[]));
    std::hint::black_box(report::github(&compiled.files, &diagnostics, &[]));
});
