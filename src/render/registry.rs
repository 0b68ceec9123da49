//! The template registry: built-in templates, replaced by same-named files in the repository's
//! `templates/` folder, plus the `yaml` and `md` helpers. Override files join the source registry
//! so that their errors point at a line like any catalog error.

use std::collections::BTreeMap;
use std::path::Path;

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
};

use super::{TEMPLATES, to_yaml};
use crate::diagnostics::Diagnostic;
use crate::sandbox::{self, Refusal, Root};
use crate::source::{FileId, Files, display_path};
use crate::suggest::closest;

/// The folder, relative to the root, whose `<template name>` files override the built-ins.
pub const TEMPLATE_DIR: &str = "templates";

/// Where a registered template came from.
#[derive(Debug, Clone)]
enum Origin {
    Builtin,
    Override(FileId, String),
}

pub struct Templates {
    registry: Handlebars<'static>,
    origins: BTreeMap<&'static str, Origin>,
    /// Render the built-in templates through handlebars too, instead of their Rust writers.
    interpret_builtins: bool,
}

impl Templates {
    /// Register the built-in templates, each replaced by `root/templates/<name>` when present.
    pub fn load(root: &Path, files: &mut Files) -> Result<Templates, Vec<Diagnostic>> {
        Self::with_overrides(Some(root), files, false)
    }

    /// The built-in templates only.
    pub fn builtin() -> Templates {
        Self::builtin_through(false)
    }

    fn builtin_through(interpret_builtins: bool) -> Templates {
        match Self::with_overrides(None, &mut Files::default(), interpret_builtins) {
            Ok(templates) => templates,
            Err(problems) => unreachable!("built-in templates must parse: {problems:?}"),
        }
    }

