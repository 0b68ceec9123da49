//! Bounds on what an override template can make handlebars do (issue 18: a pull request's
//! templates must not tie anything up). handlebars (6.4) renders blocks and partials by
//! recursion and has no depth limit of its own: it refuses only a template including itself
//! directly, so two partials including each other, a long chain of inline partials or a few
//! thousand nested `{{#if}}` overflow the stack and abort the process. Its parser recurses too,
//! on nested blocks and subexpressions. And an output has no size of its own: nested `{{#each}}`
//! can write gigabytes. So, before and after parsing, and while rendering:
//! - [`deepest`]: no construct in one template's text nests more than [`NESTING_LIMIT`] deep,
//!   checked on the text before handlebars parses it;
//! - [`check_partials`]: every partial a template includes is named literally (a name computed
//!   while rendering cannot be bounded), no partial includes itself however indirectly, partials
//!   include partials at most [`PARTIAL_DEPTH_LIMIT`] deep, and blocks and partials along any
//!   render path nest at most [`NESTING_LIMIT`] deep (a partial counting as two, its share of the
//!   stack);
//! - [`tag_beyond_limit`]: one template holds at most [`TAG_LIMIT`] tags, since handlebars
//!   works out a line and column for each tag by counting from the start of the text, which
//!   makes parsing quadratic in the number of tags;
//! - [`Bounded`]: a rendered output stops the moment it passes [`OUTPUT_LIMIT`].
//!
//! Measured with handlebars 6.4.4 on a 2 MiB thread (the stack of a rendering thread) in a debug
//! build: 256 nested blocks or 128 nested partials render, 512 blocks or 256 partials overflow.
//! Release builds take about a tenth of that stack.

use std::cell::RefCell;
use std::collections::BTreeMap;

use handlebars::Path;
use handlebars::template::{Parameter, Template, TemplateElement};

/// How deep partials may include partials: `{{> a}}` whose `a` includes `b` is two deep.
pub const PARTIAL_DEPTH_LIMIT: usize = 32;

/// How deep blocks (`{{#each}}`, `{{#if}}`, `{{else if}}` chains), subexpressions and literals
/// may nest in one template's text, and blocks and partials along any render path.
pub const NESTING_LIMIT: usize = 128;

/// The most bytes one output rendered through handlebars may have: 256 MiB. The built-in
/// `SECRETS.md` of 100,000 secrets is about 150 MB.
pub const OUTPUT_LIMIT: usize = 256 << 20;

/// How many tags (`{{…}}`) one template may hold. Parsing cost grows with the square of the
/// count: measured with a release build, 10,000 tags took 1.8 s to parse and 40,000 took 26 s,
/// where the largest built-in template has 111.
pub const TAG_LIMIT: usize = 4096;

/// The byte offset of the first tag past `limit` in `text`, if there is one. Every `{{` counts,
/// escaped or not, so the count can only be high.
pub fn tag_beyond_limit(text: &str, limit: usize) -> Option<usize> {
    text.match_indices("{{").nth(limit).map(|(at, _)| at)
}

