//! A rendered output's text, held in pieces of whole lines. The docs page of a large catalog
//! runs to many megabytes: grown as one String, it would be copied at every doubling, with the
//! old and the new copy held at once. In pieces it is never copied, and the pieces are compared
//! with the file on disk or written out one after another.

use std::borrow::Cow;
use std::fmt;

/// The size past which a piece is closed, at the next line end.
const PIECE_LEN: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// Every piece but the last ends with a line break.
    pieces: Vec<String>,
    piece_len: usize,
}

impl Default for Text {
    fn default() -> Self {
        Text {
            pieces: Vec::new(),
            piece_len: PIECE_LEN,
        }
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Text {
            pieces: vec![text],
            ..Text::default()
        }
    }
}

impl Text {
    pub fn new() -> Self {
        Text::default()
    }

    #[cfg(test)]
    fn with_piece_len(piece_len: usize) -> Self {
        Text {
            piece_len,
            ..Text::default()
        }
    }

    pub fn push_str(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.pieces.last_mut() {
            Some(last) if last.len() < self.piece_len || !last.ends_with('\n') => {
                last.push_str(text)
            }
            _ => {
                // Room for the piece and the line that closes it, so a piece is seldom moved.
                let mut piece = String::with_capacity(self.piece_len + self.piece_len / 8);
                piece.push_str(text);
                self.pieces.push(piece);
            }
        }
    }

    pub fn push(&mut self, c: char) {
        self.push_str(c.encode_utf8(&mut [0; 4]));
    }

    /// The pieces, in order; together they are the text.
    pub fn pieces(&self) -> &[String] {
        &self.pieces
    }

    pub fn ends_with(&self, c: char) -> bool {
        self.pieces.last().is_some_and(|last| last.ends_with(c))
    }

    /// The text as one string, borrowed when it is one piece.
    pub fn whole(&self) -> Cow<'_, str> {
        match self.pieces.as_slice() {
            [] => Cow::Borrowed(""),
            [only] => Cow::Borrowed(only),
            pieces => Cow::Owned(pieces.concat()),
        }
    }

    pub fn into_string(mut self) -> String {
        match self.pieces.len() {
            0 => String::new(),
            1 => self.pieces.pop().unwrap_or_default(),
            _ => self.pieces.concat(),
        }
    }

    /// Every line, without its line break; a text that ends with a line break has no empty
    /// line after it.
    fn lines(&self) -> impl Iterator<Item = &str> {
        self.pieces
            .iter()
            .flat_map(|piece| piece.split_terminator('\n'))
    }

    /// Collapse the blank-line runs template blocks leave behind, drop trailing white space,
    /// and end the text with exactly one line break.
    pub fn tidy_markdown(self) -> Text {
        if self.is_tidy() {
            return self;
        }
        let mut pieces = self.pieces;
        let mut blank = 0;
        for piece in &mut pieces {
            tidy_lines(piece, &mut blank);
        }
        // Trailing line breaks, which may fill whole pieces.
        while let Some(last) = pieces.last_mut() {
            let kept = last.trim_end_matches('\n').len();
            last.truncate(kept);
            if kept > 0 || pieces.len() == 1 {
                break;
            }
            pieces.pop();
        }
        match pieces.last_mut() {
            Some(last) => last.push('\n'),
            None => pieces.push("\n".to_string()),
        }
        Text {
            pieces,
            piece_len: self.piece_len,
        }
    }

    /// Whether `tidy_markdown` would leave the text as it is.
    fn is_tidy(&self) -> bool {
        let ends_with_blank_line = match self.pieces.as_slice() {
            [.., before, last] if last == "\n" => before.ends_with('\n'),
            [.., last] => last.ends_with("\n\n"),
            [] => false,
        };
        if !self.ends_with('\n') || ends_with_blank_line {
            return false;
        }
        let mut previous_blank = false;
        for line in self.lines() {
            if line.ends_with(char::is_whitespace) || (line.is_empty() && previous_blank) {
                return false;
            }
            previous_blank = line.is_empty();
        }
        true
    }
}

/// Tidy the whole lines of one piece in place, `blank` carrying the run of blank lines over
/// from the pieces before. Lines are moved forward rather than copied into a second piece.
/// Only whole characters (trailing white space) and whole lines are dropped, so the bytes stay
/// UTF-8.
fn tidy_lines(piece: &mut String, blank: &mut usize) {
    let mut bytes = std::mem::take(piece).into_bytes();
    let (mut read, mut write) = (0, 0);
    while read < bytes.len() {
        let end = bytes[read..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| read + i);
        let kept =
            std::str::from_utf8(&bytes[read..end]).map_or(end - read, |line| line.trim_end().len());
        *blank = if kept == 0 { *blank + 1 } else { 0 };
        if *blank <= 1 {
            bytes.copy_within(read..read + kept, write);
            write += kept;
            // Only the last line, when nothing before it was dropped, has no room for its break.
            match bytes.get_mut(write) {
                Some(byte) => *byte = b'\n',
                None => bytes.push(b'\n'),
            }
            write += 1;
        }
        read = end + 1;
    }
    bytes.truncate(write);
    *piece = String::from_utf8(bytes)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned());
}

impl fmt::Write for Text {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.push_str(text);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tidy(text: &str) -> String {
        Text::from(text.to_string()).tidy_markdown().into_string()
    }

    #[test]
    fn tidy_markdown_collapses_blank_runs_and_trailing_space_and_keeps_tidy_text() {
        for (text, tidied) in [
            ("a\n\n\nb  \n", "a\n\nb\n"),
            ("a\r\nb\n\n", "a\nb\n"),
            ("a", "a\n"),
            ("\na\n", "\na\n"),
            ("a\n\nb\n", "a\n\nb\n"),
            ("", "\n"),
            ("\n", "\n"),
            ("\n\n\n", "\n"),
            ("é \u{3000}\n\n\n\nü\t", "é\n\nü\n"),
            ("a\n \n\t\n\nb\n\n", "a\n\nb\n"),
        ] {
            assert_eq!(tidy(text), tidied, "{text:?}");
            let text = Text::from(text.to_string());
            assert_eq!(text.is_tidy(), text.whole() == tidied, "{text:?}");
        }
    }

    #[test]
    fn pieces_close_at_the_first_line_end_past_their_size() {
        let mut text = Text::with_piece_len(4);
        for part in ["ab", "cde", "f\n", "g", "\n", "hijkl\n", "m"] {
            text.push_str(part);
        }
        assert_eq!(text.pieces(), ["abcdef\n", "g\nhijkl\n", "m"]);
        assert_eq!(text.whole(), "abcdef\ng\nhijkl\nm");
    }

    proptest! {
        /// However a text falls into pieces, it tidies (and is found tidy) as one string does.
        #[test]
        fn tidying_in_pieces_is_tidying_the_whole(
            parts in proptest::collection::vec("[a \n\t]{0,6}", 0..24),
            piece_len in 1usize..12,
        ) {
            let whole: String = parts.concat();
            let mut pieces = Text::with_piece_len(piece_len);
            for part in &parts {
                pieces.push_str(part);
            }
            prop_assert_eq!(pieces.whole(), whole.as_str());
            for piece in pieces.pieces().iter().rev().skip(1) {
                prop_assert!(piece.ends_with('\n'), "{:?}", pieces.pieces());
            }
            let one = Text::from(whole.clone());
            prop_assert_eq!(pieces.is_tidy(), one.is_tidy(), "{:?}", pieces.pieces());
            prop_assert_eq!(
                pieces.tidy_markdown().into_string(),
                one.tidy_markdown().into_string()
            );
        }
    }
}
