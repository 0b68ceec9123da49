//! The one place diagnostics and drift are turned into text: compiler-style for people, JSON for
//! tools, `::error` workflow commands for GitHub Actions.

//!
//! Every piece of outside text (a message, a label, a file name, a quoted line, a diff line) is
//! made visible with `terminal::visible` before it is painted, so the only escape sequences in
//! text for people are the palette's own; a span marked sensitive is never quoted.

use std::fmt::Write as _;
use std::ops::Range;

use serde::Serialize;

use crate::diagnostics::{Diagnostic, Label, Severity};
use crate::emit::Drift;
use crate::source::{Files, SourceFile};
use crate::terminal::{self, visible};

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
        palette.paint(anstyle::Style::new().bold(), &visible(&diagnostic.message))
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
            visible(&file.display),
            start.line,
            start.column
        );
        // Sensitive spans of this diagnostic and of any other are hidden alike.
        let masks: Vec<(Range<usize>, &str)> = labels
            .iter()
            .filter(|l| l.file == label.file)
            .filter_map(|l| Some((file.clamp(l.span.clone()), l.redact?)))
            .chain(files.sensitive(label.file))
            .collect();
        let span_chars = file.text[span.clone()]
            .lines()
            .next()
            .map_or(0, |l| l.chars().count());
        let count = file.line_text(start.line).chars().count();
        let window = window(count, start.column);
        let units = shown_units(file, start.line, &masks, window.clone());
        let quote = quote(&units, window, count, start.column, span_chars);
        let _ = writeln!(out, "{pad} {}", bar("|"));
        let _ = writeln!(
            out,
            "{} {} {}",
            bar(&format!("{:>gutter$}", start.line)),
            bar("|"),
            quote.text
        );
        let (mark, style) = if i == 0 {
            ("^", severity_style(diagnostic.severity))
        } else {
            ("-", blue)
        };
        let column = quote.column;
        let mut underline = format!("{}{}", " ".repeat(column - 1), mark.repeat(quote.width));
        if !label.text.is_empty() {
            underline = format!("{underline} {}", visible(&label.text));
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
        let _ = writeln!(out, "{pad}{} {}", bar("-->"), visible(path));
    }
    if let Some(help) = &diagnostic.help {
        if !labels.is_empty() {
            let _ = writeln!(out, "{pad} {}", bar("|"));
        }
        let _ = writeln!(
            out,
            "{pad} {} {}: {}",
            bar("="),
            palette.paint(anstyle::Style::new().bold(), "help"),
            visible(help)
        );
    }
    out
}

/// The characters of a line worth quoting: all of a short line, and of a long one (minified or
/// generated TOML) a window of 120 around `column` (1-based, in characters).
fn window(count: usize, column: usize) -> Range<usize> {
    const WIDTH: usize = 120;
    if count <= WIDTH {
        return 0..count;
    }
    let start = column
        .saturating_sub(1 + WIDTH / 3)
        .min(count.saturating_sub(WIDTH));
    start..(start + WIDTH).min(count)
}

/// The characters of a 1-based line in `window`, each as it is shown: escaped when it is a
/// control or bidi character; the first character of a masked span shows the redaction marker,
/// the rest of the span nothing.
fn shown_units(
    file: &SourceFile,
    line: usize,
    masks: &[(Range<usize>, &str)],
    window: Range<usize>,
) -> Vec<String> {
    let line_start = file.offset(line, 1);
    let mut units = Vec::with_capacity(window.len());
    let chars = file.line_text(line).char_indices();
    for (i, c) in chars.skip(window.start).take(window.len()) {
        let at = line_start + i;
        let mask = masks.iter().find(|(span, _)| span.contains(&at));
        let unit = match mask {
            // The span's first character on this line (it may have begun on an earlier one).
            Some((span, kind)) if at == span.start.max(line_start) => Diagnostic::redacted(kind),
            Some(_) => String::new(),
            None => {
                let mut unit = String::new();
                terminal::push_char(&mut unit, c, terminal::Breaks::Escape);
                unit
            }
        };
        units.push(unit);
    }
    units
}

/// A quoted line: its shown text, and where the underline starts and how wide it is, both
/// counted in characters of the shown text.
struct Quote {
    text: String,
    column: usize,
    width: usize,
}

