//! Validation of `[outputs]`: every path relative, inside the root, and distinct once expanded.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use super::Ctx;
use crate::diagnostics::{Code, Diagnostic};
use crate::load::raw::RawOutputs;
use crate::load::spanned::Spanned;
use crate::model::{Bundle, BundleKind, Environment, OutputKind, OutputPaths};
use crate::source::FileId;

pub(super) fn compile(
    ctx: &mut Ctx,
    raw: Option<(FileId, Spanned<RawOutputs>)>,
    bundles: &BTreeMap<String, Bundle>,
    environments: &BTreeMap<String, Environment>,
    catalog_within_root: Option<&Path>,
) -> OutputPaths<String> {
    let defaults = OutputPaths::DEFAULT;
    let (file, raw) = match raw {
        Some((file, raw)) => (Some(file), Some(raw.value)),
        None => (None, None),
    };
    let mut spans: BTreeMap<&str, Range<usize>> = BTreeMap::new();
    let mut pick = |field: &'static str,
                    value: Option<Spanned<String>>,
                    default: &str,
                    placeholders: Placeholders|
     -> String {
        let Some(value) = value else {
            return default.to_string();
        };
        if let (Some(file), Some((why, help))) = (file, path_problem(&value, placeholders)) {
            ctx.push(
                Diagnostic::invalid_output_path(&value, &why)
                    .at(file, value.span.clone(), "")
                    .help(help),
            );
        }
        spans.insert(field, value.span.clone());
        // `./gen` and `gen//` are `gen`: one spelling, so orphans and collisions compare alike.
        value
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect::<Vec<_>>()
            .join("/")
    };
    let raw = raw.unwrap_or(RawOutputs {
        dir: None,
        key_map: None,
        layer15: None,
        integration: None,
        chart: None,
        fixtures: None,
        schema: None,
        docs: None,
        releases: None,
        environment: None,
    });
    use Placeholders::{Bundle as PerBundle, Environment as PerEnv, None as Once};
    let outputs = OutputPaths {
        dir: pick("dir", raw.dir, defaults.dir, Once),
        key_map: pick("key_map", raw.key_map, defaults.key_map, Once),
        layer15: pick("layer15", raw.layer15, defaults.layer15, PerBundle),
        integration: pick(
            "integration",
            raw.integration,
            defaults.integration,
            PerBundle,
        ),
        chart: pick("chart", raw.chart, defaults.chart, PerBundle),
        fixtures: pick("fixtures", raw.fixtures, defaults.fixtures, Once),
        schema: pick("schema", raw.schema, defaults.schema, Once),
        docs: pick("docs", raw.docs, defaults.docs, Once),
        releases: pick("releases", raw.releases, defaults.releases, Once),
        environment: pick("environment", raw.environment, defaults.environment, PerEnv),
    };
    // A broken pattern already has its error; its expansions colliding would only repeat it.
    let broken = ctx
        .diagnostics
        .iter()
        .any(|d| d.code == Code::InvalidOutputPath);
    if broken {
        return outputs;
    }
    // Every producer of each path; a path with two or more is one error naming them all. The
    // places a file takes once are checked first; only when they are clean are the folders of
    // the environments checked too, so one bad pattern is one error, not one per environment.
    let all = outputs.outputs(bundles.values());
    let mut once: Producers = BTreeMap::new();
    let mut everywhere: Producers = BTreeMap::new();
    for (kind, bundle, relative) in &all {
        let shared = outputs.place(relative, None);
        once.entry(shared.clone())
            .or_default()
            .push((*kind, *bundle));
        everywhere.entry(shared).or_default().push((*kind, *bundle));
        if kind.per_environment() {
            for env in environments.keys() {
                let path = outputs.place(relative, Some(env));
                everywhere.entry(path).or_default().push((*kind, *bundle));
            }
        }
    }
    let before = ctx.diagnostics.len();
    report_protected(ctx, &everywhere, file, &spans, catalog_within_root);
    if ctx.diagnostics.len() > before {
        return outputs;
    }
    report_collisions(ctx, once, file, &spans, bundles);
    if ctx.diagnostics.len() == before {
        report_collisions(ctx, everywhere, file, &spans, bundles);
    }
    outputs
}

