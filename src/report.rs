//! The one place diagnostics and drift are turned into text: compiler-style for people, JSON for
//! tools, `::error` workflow commands for GitHub Actions.

use std::fmt::Write as _;

use serde::Serialize;

use crate::diagnostics::{Diagnostic, Label, Severity};
use crate::emit::Drift;
use crate::source::Files;

/// Output format of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Github,
}

/// Version of the `--format json` document; bumped on any incompatible change.
pub const JSON_VERSION: u32 = 1;

/// Whether text for people carries ANSI colours. Decided once by the CLI from `--color`,
/// `NO_COLOR` and whether the stream is a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Palette {
    pub enabled: bool,
}

impl Palette {
    pub const PLAIN: Palette = Palette { enabled: false };

    fn paint(self, style: anstyle::Style, text: &str) -> String {
        if self.enabled && !text.is_empty() {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }
}

fn color(c: anstyle::AnsiColor) -> anstyle::Style {
    anstyle::Style::new().fg_color(Some(c.into()))
}

fn severity_style(severity: Severity) -> anstyle::Style {
    let c = match severity {
        Severity::Error => anstyle::AnsiColor::Red,
        Severity::Finding => anstyle::AnsiColor::Magenta,
        Severity::Warning => anstyle::AnsiColor::Yellow,
    };
    color(c).bold()
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Finding => "finding",
        Severity::Warning => "warning",
    }
}

/// A diagnostic as a compiler would print it: headline, location, quoted line, underline, help.
pub fn text(files: &Files, diagnostic: &Diagnostic) -> String {
    text_in(files, diagnostic, Palette::PLAIN)
}

/// `text`, coloured when the palette says so.
pub fn text_in(files: &Files, diagnostic: &Diagnostic, palette: Palette) -> String {
    let headline = format!(
        "{}[{}]",
        severity_word(diagnostic.severity),
        diagnostic.code.name()
    );
    let mut out = format!(
        "{}: {}\n",
        palette.paint(severity_style(diagnostic.severity), &headline),
        palette.paint(anstyle::Style::new().bold(), &diagnostic.message)
    );
    let blue = color(anstyle::AnsiColor::Blue).bold();
    let labels: Vec<&Label> = diagnostic
        .primary
        .iter()
        .chain(&diagnostic.secondary)
        .collect();
    let gutter = labels
        .iter()
        .map(|l| {
            files
                .get(l.file)
                .position(l.span.start)
                .line
                .to_string()
                .len()
        })
        .max()
        .unwrap_or(1);
    let pad = " ".repeat(gutter);
    let bar = |text: &str| palette.paint(blue, text);
    for (i, label) in labels.iter().enumerate() {
        let file = files.get(label.file);
        let span = file.clamp(label.span.clone());
        let start = file.position(span.start);
        let arrow = if i == 0 { "-->" } else { ":::" };
        let _ = writeln!(
            out,
            "{pad}{} {}:{}:{}",
            bar(arrow),
            file.display,
            start.line,
            start.column
        );
        let (shown, column, line_chars) = window(file.line_text(start.line), start.column);
        let _ = writeln!(out, "{pad} {}", bar("|"));
        let _ = writeln!(
            out,
            "{} {} {shown}",
            bar(&format!("{:>gutter$}", start.line)),
            bar("|")
        );
        let span_chars = file.text[span.clone()]
            .lines()
            .next()
            .map_or(0, |l| l.chars().count());
        let width = span_chars.min(line_chars.saturating_sub(column - 1)).max(1);
        let (mark, style) = if i == 0 {
            ("^", severity_style(diagnostic.severity))
        } else {
            ("-", blue)
        };
        let mut underline = format!("{}{}", " ".repeat(column - 1), mark.repeat(width));
        if !label.text.is_empty() {
            underline = format!("{underline} {}", label.text);
        }
        let (indent, marks) = underline.split_at(column - 1);
        let _ = writeln!(
            out,
            "{pad} {} {indent}{}",
            bar("|"),
            palette.paint(style, marks)
        );
    }
    if labels.is_empty()
        && let Some(path) = &diagnostic.path
    {
        let _ = writeln!(out, "{pad}{} {path}", bar("-->"));
    }
    if let Some(help) = &diagnostic.help {
        if !labels.is_empty() {
            let _ = writeln!(out, "{pad} {}", bar("|"));
        }
        let _ = writeln!(
            out,
            "{pad} {} {}: {help}",
            bar("="),
            palette.paint(anstyle::Style::new().bold(), "help")
        );
    }
    out
}

