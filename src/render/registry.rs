//! The template registry: built-in templates, replaced by same-named files in the repository's
//! `templates/` folder, plus the `yaml` and `md` helpers. Override files join the source registry
//! so that their errors point at a line like any catalog error.

use std::collections::BTreeMap;
use std::path::Path;

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
};

use super::limits::{self, Bounded, NESTING_LIMIT, OUTPUT_LIMIT, TAG_LIMIT};
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
    /// The most bytes an output rendered through handlebars may have (`limits::OUTPUT_LIMIT`).
    output_limit: usize,
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
            // handlebars' parser recurses on nesting and counts lines afresh for every tag:
            // bound both before it parses.
            if parsed && let Some(at) = limits::tag_beyond_limit(&text, TAG_LIMIT) {
                let reason = format!(
                    "holds more than {TAG_LIMIT} tags (`{{{{…}}}}`), the most secretcat lets one template have, since parsing costs the square of their number; write a loop (`{{{{#each}}}}`) instead of repeating tags"
                );
                problems.push(located_at(&origin, name, &reason, Some(at)));
            } else if parsed && let Some(at) = limits::deepest(&text, NESTING_LIMIT) {
                let reason = format!(
                    "blocks, subexpressions and literals nest more than {NESTING_LIMIT} levels deep here"
                );
                problems.push(located_at(&origin, name, &reason, Some(at)));
            } else if parsed && let Err(error) = registry.register_template_string(name, text) {
                let reason = error.reason().to_string();
                problems.push(located(&origin, name, files, &reason, error.pos()));
            }
            origins.insert(*name, origin);
        }
        if problems.is_empty() {
            // Partials: written out, not recursive, not too deep (`limits::check_partials`).
            let parsed = TEMPLATES
                .iter()
                .filter_map(|(name, _)| Some((*name, registry.get_template(name)?)));
            for problem in limits::check_partials(parsed) {
                let origin = origins
                    .get(problem.template.as_str())
                    .cloned()
                    .unwrap_or(Origin::Builtin);
                problems.push(located(
                    &origin,
                    &problem.template,
                    files,
                    &problem.reason,
                    problem.position,
                ));
            }
        }
        if problems.is_empty() {
            Ok(Templates {
                registry,
                origins,
                interpret_builtins,
                output_limit: OUTPUT_LIMIT,
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

    /// These templates with outputs bounded by `limit` bytes instead of `OUTPUT_LIMIT`.
    #[cfg(test)]
    pub(crate) fn with_output_limit(mut self, limit: usize) -> Templates {
        self.output_limit = limit;
        self
    }

    /// Render `name` over `data`, which the template context takes over without a copy. The
    /// output stops as soon as it passes the output limit, which is then the error.
    pub(super) fn render(
        &self,
        name: &str,
        data: serde_json::Value,
        files: &Files,
    ) -> Result<String, Diagnostic> {
        let context = Context::from(data);
        let mut output = Bounded::new(self.output_limit);
        let origin = || self.origins.get(name).cloned().unwrap_or(Origin::Builtin);
        match self
            .registry
            .render_with_context_to_write(name, &context, &mut output)
        {
            Ok(()) => Ok(String::from_utf8(output.text)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())),
            Err(_) if output.over => {
                let reason = format!(
                    "the output passed {} bytes ({}), the most a template may write",
                    self.output_limit,
                    shown_size(self.output_limit)
                );
                Err(located(&origin(), name, files, &reason, None)
                    .help("a template writes each value of the catalog a bounded number of times; look for nested `{{#each}}` over the same list"))
            }
            Err(error) => {
                let position = error.line_no.zip(error.column_no);
                Err(located(
                    &origin(),
                    name,
                    files,
                    &error.reason().to_string(),
                    position,
                ))
            }
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

/// A template diagnostic at byte `offset` of the override file, when there is one.
fn located_at(origin: &Origin, name: &str, reason: &str, offset: Option<usize>) -> Diagnostic {
    match origin {
        Origin::Override(id, shown) => {
            let diagnostic = Diagnostic::template(shown, reason);
            match offset {
                Some(at) => diagnostic.at(*id, at..at + 1, ""),
                None => diagnostic.on_path(shown.clone()),
            }
        }
        Origin::Builtin => Diagnostic::template(&format!("{name} (built-in)"), reason),
    }
}

/// `bytes` in MiB or KiB, as the limits are written.
fn shown_size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
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
    use super::markdown_cell;

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