type Producers<'a> = BTreeMap<String, Vec<(OutputKind, Option<&'a str>)>>;

/// Outputs that would land where secretcat reads its own input or git reads configuration and
/// hooks: a pull request's `[outputs]` must not be able to rewrite `.git/config`, the catalog or
/// a template. One error per `[outputs]` field, at its first such path.
fn report_protected(
    ctx: &mut Ctx,
    producers: &Producers,
    file: Option<FileId>,
    spans: &BTreeMap<&str, Range<usize>>,
    catalog: Option<&Path>,
) {
    let mut reported = std::collections::BTreeSet::new();
    for (path, producers) in producers {
        let Some((why, help)) = protected_place(path, catalog) else {
            continue;
        };
        let (kind, _) = producers[0];
        let field = field_of(kind);
        // The folder all outputs share is the likelier culprit when it is the protected place.
        let culprit = match protected_place(&format!("{}/x", path_dir(path)), catalog) {
            Some(_) if spans.contains_key("dir") && !spans.contains_key(field) => "dir",
            _ => field,
        };
        if !reported.insert(culprit) {
            continue;
        }
        let mut diagnostic = Diagnostic::invalid_output_path(path, &why).help(help);
        if let (Some(file), Some(span)) = (file, spans.get(culprit)) {
            diagnostic = diagnostic.at(file, span.clone(), "this pattern");
        }
        ctx.push(diagnostic);
    }
}

fn path_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// Why an expanded output path is in a protected place, and what to do instead.
fn protected_place(path: &str, catalog: Option<&Path>) -> Option<(String, &'static str)> {
    let segments: Vec<&str> = path.split('/').collect();
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let help = "outputs belong in a folder of their own, such as `generated`";
    if segments
        .iter()
        .any(|s| crate::sandbox::is_git(std::ffi::OsStr::new(s)))
    {
        return Some((
            "lands inside `.git/`, where git reads its configuration and hooks".into(),
            help,
        ));
    }
    if segments.len() > 1 && same(segments[0], crate::render::TEMPLATE_DIR) {
        return Some((
            format!(
                "lands inside `{}/`, where secretcat reads its templates",
                crate::render::TEMPLATE_DIR
            ),
            help,
        ));
    }
    let catalog = catalog?;
    let catalog: Vec<String> = catalog
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let inside =
        segments.len() > catalog.len() && catalog.iter().zip(&segments).all(|(a, b)| same(a, b));
    // With the catalog at the root itself, only what would be read back as a catalog file is
    // its own: every `*.toml`.
    let read_back = catalog.is_empty() && path.ends_with(".toml");
    if (inside && !catalog.is_empty()) || read_back {
        let shown = match catalog.is_empty() {
            true => "the catalog".to_string(),
            false => format!("the catalog folder `{}/`", catalog.join("/")),
        };
        return Some((
            format!("lands inside {shown}, which secretcat reads as its input"),
            help,
        ));
    }
    None
}

fn report_collisions(
    ctx: &mut Ctx,
    producers: Producers,
    file: Option<FileId>,
    spans: &BTreeMap<&str, Range<usize>>,
    bundles: &BTreeMap<String, Bundle>,
) {
    report_file_folder_clashes(ctx, producers.keys());
    for (path, producers) in producers.into_iter().filter(|(_, p)| p.len() > 1) {
        let names: Vec<String> = producers
            .iter()
            .map(|(kind, bundle)| match bundle {
                Some(bundle) => format!("bundle `{bundle}`"),
                None => format!("`{}`", field_of(*kind)),
            })
            .collect();
        let per_bundle = producers.iter().all(|(_, bundle)| bundle.is_some());
        let help = if per_bundle {
            "put `{bundle}` in the pattern, or give the bundles different releases"
        } else {
            "give each output its own path"
        };
        let mut diagnostic = Diagnostic::invalid_output_path(
            &path,
            &format!("is produced {} times, by {}", names.len(), names.join(", ")),
        )
        .help(help);
        let (kind, bundle) = producers[producers.len() - 1];
        let field = field_of(kind);
        diagnostic = match (file, spans.get(field), bundle.and_then(|b| bundles.get(b))) {
            (Some(file), Some(span), _) => diagnostic.at(file, span.clone(), "this pattern"),
            (_, _, Some(bundle)) => diagnostic.at(
                bundle.origin.file,
                bundle.origin.span.clone(),
                "this bundle's output",
            ),
            _ => diagnostic,
        };
        ctx.push(diagnostic);
    }
}