/// The quoted line from the shown characters of its `window` (`shown_units`) out of `count`,
/// marked `...` where it was cut. The underline covers the shown text of the `span_chars`
/// characters from `column`.
fn quote(
    units: &[String],
    window: Range<usize>,
    count: usize,
    column: usize,
    span_chars: usize,
) -> Quote {
    let mut text = String::new();
    if window.start > 0 {
        text.push_str("...");
    }
    let (mut shown_column, mut width) = (text.len() + 1, 0);
    for (i, unit) in (window.start..).zip(units) {
        let chars = unit.chars().count();
        if i + 1 < column {
            shown_column += chars;
        } else if i + 1 < column + span_chars {
            width += chars;
        }
        text.push_str(unit);
    }
    if window.end < count {
        text.push_str("...");
    }
    Quote {
        text,
        column: shown_column,
        width: width.max(1),
    }
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

/// A drift entry for people; `diff` adds the unified diff of a changed file. The file on disk
/// came from anywhere: each diff line is made visible, a `\r` of a CRLF file included.
pub fn drift_text(drift: &Drift) -> String {
    match drift {
        Drift::Changed { path, diff, .. } => {
            let mut out = format!("changed: {} differs from the catalog\n", visible(path));
            for line in diff.split_inclusive('\n') {
                let (line, end) = match line.strip_suffix('\n') {
                    Some(line) => (line, "\n"),
                    None => (line, ""),
                };
                out.push_str(&visible(line));
                out.push_str(end);
            }
            out
        }
        Drift::Missing { path } => {
            format!(
                "missing: {} is produced by the catalog but does not exist\n",
                visible(path)
            )
        }
        Drift::Orphaned { path } => {
            format!(
                "orphaned: {} carries secretcat's header but the catalog no longer produces it\n",
                visible(path)
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
    let mut text = terminal::json(serde_json::to_string_pretty(&report).unwrap_or_default());
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
            properties.push(format!("file={}", escape_property(&visible(loc.file))));
            properties.push(format!("line={}", loc.line));
            properties.push(format!("col={}", loc.column));
        } else if let Some(path) = &d.path {
            properties.push(format!("file={}", escape_property(&visible(path))));
        }
        properties.push(format!(
            "title={}",
            escape_property(&format!("secretcat {}", d.code.name()))
        ));
        // The annotation's own line break joins message and help; any in them is shown as `\n`.
        let mut message = visible(&d.message).into_owned();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(&visible(help));
        }
        let _ = writeln!(
            out,
            "::{level} {}::{}",
            properties.join(","),
            escape_data(&message)
        );
    }
    for entry in drift {
        let path = visible(entry.path());
        let (title, message) = match entry {
            Drift::Changed { .. } => (
                "changed",
                format!("{path} differs from the catalog; run `secretcat generate`"),
            ),
            Drift::Missing { .. } => (
                "missing",
                format!("{path} is missing; run `secretcat generate`"),
            ),
            Drift::Orphaned { .. } => (
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
            escape_property(&path),
            escape_property(&format!("secretcat drift: {title}")),
            escape_data(&message)
        );
    }
    out
}

/// A workflow command's message: `%`, `\r` and `\n` percent-encoded, so no text can end the
/// command and start another.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: also `:` and `,`, which end a value.
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

    fn quoted(line: &str, column: usize, span_chars: usize) -> Quote {
        let count = line.chars().count();
        let window = window(count, column);
        let units: Vec<String> = line
            .chars()
            .skip(window.start)
            .take(window.len())
            .map(|c| visible(&c.to_string()).into_owned())
            .collect();
        quote(&units, window, count, column, span_chars)
    }

    #[test]
    fn long_lines_are_quoted_as_a_window_around_the_column() {
        let line = format!("x = {}!{}", "[".repeat(500), "]".repeat(500));
        let long = quoted(&line, 505, 1);
        assert!(
            long.text.starts_with("...[") && long.text.ends_with("]..."),
            "{}",
            long.text
        );
        assert_eq!(long.text.chars().nth(long.column - 1), Some('!'));
        assert_eq!(long.text.chars().count(), 126);
        assert_eq!(long.width, 1);
        let short = quoted("short", 2, 3);
        assert_eq!(
            (short.text.as_str(), short.column, short.width),
            ("short", 2, 3)
        );
    }

    #[test]
    fn control_characters_in_a_quoted_line_are_shown_and_the_underline_follows_them() {
        let mut files = Files::default();
        // Raw controls reach a quote through a line that failed to parse: a bell and a CR that
        // would return the cursor and let the rest of the line overwrite what came before.
        let source = "# \u{7}\rfake\u{202e}\nx = 1 \u{1b}[2J \"bad\"\n";
        let id = files.add(Path::new("catalog/\u{1b}]0;t\u{7}.toml"), source.into());
        let start = source.find("\"bad\"").unwrap();
        let d = Diagnostic::usage("message\u{1b}[31m\nerror[forged]: line")
            .at(id, start..start + 5, "label\u{9b}")
            .also(id, 2..5, "")
            .help("help\r");
        let out = text(&files, &d);
        assert_eq!(
            out,
            "error[usage]: message\\u{1b}[31m\\nerror[forged]: line\n \
             --> catalog/\\u{1b}]0;t\\u{7}.toml:2:12\n  |\n\
             2 | x = 1 \\u{1b}[2J \"bad\"\n  |                 ^^^^^ label\\u{9b}\n \
             ::: catalog/\\u{1b}]0;t\\u{7}.toml:1:3\n  |\n\
             1 | # \\u{7}\\rfake\\u{202e}\n  |   --------\n  |\n  = help: help\\r\n"
        );
        for forbidden in ['\u{1b}', '\u{7}', '\r', '\u{9b}', '\u{202e}'] {
            assert!(!out.contains(forbidden), "{forbidden:?} in {out}");
        }
    }

    #[test]
    fn a_sensitive_span_is_never_quoted() {
        let mut files = Files::default();
        let source = "[keys.t]\nx = { fixture = \"ghp_SECRET\", owner = \"Bad Owner\" }\n";
        let id = files.add(Path::new("a.toml"), source.into());
        let value = source.find("\"ghp").unwrap()..source.find(", owner").unwrap();
        let finding = Diagnostic::credential_like_fixture("t", "a GitHub token")
            .at(id, value.clone(), "committed to git")
            .redact("a GitHub token");
        assert_eq!(
            text(&files, &finding).lines().nth(3),
            Some(
                "2 | x = { fixture = «redacted: looks like a GitHub token», owner = \"Bad Owner\" }"
            )
        );
        assert_eq!(
            text(&files, &finding).lines().nth(4),
            Some("  |                 ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ committed to git")
        );
        // Another diagnostic quoting the same line hides the span once the files know it, and
        // its underline still points at its own span.
        let owner = source.find("\"Bad").unwrap();
        let other = Diagnostic::usage("bad owner").at(id, owner..owner + 11, "here");
        assert!(text(&files, &other).contains("ghp_SECRET"));
        files.mark_sensitive(id, value, "a GitHub token");
        let shown = text(&files, &other);
        assert!(!shown.contains("ghp_"), "{shown}");
        let lines: Vec<&str> = shown.lines().collect();
        // Columns in characters: the marker's `«` and `»` are two bytes each.
        let column = |line: &str, at: usize| line[..at].chars().count();
        let at = column(lines[3], lines[3].find("\"Bad").unwrap());
        let caret = column(lines[4], lines[4].find('^').unwrap());
        assert_eq!(caret, at, "{shown}");
        // Machine-readable reports carry no snippet, and the message never the value.
        let json = json(&files, std::slice::from_ref(&finding), &[]);
        let github = github(&files, &[finding], &[]);
        assert!(
            !json.contains("ghp_") && !github.contains("ghp_"),
            "{json}{github}"
        );
        assert!(github.contains("a.toml,line=2,col=17"), "{github}");
    }

    #[test]
    fn drift_paths_and_diff_lines_are_made_visible() {
        let drift = Drift::Changed {
            path: "generated/\u{1b}[2J.yaml".into(),
            diff: "@@ -1 +1 @@\n-a: \u{1b}]0;x\u{7}\r\n+a: b\n".into(),
            line: 1,
        };
        let coloured = drift_text_in(&drift, true, Palette { enabled: true });
        assert_eq!(
            drift_text(&drift),
            "changed: generated/\\u{1b}[2J.yaml differs from the catalog\n\
             @@ -1 +1 @@\n-a: \\u{1b}]0;x\\u{7}\\r\n+a: b\n"
        );
        // The only escapes left are the palette's own colour codes.
        assert_eq!(coloured.matches('\u{1b}').count(), 8, "{coloured:?}");
        let github = github(&Files::default(), &[], &[drift]);
        assert!(!github.contains('\u{1b}'), "{github}");
    }

    #[test]
    fn json_reports_escape_what_serde_leaves_raw() {
        let d = Diagnostic::usage("del\u{7f} csi\u{9b} rlo\u{202e} esc\u{1b}");
        let out = json(&Files::default(), &[d], &[]);
        assert!(
            out.contains(r#""message": "del\u007f csi\u009b rlo\u202e esc\u001b""#),
            "{out}"
        );
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            parsed["diagnostics"][0]["message"],
            "del\u{7f} csi\u{9b} rlo\u{202e} esc\u{1b}"
        );
        assert_eq!(crate::terminal::visible_lines(&out), out);
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
        // Neither a message nor a file name can end the command and start a new one.
        let id = files.add(Path::new("b,x=1:2%.toml"), "k = 1\n".into());
        let d = Diagnostic::usage("50%\r\n::error::forged\u{1b}[2J").at(id, 0..1, "");
        assert_eq!(
            github(&files, &[d], &[]),
            "::error file=b%2Cx=1%3A2%25.toml,line=1,col=1,title=secretcat usage::50%25\\r\\n::error::forged\\u{1b}[2J\n"
        );
    }
}