/// The byte offset in `text` at which its constructs first nest deeper than `limit`, if they do.
///
/// A scan of the text as handlebars tokenises it, erring on the deep side (a bracket inside a
/// path segment counts), so that what it lets through parses and renders within the stack:
/// raw text, comments and raw blocks do not count; `{{#…}}` opens a level and `{{/…}}` closes
/// it with every `{{else …}}` chained in it (each chain is one more level); inside `{{ … }}`,
/// each `(`, `[` and `{` opens one, outside string literals.
pub fn deepest(text: &str, limit: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    // Per open block, the levels it holds (itself and its `else` chains).
    let mut blocks: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && bytes[i + 1..].starts_with(b"{{") {
            i += 3;
            continue;
        }
        if !bytes[i..].starts_with(b"{{") {
            i += 1;
            continue;
        }
        let start = i;
        if bytes[i..].starts_with(b"{{{{") {
            // A raw block: its text is not parsed.
            i = find(bytes, i + 4, b"{{{{/").map_or(bytes.len(), |end| end + 5);
            i = find(bytes, i, b"}}}}").map_or(bytes.len(), |end| end + 4);
            continue;
        }
        i += 2;
        if bytes.get(i) == Some(&b'~') {
            i += 1;
        }
        if bytes[i..].starts_with(b"!--") {
            i = find(bytes, i, b"--}}").map_or(bytes.len(), |end| end + 4);
            continue;
        }
        if bytes.get(i) == Some(&b'!') {
            i = find(bytes, i, b"}}").map_or(bytes.len(), |end| end + 2);
            continue;
        }
        let rest = &bytes[i..];
        let chained = |word: &[u8]| {
            rest.starts_with(word)
                && rest[word.len()..]
                    .iter()
                    .find(|b| !b.is_ascii_whitespace())
                    .is_some_and(|b| *b != b'}' && *b != b'~')
        };
        match rest.first() {
            Some(b'#') => {
                blocks.push(1);
                depth += 1;
            }
            Some(b'/') => depth -= blocks.pop().unwrap_or(0).min(depth),
            _ if chained(b"else") || chained(b"^") => {
                if let Some(levels) = blocks.last_mut() {
                    *levels += 1;
                    depth += 1;
                }
            }
            _ => {}
        }
        if depth > limit {
            return Some(start);
        }
        // The rest of the mustache, to its `}}`.
        let mut inner = 0usize;
        while i < bytes.len() {
            match bytes[i] {
                quote @ (b'"' | b'\'') => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != quote {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                }
                b'(' | b'[' | b'{' => {
                    inner += 1;
                    if depth + inner > limit {
                        return Some(i);
                    }
                }
                b')' | b']' => inner = inner.saturating_sub(1),
                b'}' if inner > 0 => inner -= 1,
                b'}' if bytes[i..].starts_with(b"}}") => {
                    i += 2;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
    }
    None
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| from + at)
}

/// A problem found by [`check_partials`]: in which template, where (line and column, when
/// handlebars recorded them), and what.
#[derive(Debug, PartialEq, Eq)]
pub struct Problem {
    pub template: String,
    pub position: Option<(usize, usize)>,
    pub reason: String,
}

/// One partial a template or inline partial includes.
struct Include {
    target: String,
    /// Blocks open around the inclusion.
    nesting: usize,
    template: String,
    position: Option<(usize, usize)>,
}

/// Each partial name (a registered template, or an inline partial defined anywhere: handlebars
/// looks inline partials up by name through every enclosing template) with what its bodies
/// include and how deep their blocks nest. Two inline partials of one name count as one with
/// both bodies: that can only find more.
#[derive(Default)]
struct Graph {
    includes: BTreeMap<String, Vec<Include>>,
    nesting: BTreeMap<String, usize>,
    problems: Vec<Problem>,
    /// Problems of the depth check, which only reads the graph.
    reported: RefCell<Vec<Problem>>,
}

/// Check every partial `templates` (name → parsed template) include: see the module comment.
/// Templates are walked in the order given; the first problems found are returned, each once.
pub fn check_partials<'t>(
    templates: impl IntoIterator<Item = (&'t str, &'t Template)>,
) -> Vec<Problem> {
    let templates: Vec<(&str, &Template)> = templates.into_iter().collect();
    let mut graph = Graph::default();
    for (name, template) in &templates {
        graph.nesting.entry(name.to_string()).or_insert(0);
        graph.walk(template, name, name, 0);
    }
    if !graph.problems.is_empty() {
        return graph.problems;
    }
    let mut memo = BTreeMap::new();
    for (name, _) in &templates {
        graph.visit(name, &mut vec![*name], 0, &mut memo);
    }
    graph.reported.into_inner()
}

