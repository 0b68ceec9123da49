//! Source registry: every catalog file read, with its text and line starts, so any stage can turn a
//! byte span into `file:line:column` without holding on to paths or buffers of its own.

use std::ops::Range;
use std::path::{Path, PathBuf};

/// Index of one file in [`Files`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub usize);

/// One file read from disk (or named by a diagnostic without being read).
#[derive(Debug)]
pub struct SourceFile {
    /// Path as shown to the user: relative to the working directory when possible.
    pub display: String,
    /// Path as given on disk.
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
}

/// The registry of files a run has read.
#[derive(Debug, Default)]
pub struct Files {
    files: Vec<SourceFile>,
    /// Spans holding a suspected real credential, with its kind: no quoted line shows them.
    sensitive: Vec<(FileId, Range<usize>, &'static str)>,
}

/// A resolved position: 1-based line and column (column counted in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Files {
    pub fn add(&mut self, path: &Path, text: String) -> FileId {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        self.files.push(SourceFile {
            display: display_path(path),
            path: path.to_path_buf(),
            text,
            line_starts,
        });
        FileId(self.files.len() - 1)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0]
    }

    /// Mark a span as holding a suspected real credential of the kind named, so that every
    /// diagnostic quoting its line shows a marker in its place (see `report`).
    pub fn mark_sensitive(&mut self, file: FileId, span: Range<usize>, kind: &'static str) {
        self.sensitive.push((file, span, kind));
    }

    /// The sensitive spans of one file, with their kinds.
    pub fn sensitive(&self, file: FileId) -> impl Iterator<Item = (Range<usize>, &'static str)> {
        self.sensitive
            .iter()
            .filter(move |(f, _, _)| *f == file)
            .map(|(_, span, kind)| (span.clone(), *kind))
    }
}

impl SourceFile {
    /// Position of a byte offset; offsets past the end or inside a character clamp safely.
    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |prefix| prefix.chars().count())
            + 1;
        Position {
            line: line + 1,
            column,
        }
    }

    /// Byte offset of a 1-based line and column (columns in characters), clamped to the text.
    pub fn offset(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.max(1) - 1) else {
            return self.text.len();
        };
        let line_text = self.line_text(line.max(1));
        start
            + line_text
                .char_indices()
                .nth(column.max(1) - 1)
                .map_or(line_text.len(), |(i, _)| i)
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = self.line_starts.get(line - 1) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |&next| next);
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    /// Clamp a span to this file's text and to character boundaries.
    pub fn clamp(&self, span: Range<usize>) -> Range<usize> {
        let fit = |mut i: usize| {
            i = i.min(self.text.len());
            while !self.text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let start = fit(span.start);
        start..fit(span.end).max(start)
    }
}

/// A path as a user would type it: relative to the working directory when it lies below it.
pub fn display_path(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    let shown = relative.to_string_lossy().replace('\\', "/");
    shown.strip_prefix("./").unwrap_or(&shown).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let mut files = Files::default();
        let id = files.add(Path::new("a.toml"), "ab\nçd = 1\r\nlast".into());
        let file = files.get(id);
        assert_eq!(file.position(0), Position { line: 1, column: 1 });
        assert_eq!(file.position(3), Position { line: 2, column: 1 });
        // `ç` is two bytes but one column.
        assert_eq!(file.position(5), Position { line: 2, column: 2 });
        assert_eq!(file.position(999), Position { line: 3, column: 5 });
        assert_eq!(file.line_text(2), "çd = 1");
        assert_eq!(file.line_text(3), "last");
        assert_eq!(file.clamp(4..99), 3..16);
        assert_eq!(file.offset(2, 2), 5);
        assert_eq!(file.offset(9, 1), 16);
    }
}
