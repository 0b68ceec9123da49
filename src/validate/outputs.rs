//! Validation of `[outputs]`: every path relative, inside the root, and distinct once expanded.

use std::collections::BTreeMap;

use super::Ctx;
use crate::diagnostics::Diagnostic;
use crate::load::raw::RawOutputs;
use crate::load::spanned::Spanned;
use crate::model::{Bundle, OutputPaths};
use crate::source::FileId;

pub(super) fn compile(
    ctx: &mut Ctx,
    raw: Option<(FileId, Spanned<RawOutputs>)>,
    bundles: &BTreeMap<String, Bundle>,
) -> OutputPaths<String> {
    let defaults = OutputPaths::DEFAULT;
    let Some((file, raw)) = raw else {
        return OutputPaths {
            dir: defaults.dir.into(),
            key_map: defaults.key_map.into(),
            layer15: defaults.layer15.into(),
            integration: defaults.integration.into(),
            chart: defaults.chart.into(),
            fixtures: defaults.fixtures.into(),
            schema: defaults.schema.into(),
            docs: defaults.docs.into(),
        };
    };
    let raw = raw.value;
    let mut pick = |value: Option<Spanned<String>>, default: &str, per_bundle: bool| -> String {
        let Some(value) = value else {
            return default.to_string();
        };
        if let Some(why) = path_problem(&value, per_bundle) {
            ctx.push(Diagnostic::invalid_output_path(&value, &why).at(
                file,
                value.span.clone(),
                "",
            ));
        }
        value.value
    };
    let outputs = OutputPaths {
        dir: pick(raw.dir, defaults.dir, false),
        key_map: pick(raw.key_map, defaults.key_map, false),
        layer15: pick(raw.layer15, defaults.layer15, true),
        integration: pick(raw.integration, defaults.integration, true),
        chart: pick(raw.chart, defaults.chart, true),
        fixtures: pick(raw.fixtures, defaults.fixtures, false),
        schema: pick(raw.schema, defaults.schema, false),
        docs: pick(raw.docs, defaults.docs, false),
    };
    let mut seen: BTreeMap<String, Option<&str>> = BTreeMap::new();
    for (_, bundle, path) in outputs.files(bundles.values()) {
        if let Some(first) = seen.insert(path.clone(), bundle) {
            let whose = |b: Option<&str>| {
                b.map_or("a catalog-wide output".to_string(), |b| {
                    format!("bundle `{b}`")
                })
            };
            ctx.push(Diagnostic::invalid_output_path(
                &path,
                &format!(
                    "is produced twice, by {} and by {}; put `{{bundle}}` in the pattern",
                    whose(first),
                    whose(bundle)
                ),
            ));
        }
    }
    outputs
}

/// Why an output path pattern is unusable, if it is.
fn path_problem(path: &str, per_bundle: bool) -> Option<String> {
    if path.is_empty() {
        return Some("is empty".into());
    }
    if path.starts_with('/') || path.starts_with('\\') || path.get(1..2) == Some(":") {
        return Some("is absolute; output paths are relative to the repository root".into());
    }
    if path.split(['/', '\\']).any(|segment| segment == "..") {
        return Some("leaves the repository root through `..`".into());
    }
    if path.chars().any(char::is_control) {
        return Some("holds a control character".into());
    }
    let placeholders = path.matches('{').count();
    let known = path.matches("{bundle}").count() + path.matches("{release}").count();
    if placeholders != known || path.matches('}').count() != known {
        return Some("has a placeholder other than {bundle} and {release}".into());
    }
    if !per_bundle && known > 0 {
        return Some("is catalog-wide, so it cannot use {bundle} or {release}".into());
    }
    None
}