impl Graph {
    fn walk(&mut self, template: &Template, file: &str, node: &str, nesting: usize) {
        let deepest = self.nesting.entry(node.to_string()).or_insert(0);
        *deepest = (*deepest).max(nesting);
        for (i, element) in template.elements.iter().enumerate() {
            let position = template.mapping.get(i).map(|m| (m.0, m.1));
            match element {
                TemplateElement::HelperBlock(block) => {
                    for body in [&block.template, &block.inverse].into_iter().flatten() {
                        self.walk(body, file, node, nesting + 1);
                    }
                }
                TemplateElement::DecoratorBlock(decorator) => {
                    let inline = matches!(&decorator.name, Parameter::Name(n) if n == "inline");
                    let Some(body) = &decorator.template else {
                        continue;
                    };
                    if !inline {
                        self.walk(body, file, node, nesting + 1);
                        continue;
                    }
                    match decorator.params.first().and_then(literal_name) {
                        Some(name) => self.walk(body, file, &name, 0),
                        None => self.problem(
                            file,
                            position,
                            "an inline partial's name must be a string literal, `{{#*inline \"name\"}}`: a name computed while rendering cannot be checked for recursion".into(),
                        ),
                    }
                }
                TemplateElement::PartialExpression(partial)
                | TemplateElement::PartialBlock(partial) => {
                    if matches!(element, TemplateElement::PartialBlock(_))
                        && partial.template.is_some()
                    {
                        self.problem(
                            file,
                            position,
                            "partial blocks (`{{#> name}}…{{/name}}`) render their content outside the output bound: include the partial with `{{> name}}`".into(),
                        );
                        continue;
                    }
                    let target = match &partial.name {
                        Parameter::Name(name) => name.clone(),
                        // What handlebars names the partial by: the path's text.
                        Parameter::Path(Path::Relative((_, raw)) | Path::Local((_, _, raw))) => {
                            raw.clone()
                        }
                        Parameter::Literal(value) => match value.as_str() {
                            Some(name) => name.to_string(),
                            None => value.to_string(),
                        },
                        Parameter::Subexpression(_) => {
                            self.problem(
                                file,
                                position,
                                "a partial's name must be written out, `{{> name}}`: a name computed while rendering (`{{> (…)}}`) cannot be checked for recursion".into(),
                            );
                            continue;
                        }
                        _ => continue,
                    };
                    if target == "@partial-block" {
                        continue;
                    }
                    self.includes
                        .entry(node.to_string())
                        .or_default()
                        .push(Include {
                            target,
                            nesting,
                            template: file.to_string(),
                            position,
                        });
                }
                _ => {}
            }
        }
    }

    fn problem(&mut self, template: &str, position: Option<(usize, usize)>, reason: String) {
        self.problems.push(Problem {
            template: template.to_string(),
            position,
            reason,
        });
    }

    /// `(partial depth, nesting)` below `node`: how deep partials include partials from it, and
    /// how deep blocks and partials (two levels each) nest along its deepest render path; `None`
    /// once a problem is reported on the way (each is reported once). `path` holds the partials
    /// from the template being checked to `node`; `nesting` is how deep `node` starts. Never
    /// recurses past the partial depth limit.
    fn visit<'g>(
        &'g self,
        node: &'g str,
        path: &mut Vec<&'g str>,
        nesting: usize,
        memo: &mut BTreeMap<&'g str, Option<(usize, usize)>>,
    ) -> Option<(usize, usize)> {
        if let Some(known) = memo.get(node) {
            return *known;
        }
        let found = self.below(node, path, nesting, memo);
        memo.insert(node, found);
        found
    }

    fn below<'g>(
        &'g self,
        node: &'g str,
        path: &mut Vec<&'g str>,
        nesting: usize,
        memo: &mut BTreeMap<&'g str, Option<(usize, usize)>>,
    ) -> Option<(usize, usize)> {
        let mut height = (0, self.nesting.get(node).copied().unwrap_or(0));
        for include in self.includes.get(node).into_iter().flatten() {
            let target = include.target.as_str();
            // A partial nothing defines: handlebars reports it when it is rendered.
            if !self.nesting.contains_key(target) {
                continue;
            }
            let shown = |path: &[&str]| {
                let mut names: Vec<&str> = path.to_vec();
                names.push(target);
                names.join(" → ")
            };
            if let Some(at) = path.iter().position(|n| *n == target) {
                let reason = format!("partial `{target}` includes itself: {}", shown(&path[at..]));
                self.report(include, reason);
                return None;
            }
            if path.len() > PARTIAL_DEPTH_LIMIT {
                let reason = format!(
                    "partials include partials more than {PARTIAL_DEPTH_LIMIT} deep: {}",
                    shown(path)
                );
                self.report(include, reason);
                return None;
            }
            let starts = nesting + include.nesting + 2;
            path.push(target);
            let child = self.visit(target, path, starts, memo);
            path.pop();
            let (depth, deepest) = child?;
            let here = (depth + 1, include.nesting + 2 + deepest);
            if path.len() + here.0 > PARTIAL_DEPTH_LIMIT + 1 {
                let reason = format!(
                    "partials include partials more than {PARTIAL_DEPTH_LIMIT} deep through {}",
                    shown(path)
                );
                self.report(include, reason);
                return None;
            }
            if nesting + here.1 > NESTING_LIMIT {
                let reason = format!(
                    "blocks and partials nest more than {NESTING_LIMIT} levels deep through {} (a partial counts as two levels)",
                    shown(path)
                );
                self.report(include, reason);
                return None;
            }
            height = (height.0.max(here.0), height.1.max(here.1));
        }
        Some(height)
    }

    fn report(&self, include: &Include, reason: String) {
        self.reported.borrow_mut().push(Problem {
            template: include.template.clone(),
            position: include.position,
            reason,
        });
    }
}