    /// The built-in templates are parsed only when `interpret_builtins` says they are rendered
    /// through handlebars: their Rust writers need no parse, which took a third of a
    /// 100-secret `check`.
    fn with_overrides(
        root: Option<&Path>,
        files: &mut Files,
        interpret_builtins: bool,
    ) -> Result<Templates, Vec<Diagnostic>> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        registry.register_helper("yaml", Box::new(yaml_helper));
        registry.register_helper("md", Box::new(markdown_helper));
        let mut problems = Vec::new();
        let known: Vec<&str> = TEMPLATES.iter().map(|(name, _)| *name).collect();
        // Overrides are read through the root's handle: a template that is a link out of the
        // repository, a FIFO or a huge file is refused like a catalog file.
        let sandbox = root.and_then(|root| Root::open(root).ok());
        let folder = Path::new(TEMPLATE_DIR);
        let names = match sandbox.as_ref().map(|sandbox| sandbox.list(folder)) {
            None | Some(Err(Refusal::Missing)) => Vec::new(),
            Some(Ok(names)) => names,
            Some(Err(refusal)) => {
                let shown = sandbox
                    .as_ref()
                    .map(|s| s.shown(folder))
                    .unwrap_or_default();
                problems.push(refusal.diagnostic(&shown, "read folder"));
                Vec::new()
            }
        };
        let unknown = names
            .iter()
            .map(|name| name.to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".hbs") && !known.contains(&name.as_str()));
        for name in unknown {
            let help = match closest(&name, known.iter().copied()) {
                Some(best) => format!(
                    "did you mean `{best}`? overridable templates: {}",
                    known.join(", ")
                ),
                None => format!("overridable templates: {}", known.join(", ")),
            };
            problems
                .push(Diagnostic::unknown_template(&format!("{TEMPLATE_DIR}/{name}")).help(help));
        }
        let mut origins = BTreeMap::new();
        for (name, builtin) in TEMPLATES {
            let relative = folder.join(name);
            let read = sandbox
                .as_ref()
                .map(|sandbox| (sandbox.read(&relative, sandbox::TEMPLATE), sandbox));
            let (text, origin) = match read {
                Some((Ok(bytes), sandbox)) => {
                    let path = sandbox.path().join(&relative);
                    let Ok(text) = String::from_utf8(bytes) else {
                        problems.push(Diagnostic::template(
                            &display_path(&path),
                            "is not valid UTF-8",
                        ));
                        continue;
                    };
                    let id = files.add(&path, text.clone());
                    (text, Origin::Override(id, display_path(&path)))
                }
                Some((Err(Refusal::Missing), _)) | None => (builtin.to_string(), Origin::Builtin),
                Some((Err(refusal), sandbox)) => {
                    problems.push(refusal.diagnostic(&sandbox.shown(&relative), "read template"));
                    continue;
                }
            };
            let parsed = matches!(origin, Origin::Override(..)) || interpret_builtins;
            if parsed && let Some(depth) = too_deeply_nested(&text) {
                let reason = format!(
                    "nests blocks {depth} deep; secretcat renders at most {MAX_BLOCK_NESTING} levels"
                );
                problems.push(located(&origin, name, files, &reason, None));
                origins.insert(*name, origin);
                continue;
            }
            if parsed && let Err(error) = registry.register_template_string(name, text) {
                let reason = error.reason().to_string();
                problems.push(located(&origin, name, files, &reason, error.pos()));
            }
            origins.insert(*name, origin);
        }
        if problems.is_empty() {
            problems.extend(partial_problems(&registry, &origins, files));
        }
        if problems.is_empty() {
            Ok(Templates {
                registry,
                origins,
                interpret_builtins,
            })
        } else {
            Err(problems)
        }
    }

    /// How to name a template to the user: the override's path, or the built-in's name.
    pub fn shown(&self, name: &str) -> String {
        match self.origins.get(name) {
            Some(Origin::Override(_, shown)) => shown.clone(),
            _ => format!("{name} (built-in)"),
        }
    }

    /// The built-in templates, every one rendered by handlebars from its `.hbs` text: what the
    /// built-in Rust writers are tested against.
    pub fn interpreted() -> Templates {
        Self::builtin_through(true)
    }

    /// Whether `name` is rendered by handlebars (an override, or `interpreted`), not by the
    /// built-in writer.
    pub(super) fn interprets(&self, name: &str) -> bool {
        self.interpret_builtins || self.is_override(name)
    }

    /// Whether `name` is replaced by a file in `templates/`: only such a template can write
    /// text the built-in ones were not tested to produce.
    pub(super) fn is_override(&self, name: &str) -> bool {
        matches!(self.origins.get(name), Some(Origin::Override(..)))
    }

    /// Render `name` over `data`, which the template context takes over without a copy.
    pub(super) fn render(
        &self,
        name: &str,
        data: serde_json::Value,
        files: &Files,
    ) -> Result<String, Diagnostic> {
        self.render_bounded(name, data, files, MAX_RENDERED_BYTES)
    }

    /// `render`, failing as soon as the output passes `limit` bytes.
    fn render_bounded(
        &self,
        name: &str,
        data: serde_json::Value,
        files: &Files,
        limit: usize,
    ) -> Result<String, Diagnostic> {
        let context = Context::from(data);
        let mut out = Bounded {
            bytes: Vec::new(),
            limit,
            exceeded: false,
        };
        let origin = || self.origins.get(name).cloned().unwrap_or(Origin::Builtin);
        let rendered = self
            .registry
            .render_with_context_to_write(name, &context, &mut out);
        if out.exceeded {
            let reason = format!(
                "renders more than {limit} bytes, secretcat's bound for one output; check for nested loops over large lists"
            );
            return Err(located(&origin(), name, files, &reason, None));
        }
        rendered.map_err(|error| {
            let position = error.line_no.zip(error.column_no);
            located(
                &origin(),
                name,
                files,
                &error.reason().to_string(),
                position,
            )
        })?;
        String::from_utf8(out.bytes).map_err(|_| {
            located(
                &origin(),
                name,
                files,
                "rendered text that is not UTF-8",
                None,
            )
        })
    }
}

/// The most bytes one output may render to through handlebars: at 100,000 secrets the built-in
/// SECRETS.md is about 150 MB, and a template looping over lists inside lists can grow without
/// bound.
pub const MAX_RENDERED_BYTES: usize = 256 * 1024 * 1024;

/// How deep blocks (`{{#each}}`, `{{#if}}`, …) may nest in one template: handlebars parses and
/// renders them recursively, so a deeper one could exhaust the stack.
pub const MAX_BLOCK_NESTING: usize = 64;