/// The part of a source line worth quoting: long lines (minified or generated TOML) are cut to a
/// window around `column`. Returns the text, the column within it, and its length in characters.
fn window(line: &str, column: usize) -> (String, usize, usize) {
    const WIDTH: usize = 120;
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= WIDTH {
        return (line.to_string(), column, chars.len());
    }
    let start = column
        .saturating_sub(1 + WIDTH / 3)
        .min(chars.len().saturating_sub(WIDTH));
    let end = (start + WIDTH).min(chars.len());
    let mut shown: String = chars[start..end].iter().collect();
    let mut column = column - start;
    if start > 0 {
        shown.insert_str(0, "...");
        column += 3;
    }
    if end < chars.len() {
        shown.push_str("...");
    }
    let length = shown.chars().count();
    (shown, column, length)
}

/// A drift entry for people, with the unified diff of a changed file (`with_diff`), coloured when
/// the palette says so.
pub fn drift_text_in(drift: &Drift, with_diff: bool, palette: Palette) -> String {
    let text = drift_text(drift);
    let (head, diff) = text.split_once('\n').unwrap_or((&text, ""));
    let mut out = format!("{}\n", palette.paint(anstyle::Style::new().bold(), head));
    if !with_diff {
        return out;
    }
    for line in diff.lines() {
        let style = match line.as_bytes().first() {
            Some(b'+') if !line.starts_with("+++") => color(anstyle::AnsiColor::Green),
            Some(b'-') if !line.starts_with("---") => color(anstyle::AnsiColor::Red),
            Some(b'@') => color(anstyle::AnsiColor::Cyan),
            _ => anstyle::Style::new(),
        };
        out.push_str(&palette.paint(style, line));
        out.push('\n');
    }
    out
}

/// A drift entry for people; `diff` adds the unified diff of a changed file.
pub fn drift_text(drift: &Drift) -> String {
    match drift {
        Drift::Changed { path, diff, .. } => {
            format!("changed: {path} differs from the catalog\n{diff}")
        }
        Drift::Missing { path } => {
            format!("missing: {path} is produced by the catalog but does not exist\n")
        }
        Drift::Orphaned { path } => {
            format!(
                "orphaned: {path} carries secretcat's header but the catalog no longer produces it\n"
            )
        }
    }
}

#[derive(Serialize)]
struct JsonLocation<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    #[serde(skip_serializing_if = "str::is_empty")]
    message: &'a str,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: Severity,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<JsonLocation<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<JsonLocation<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum JsonDrift<'a> {
    Changed {
        path: &'a str,
        diff: &'a str,
        line: usize,
    },
    Missing {
        path: &'a str,
    },
    Orphaned {
        path: &'a str,
    },
}

#[derive(Serialize, Default)]
struct Summary {
    errors: usize,
    findings: usize,
    warnings: usize,
    changed: usize,
    missing: usize,
    orphaned: usize,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    drift: Vec<JsonDrift<'a>>,
    summary: Summary,
}

fn location<'a>(files: &'a Files, label: &'a Label) -> JsonLocation<'a> {
    let file = files.get(label.file);
    let span = file.clamp(label.span.clone());
    let (start, end) = (file.position(span.start), file.position(span.end));
    JsonLocation {
        file: &file.display,
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
        message: &label.text,
    }
}

/// The versioned JSON document of `check --format json`.
pub fn json(files: &Files, diagnostics: &[Diagnostic], drift: &[Drift]) -> String {
    let mut summary = Summary::default();
    for d in diagnostics {
        match d.severity {
            Severity::Error => summary.errors += 1,
            Severity::Finding => summary.findings += 1,
            Severity::Warning => summary.warnings += 1,
        }
    }
    let drift = drift
        .iter()
        .map(|d| match d {
            Drift::Changed { path, diff, line } => {
                summary.changed += 1;
                JsonDrift::Changed {
                    path,
                    diff,
                    line: *line,
                }
            }
            Drift::Missing { path } => {
                summary.missing += 1;
                JsonDrift::Missing { path }
            }
            Drift::Orphaned { path } => {
                summary.orphaned += 1;
                JsonDrift::Orphaned { path }
            }
        })
        .collect();
    let report = JsonReport {
        version: JSON_VERSION,
        diagnostics: diagnostics
            .iter()
            .map(|d| JsonDiagnostic {
                code: d.code.name(),
                severity: d.severity,
                message: &d.message,
                location: d.primary.as_ref().map(|l| location(files, l)),
                related: d.secondary.iter().map(|l| location(files, l)).collect(),
                path: d.path.as_deref(),
                help: d.help.as_deref(),
            })
            .collect(),
        drift,
        summary,
    };
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}