/// The string an inline partial is named by, when it is a literal.
fn literal_name(parameter: &Parameter) -> Option<String> {
    match parameter {
        Parameter::Literal(value) => value.as_str().map(str::to_string),
        _ => None,
    }
}

/// An output that fails the moment it passes `limit` bytes, so that a template writing
/// gigabytes stops at the limit instead of exhausting memory.
pub struct Bounded {
    pub text: Vec<u8>,
    pub limit: usize,
    /// Whether a write was refused for passing the limit.
    pub over: bool,
}

impl Bounded {
    pub fn new(limit: usize) -> Bounded {
        Bounded {
            text: Vec::new(),
            limit,
            over: false,
        }
    }
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.text.len().saturating_add(buf.len()) > self.limit {
            self.over = true;
            return Err(std::io::Error::other("the output passed its size limit"));
        }
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_past_the_limit_are_found_where_they_start() {
        let text = "a{{x}}".repeat(5);
        assert_eq!(tag_beyond_limit(&text, 5), None);
        assert_eq!(tag_beyond_limit(&text, 4), Some(4 * 6 + 1));
        // Non-overlapping: a raw block's `{{{{` counts twice.
        assert_eq!(tag_beyond_limit("{{{{raw}}}}", 1), Some(2));
    }

    fn problems(templates: &[(&str, &str)]) -> Vec<Problem> {
        let parsed: Vec<(&str, Template)> = templates
            .iter()
            .map(|(name, text)| (*name, Template::compile(text).unwrap()))
            .collect();
        check_partials(parsed.iter().map(|(name, t)| (*name, t)))
    }

    #[test]
    fn nesting_in_the_text_is_counted_as_handlebars_parses_it() {
        let deep = |n: usize| format!("{}x{}", "{{#if a}}".repeat(n), "{{/if}}".repeat(n));
        assert_eq!(deepest(&deep(NESTING_LIMIT), NESTING_LIMIT), None);
        assert_eq!(
            deepest(&deep(NESTING_LIMIT + 1), NESTING_LIMIT),
            Some(9 * NESTING_LIMIT)
        );
        // Blocks one after another do not nest; closing one leaves its parent open.
        assert_eq!(deepest(&"{{#if a}}{{/if}}".repeat(1000), 2), None);
        assert_eq!(deepest("{{#a}}{{#b}}{{/b}}{{#c}}{{/c}}{{/a}}", 2), None);
        // `else` chains nest, a plain `else` does not.
        assert_eq!(
            deepest("{{#if a}}{{else if b}}{{else if c}}{{/if}}", 2),
            Some(22)
        );
        assert_eq!(deepest("{{#if a}}{{else}}{{^}}{{~else~}}{{/if}}", 1), None);
        // Subexpressions and literals nest inside a mustache, strings, comments, raw blocks
        // and escapes not.
        assert_eq!(deepest("{{x (a (b (c)))}}", 2), Some(10));
        assert_eq!(deepest("{{x [[[1]]]}}", 2), Some(6));
        assert_eq!(deepest("{{x \"((((\" '[[[['}}", 1), None);
        assert_eq!(deepest("{{!-- {{#a}}{{#b}} --}}{{! {{#c}} }}", 1), None);
        assert_eq!(deepest("{{{{raw}}}} {{#a}}{{#b}} {{{{/raw}}}}", 1), None);
        assert_eq!(deepest("\\{{#a}} \\{{#b}}", 1), None);
        assert_eq!(deepest("{{{triple}}} {{x {\"a\": 1}}}", 1), None);
    }