/// An output path that another output needs as a folder (`maps` beside `maps/keys.yaml`).
fn report_file_folder_clashes<'a>(ctx: &mut Ctx, paths: impl Iterator<Item = &'a String>) {
    // Sorted, the paths inside `file/` follow `file/` itself: one range lookup per file.
    let paths: std::collections::BTreeSet<&str> = paths.map(String::as_str).collect();
    for file in &paths {
        let folder = format!("{file}/");
        if let Some(inside) = paths
            .range(folder.as_str()..)
            .next()
            .filter(|other| other.starts_with(&folder))
        {
            ctx.push(
                Diagnostic::invalid_output_path(
                    file,
                    &format!("is a file, but `{inside}` needs it to be a folder"),
                )
                .help("give the two outputs paths that do not nest"),
            );
        }
    }
}

/// The `[outputs]` field that names the path of an output kind.
fn field_of(kind: OutputKind) -> &'static str {
    match kind {
        OutputKind::Bundle(BundleKind::Layer15) => "layer15",
        OutputKind::Bundle(BundleKind::Integration) => "integration",
        OutputKind::Bundle(BundleKind::Chart) => "chart",
        OutputKind::KeyMap => "key_map",
        OutputKind::Fixtures => "fixtures",
        OutputKind::Releases => "releases",
        OutputKind::Schema => "schema",
        OutputKind::Docs => "docs",
    }
}

/// The placeholders a path pattern may hold.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Placeholders {
    None,
    Bundle,
    /// Must hold `{env}`, or every environment would share one folder.
    Environment,
}

/// Why an output path pattern is unusable, and what to do instead.
fn path_problem(path: &str, placeholders: Placeholders) -> Option<(String, String)> {
    let problem = |why: &str, help: &str| Some((why.to_string(), help.to_string()));
    if path.is_empty() {
        return problem("is empty", "name a file, relative to the repository root");
    }
    if path.contains('\\') {
        return problem(
            "holds a backslash",
            "separate folders with `/`; on Linux a backslash is part of a file name",
        );
    }
    if path.starts_with('/') || path.get(1..2) == Some(":") {
        return problem(
            "is absolute",
            "output paths are relative to the repository root, e.g. `generated`",
        );
    }
    if path.split(['/', '\\']).any(|segment| segment == "..") {
        return problem(
            "leaves the repository root through `..`",
            "outputs stay inside the root; use --root to move the root instead",
        );
    }
    if path.chars().any(char::is_control) {
        return problem("holds a control character", "remove it");
    }
    let allowed: &[&str] = match placeholders {
        Placeholders::None => &[],
        Placeholders::Bundle => &["{bundle}", "{release}"],
        Placeholders::Environment => &["{env}"],
    };
    let named = |list: &[&str]| list.join(" and ");
    let help = match placeholders {
        Placeholders::None => {
            "only layer15, integration and chart are per bundle, and environment per environment"
                .to_string()
        }
        _ => format!("the placeholders are {}", named(allowed)),
    };
    let found: Vec<&str> = path
        .match_indices('{')
        .filter_map(|(start, _)| {
            path[start..]
                .find('}')
                .map(|end| &path[start..=start + end])
        })
        .collect();
    if let Some(first) = found.iter().find(|p| !allowed.contains(p)) {
        let why = if ["{bundle}", "{release}", "{env}"].contains(first) {
            format!("cannot use {first} here")
        } else {
            format!("has the unknown placeholder `{first}`")
        };
        return Some((why, help));
    }
    let known = found.len();
    if path.matches('{').count() != known || path.matches('}').count() != known {
        return Some(("has an unbalanced `{` or `}`".into(), help));
    }
    if placeholders == Placeholders::Environment && !path.contains("{env}") {
        return problem(
            "does not hold {env}",
            "each environment needs its own folder, e.g. `{env}` or `env/{env}`",
        );
    }
    None
}