/// How deep partials may include partials, counted along the longest chain.
pub const MAX_PARTIAL_DEPTH: usize = 16;

/// Collects rendered text up to a bound, then refuses more.
struct Bounded {
    bytes: Vec<u8>,
    limit: usize,
    exceeded: bool,
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > self.limit {
            self.exceeded = true;
            return Err(std::io::Error::other("output bound reached"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The deepest block nesting of `text`, when it passes `MAX_BLOCK_NESTING`. Counted on the raw
/// text, before handlebars parses it recursively: every `{{#`, `{{~#`, `{{#>` opens, every `{{/`
/// or `{{~/` closes.
fn too_deeply_nested(text: &str) -> Option<usize> {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for (at, _) in text.match_indices("{{") {
        let rest = text[at + 2..].trim_start_matches(['{', '~']);
        if rest.starts_with('#') {
            depth += 1;
            deepest = deepest.max(depth);
        } else if rest.starts_with('/') {
            depth = depth.saturating_sub(1);
        }
    }
    (deepest > MAX_BLOCK_NESTING).then_some(deepest)
}

/// What a template's partials call, by name; `None` for a name computed while rendering.
type Calls = Vec<Option<String>>;

/// The partials every registered template calls (inline partials count as templates of their
/// own, named as they are called), checked for what handlebars would recurse into without end:
/// a cycle, a chain deeper than `MAX_PARTIAL_DEPTH`, or a name computed at render time.
fn partial_problems(
    registry: &Handlebars<'static>,
    origins: &BTreeMap<&'static str, Origin>,
    files: &Files,
) -> Vec<Diagnostic> {
    let mut graph: BTreeMap<String, (String, Calls)> = BTreeMap::new();
    for (name, template) in registry.get_templates() {
        let mut calls = Vec::new();
        let mut inline = Vec::new();
        partial_calls(&template.elements, &mut calls, &mut inline);
        graph.insert(name.clone(), (name.clone(), calls));
        for (inline_name, body) in inline {
            graph.entry(inline_name).or_insert((name.clone(), body));
        }
    }
    let mut problems = Vec::new();
    let report = |owner: &str, reason: String| {
        let origin = origins.get(owner).cloned().unwrap_or(Origin::Builtin);
        located(&origin, owner, files, &reason, None)
    };
    for (name, (owner, calls)) in &graph {
        if calls.iter().any(Option::is_none) {
            problems.push(report(
                owner,
                format!("calls a partial whose name is computed while rendering (in `{name}`); name partials literally, so their nesting can be checked"),
            ));
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    // Longest chain from each template, by depth-first search with the path on a stack.
    let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
    for start in graph.keys() {
        if let Err(reason) = chain_depth(start, &graph, &mut depth, &mut Vec::new()) {
            let owner = &graph[start].0;
            problems.push(report(owner, reason));
            break;
        }
    }
    problems
}

/// The longest chain of partials from `name`; an error for a cycle or a chain over the limit.
fn chain_depth<'g>(
    name: &'g str,
    graph: &'g BTreeMap<String, (String, Calls)>,
    known: &mut BTreeMap<&'g str, usize>,
    path: &mut Vec<&'g str>,
) -> Result<usize, String> {
    if let Some(&depth) = known.get(name) {
        return Ok(depth);
    }
    if let Some(at) = path.iter().position(|&p| p == name) {
        let mut cycle: Vec<&str> = path[at..].to_vec();
        cycle.push(name);
        return Err(format!(
            "includes itself through partials: {}",
            cycle.join(" > ")
        ));
    }
    if path.len() > MAX_PARTIAL_DEPTH {
        return Err(format!(
            "nests partials more than {MAX_PARTIAL_DEPTH} deep: {} > …",
            path.join(" > ")
        ));
    }
    path.push(name);
    let mut deepest = 0;
    if let Some((_, calls)) = graph.get(name) {
        for called in calls.iter().flatten() {
            if graph.contains_key(called) {
                deepest = deepest.max(1 + chain_depth(called, graph, known, path)?);
            }
        }
    }
    path.pop();
    known.insert(name, deepest);
    Ok(deepest)
}

/// Collect the partials `elements` call (`None` for a computed name) and the inline partials
/// they define, with what those call.
fn partial_calls(
    elements: &[handlebars::template::TemplateElement],
    calls: &mut Calls,
    inline: &mut Vec<(String, Calls)>,
) {
    use handlebars::template::{Parameter, TemplateElement as E};
    let literal = |name: &Parameter| match name {
        Parameter::Name(name) => Some(name.clone()),
        Parameter::Path(handlebars::Path::Relative((_, raw)))
        | Parameter::Path(handlebars::Path::Local((_, _, raw))) => Some(raw.clone()),
        Parameter::Literal(serde_json::Value::String(name)) => Some(name.clone()),
        Parameter::Literal(other) => Some(other.to_string()),
        // A subexpression, or a kind this version of handlebars added: computed.
        _ => None,
    };
    for element in elements {
        match element {
            E::PartialExpression(partial) | E::PartialBlock(partial) => {
                let name = literal(&partial.name);
                if name.as_deref() != Some("@partial-block") {
                    calls.push(name);
                }
                if let Some(body) = &partial.template {
                    partial_calls(&body.elements, calls, inline);
                }
            }
            E::DecoratorBlock(decorator) if matches!(&decorator.name, Parameter::Name(n) if n == "inline") =>
            {
                let mut body_calls = Vec::new();
                if let Some(body) = &decorator.template {
                    partial_calls(&body.elements, &mut body_calls, inline);
                }
                match decorator.params.first().map(literal) {
                    Some(Some(name)) => inline.push((name, body_calls)),
                    _ => calls.push(None),
                }
            }
            E::DecoratorBlock(decorator) | E::DecoratorExpression(decorator) => {
                if let Some(body) = &decorator.template {
                    partial_calls(&body.elements, calls, inline);
                }
            }
            E::HelperBlock(helper) => {
                for body in [&helper.template, &helper.inverse].into_iter().flatten() {
                    partial_calls(&body.elements, calls, inline);
                }
            }
            _ => {}
        }
    }
}

/// A template diagnostic, pointing into the override file when there is one.
fn located(
    origin: &Origin,
    name: &str,
    files: &Files,
    reason: &str,
    position: Option<(usize, usize)>,
) -> Diagnostic {
    let (reason, help) = tidy_reason(reason);
    match origin {
        Origin::Override(id, shown) => {
            let mut diagnostic = Diagnostic::template(shown, &reason);
            if let Some(help) = help {
                diagnostic = diagnostic.help(help);
            }
            match position {
                Some((line, column)) => {
                    let offset = files.get(*id).offset(line, column);
                    diagnostic.at(*id, offset..offset + 1, "")
                }
                None => diagnostic.on_path(shown.clone()),
            }
        }
        Origin::Builtin => Diagnostic::template(&format!("{name} (built-in)"), &reason),
    }
}

/// handlebars' reasons in one readable line, with a hint where we have one.
fn tidy_reason(reason: &str) -> (String, Option<&'static str>) {
    let reason = reason.lines().next().unwrap_or(reason);
    // pest lists every token it could have taken; the position says more than that list.
    if let Some((head, _)) = reason.split_once(": expected ")
        && head.contains("invalid handlebars syntax")
    {
        let help = "check that every `{{#each}}` / `{{#if}}` has its `{{/each}}` / `{{/if}}`, and every `{{` its `}}`";
        return (head.to_string(), Some(help));
    }
    // A strict-mode miss reads `... Some("name")`.
    match reason.split_once("Some(\"") {
        Some((head, tail)) => (
            format!(
                "{head}`{}`",
                tail.trim_end_matches(')').trim_end_matches('"')
            ),
            None,
        ),
        None => (reason.to_string(), None),
    }
}

fn yaml_helper(
    h: &Helper,
    _: &Handlebars,
    _: &Context,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let value = present_param(h, "yaml")?;
    let indent = h
        .hash_get("indent")
        .and_then(|v| v.value().as_u64())
        .unwrap_or(0) as usize;
    let text = to_yaml(value).map_err(|e| RenderErrorReason::Other(format!("yaml: {e}")))?;
    let pad = " ".repeat(indent);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.write("\n")?;
        }
        if !line.is_empty() {
            out.write(&pad)?;
        }
        out.write(line)?;
    }
    Ok(())
}

/// Text safe inside a Markdown table cell: one line, pipes escaped.
fn markdown_helper(
    h: &Helper,
    _: &Handlebars,
    _: &Context,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let value = present_param(h, "md")?;
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    out.write(&markdown_cell(&text))?;
    Ok(())
}

/// `text` as one Markdown table cell: control characters escaped, whitespace runs (line breaks
/// too) one space, pipes escaped.
pub(super) fn markdown_cell(text: &str) -> String {
    let mut cell = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = !cell.is_empty();
            continue;
        }
        if space {
            cell.push(' ');
            space = false;
        }
        match c {
            '|' => cell.push_str("\\|"),
            // Control characters would be invisible (or worse, terminal escapes) in a page.
            c if c.is_control() => cell.extend(c.escape_default()),
            c => cell.push(c),
        }
    }
    cell
}

/// The helper's first parameter; a path that names nothing is an error even for helpers, which
/// strict mode alone lets through as `null`.
fn present_param<'a>(
    h: &'a Helper,
    helper: &'static str,
) -> Result<&'a serde_json::Value, RenderErrorReason> {
    let param = h
        .param(0)
        .ok_or(RenderErrorReason::ParamNotFoundForIndex(helper, 0))?;
    if param.is_value_missing() {
        let path = param.relative_path().cloned().unwrap_or_default();
        return Err(RenderErrorReason::Other(format!(
            "`{helper}` was given `{path}`, which this template's context does not have"
        )));
    }
    Ok(param.value())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_past_its_bound_stops_rendering_with_a_template_error() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join(TEMPLATE_DIR)).unwrap();
        // Each of 1,000 items writes the list of 1,000 again: a million lines from one line.
        let text = "{{#each items}}{{#each ../items}}{{this}}\n{{/each}}{{/each}}";
        std::fs::write(root.path().join("templates/SECRETS.md.hbs"), text).unwrap();
        let mut files = Files::default();
        let templates = Templates::load(root.path(), &mut files).unwrap();
        let data = serde_json::json!({ "items": (0..1000).collect::<Vec<_>>() });
        let error = templates
            .render_bounded("SECRETS.md.hbs", data.clone(), &files, 10_000)
            .unwrap_err();
        assert_eq!(error.code, crate::diagnostics::Code::Template);
        assert!(
            error.message.contains("more than 10000 bytes"),
            "{}",
            error.message
        );
        assert!(
            error.message.contains("templates/SECRETS.md.hbs"),
            "{}",
            error.message
        );
        let whole = templates
            .render_bounded("SECRETS.md.hbs", data, &files, MAX_RENDERED_BYTES)
            .unwrap();
        assert_eq!(whole.lines().count(), 1_000_000);
    }

    #[test]
    fn block_nesting_is_counted_on_the_raw_text() {
        let nested = |n: usize| format!("{}{}", "{{#if a}}".repeat(n), "{{/if}}".repeat(n));
        assert_eq!(too_deeply_nested(&nested(MAX_BLOCK_NESTING)), None);
        assert_eq!(
            too_deeply_nested(&nested(MAX_BLOCK_NESTING + 1)),
            Some(MAX_BLOCK_NESTING + 1)
        );
        // Siblings do not add up, and whitespace control is seen through.
        let siblings = "{{~#if a}}{{~/if}}".repeat(500);
        assert_eq!(too_deeply_nested(&siblings), None);
    }

    #[test]
    fn a_markdown_cell_is_one_line_with_pipes_and_control_characters_escaped() {
        let cases = [
            ("plain", "plain"),
            ("", ""),
            ("  lead and trail \n", "lead and trail"),
            ("two\nlines\r\n\tand  runs", "two lines and runs"),
            ("a | b ||", "a \\| b \\|\\|"),
            ("bell\u{7}esc\u{1b}[31m", "bell\\u{7}esc\\u{1b}[31m"),
            ("no\u{a0}break\u{2028}sep", "no break sep"),
        ];
        for (text, cell) in cases {
            assert_eq!(markdown_cell(text), cell, "{text:?}");
        }
    }
}