    #[test]
    fn partials_including_each_other_are_refused_once() {
        let found = problems(&[("a.hbs", "{{> b.hbs}}"), ("b.hbs", "x\n {{> a.hbs}}")]);
        assert_eq!(
            found,
            [Problem {
                template: "b.hbs".into(),
                position: Some((2, 2)),
                reason: "partial `a.hbs` includes itself: a.hbs → b.hbs → a.hbs".into(),
            }]
        );
        let found = problems(&[(
            "a.hbs",
            "{{#*inline \"x\"}}{{#if y}}{{> x}}{{/if}}{{/inline}}{{> x}}",
        )]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].reason, "partial `x` includes itself: x → x");
    }

    #[test]
    fn partials_nest_at_most_the_limit() {
        let chain = |n: usize| {
            let mut text = String::new();
            for i in 0..n {
                text += &format!(
                    "{{{{#*inline \"p{i}\"}}}}{{{{> p{}}}}}{{{{/inline}}}}",
                    i + 1
                );
            }
            text + &format!("{{{{#*inline \"p{n}\"}}}}end{{{{/inline}}}}{{{{> p0}}}}")
        };
        assert_eq!(problems(&[("a.hbs", &chain(PARTIAL_DEPTH_LIMIT - 1))]), []);
        let found = problems(&[("a.hbs", &chain(PARTIAL_DEPTH_LIMIT))]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .reason
                .starts_with("partials include partials more than 32 deep")
        );
        // A chain far past the limit is refused without recursing along all of it.
        let found = problems(&[("a.hbs", &chain(2_000))]);
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn blocks_count_along_the_partials_they_include() {
        let ifs = |n: usize, inside: &str| {
            format!("{}{inside}{}", "{{#if a}}".repeat(n), "{{/if}}".repeat(n))
        };
        let (a, b) = (ifs(60, "{{> b.hbs}}"), ifs(60, "x"));
        assert_eq!(problems(&[("a.hbs", &a), ("b.hbs", &b)]), []);
        let (a, b) = (ifs(64, "{{> b.hbs}}"), ifs(64, "x"));
        let found = problems(&[("a.hbs", &a), ("b.hbs", &b)]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .reason
                .starts_with("blocks and partials nest more than 128")
        );
    }

    #[test]
    fn names_computed_while_rendering_and_partial_blocks_are_refused() {
        for text in [
            "{{> (lookup this \"name\")}}",
            "{{#*inline name}}x{{/inline}}",
            "{{#> layout}}content{{/layout}}",
        ] {
            let found = problems(&[("a.hbs", text), ("layout", "{{> @partial-block}}")]);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
        }
        // Written out, by any of handlebars' spellings, and partials nothing defines: fine.
        assert_eq!(
            problems(&[
                ("a.hbs", "{{> b}}{{> 'b'}}{{> [b]}}{{> missing}}"),
                ("b", "")
            ]),
            []
        );
    }

    #[test]
    fn an_output_stops_at_its_limit() {
        use std::io::Write;
        let mut output = Bounded::new(5);
        assert!(output.write_all(b"abc").is_ok());
        assert!(output.write_all(b"def").is_err());
        assert!(output.over);
        assert_eq!(output.text, b"abc");
    }
}