/// GitHub Actions workflow commands: one annotation per diagnostic and drifted file.
pub fn github(files: &Files, diagnostics: &[Diagnostic], drift: &[Drift]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let level = match d.severity {
            Severity::Error | Severity::Finding => "error",
            Severity::Warning => "warning",
        };
        let mut properties = Vec::new();
        if let Some(label) = &d.primary {
            let loc = location(files, label);
            properties.push(format!("file={}", escape_property(loc.file)));
            properties.push(format!("line={}", loc.line));
            properties.push(format!("col={}", loc.column));
        } else if let Some(path) = &d.path {
            properties.push(format!("file={}", escape_property(path)));
        }
        properties.push(format!(
            "title={}",
            escape_property(&format!("secretcat {}", d.code.name()))
        ));
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let _ = writeln!(
            out,
            "::{level} {}::{}",
            properties.join(","),
            escape_data(&message)
        );
    }
    for entry in drift {
        let (title, message) = match entry {
            Drift::Changed { path, .. } => (
                "changed",
                format!("{path} differs from the catalog; run `secretcat generate`"),
            ),
            Drift::Missing { path } => (
                "missing",
                format!("{path} is missing; run `secretcat generate`"),
            ),
            Drift::Orphaned { path } => (
                "orphaned",
                format!(
                    "{path} is no longer produced by the catalog; run `secretcat generate` to remove it"
                ),
            ),
        };
        let line = match entry {
            Drift::Changed { line, .. } => format!(",line={line}"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "::error file={}{line},title={}::{}",
            escape_property(entry.path()),
            escape_property(&format!("secretcat drift: {title}")),
            escape_data(&message)
        );
    }
    out
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Diagnostic;
    use std::path::Path;

    #[test]
    fn text_points_at_the_span_with_a_hint() {
        let mut files = Files::default();
        let id = files.add(
            Path::new("catalog/a.toml"),
            "[secrets.x]\ndata.A = \"platform-db-ulr\"\n".into(),
        );
        let d = Diagnostic::unknown_key("x", "platform-db-ulr", Some("platform-db-url")).at(
            id,
            21..38,
            "no key with this path",
        );
        assert_eq!(
            text(&files, &d),
            "error[unknown-key]: secret `x` reads unknown key `platform-db-ulr`\n \
             --> catalog/a.toml:2:10\n  |\n2 | data.A = \"platform-db-ulr\"\n  |          ^^^^^^^^^^^^^^^^^ no key with this path\n  |\n  \
             = help: did you mean `platform-db-url`?\n"
        );
    }

    #[test]
    fn long_lines_are_quoted_as_a_window_around_the_column() {
        let line = format!("x = {}!{}", "[".repeat(500), "]".repeat(500));
        let (shown, column, length) = window(&line, 505);
        assert!(
            shown.starts_with("...[") && shown.ends_with("]..."),
            "{shown}"
        );
        assert_eq!(shown.chars().nth(column - 1), Some('!'));
        assert_eq!(length, 126);
        assert_eq!(window("short", 2), ("short".to_string(), 2, 5));
    }

    #[test]
    fn colour_only_when_asked_and_the_plain_text_is_unchanged() {
        let mut files = Files::default();
        let id = files.add(Path::new("a.toml"), "x = 1\n".into());
        let d = Diagnostic::unused_key("x").at(id, 0..1, "defined here");
        let coloured = text_in(&files, &d, Palette { enabled: true });
        assert!(coloured.contains("\u{1b}["), "{coloured}");
        let stripped: String = {
            let mut out = String::new();
            let mut chars = coloured.chars();
            while let Some(c) = chars.next() {
                if c == '\u{1b}' {
                    for c in chars.by_ref() {
                        if c == 'm' {
                            break;
                        }
                    }
                } else {
                    out.push(c);
                }
            }
            out
        };
        assert_eq!(stripped, text(&files, &d));
        assert!(!text(&files, &d).contains('\u{1b}'));
    }

    #[test]
    fn github_annotations_escape_newlines_and_point_at_lines() {
        let mut files = Files::default();
        let id = files.add(Path::new("catalog/a.toml"), "a\nb = 1\n".into());
        let d = Diagnostic::unused_key("b").at(id, 2..3, "");
        let out = github(
            &files,
            &[d],
            &[Drift::Missing {
                path: "generated/x.yaml".into(),
            }],
        );
        assert_eq!(
            out,
            "::warning file=catalog/a.toml,line=2,col=1,title=secretcat unused-key::key `b` is not read by any secret%0Ahelp: remove it, or map it into a secret's `data`\n\
             ::error file=generated/x.yaml,title=secretcat drift%3A missing::generated/x.yaml is missing; run `secretcat generate`\n"
        );
    }
}
