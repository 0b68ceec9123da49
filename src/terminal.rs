//! Terminal safety: text that comes from a catalog, a template, a manifest or a Vault answer is
//! made visible before it reaches a terminal or a CI log, so it cannot move the cursor, retitle
//! the window, clear the screen or reorder what a reviewer reads (Trojan Source).
//!
//! `visible` and `visible_lines` escape one string; `Net` escapes a whole stream, as the last
//! defence for everything the CLI prints without going through `report`.

use std::borrow::Cow;
use std::io::{self, Write};

/// Whether a line break in the text is kept or shown as `\n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breaks {
    /// For a field printed on lines of its own (a description in `explain`).
    Keep,
    /// For a single-line field (a message, a label, a file name, a quoted source line): a line
    /// break in it must not start an output line the user did not write.
    Escape,
}

/// Whether `c` is shown escaped: every control character (C0, DEL, C1) but the tab, and the
/// bidirectional embedding, override and isolate characters.
fn escaped(c: char, breaks: Breaks) -> bool {
    match c {
        '\t' => false,
        '\n' => breaks == Breaks::Escape,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        c => c.is_control(),
    }
}

/// `c` as `escape_default` spells it (`\u{1b}`, `\r`, `\u{202e}`), or as it is.
pub fn push_char(out: &mut String, c: char, breaks: Breaks) {
    if escaped(c, breaks) {
        out.extend(c.escape_default());
    } else {
        out.push(c);
    }
}

/// `text` with its control and bidi characters escaped; borrowed when there are none.
pub fn visible_with(text: &str, breaks: Breaks) -> Cow<'_, str> {
    let Some(first) = text.find(|c| escaped(c, breaks)) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        push_char(&mut out, c, breaks);
    }
    Cow::Owned(out)
}

/// A single-line field made printable: line breaks are escaped too.
pub fn visible(text: &str) -> Cow<'_, str> {
    visible_with(text, Breaks::Escape)
}

/// A multi-line field made printable: line breaks (and tabs) are kept.
pub fn visible_lines(text: &str) -> Cow<'_, str> {
    visible_with(text, Breaks::Keep)
}

/// JSON text with every character `Net` would change spelt as a JSON `\uXXXX` escape.
/// serde_json escapes C0 inside strings but writes DEL, C1 and the bidi characters as they are;
/// outside strings JSON holds none of them, and its line breaks are kept. So the result means
/// the same to a JSON reader and passes the net unchanged.
pub fn json(text: String) -> String {
    if !text.contains(|c| escaped(c, Breaks::Keep)) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if escaped(c, Breaks::Keep) {
            // Every such character is in the Basic Multilingual Plane: one escape each.
            let _ = std::fmt::Write::write_fmt(&mut out, format_args!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A writer that escapes control and bidi characters on their way to `inner`, keeping line
/// breaks and tabs. A UTF-8 sequence split across two writes is held until it is complete;
/// bytes that are not UTF-8 (a lone 0x9B is CSI on some terminals) are shown as `\x9b`.
pub struct Net<'a> {
    inner: &'a mut dyn Write,
    /// The start of a UTF-8 sequence the last write ended inside (at most 3 bytes).
    pending: Vec<u8>,
}

impl<'a> Net<'a> {
    pub fn new(inner: &'a mut dyn Write) -> Self {
        Net {
            inner,
            pending: Vec::new(),
        }
    }

    /// The stream itself, for text that is already safe and carries our own colour codes (what
    /// `report` produced). An unfinished sequence before it is shown as the bytes it was.
    pub fn raw(&mut self) -> io::Result<&mut dyn Write> {
        self.finish()?;
        Ok(&mut *self.inner)
    }

    /// Show a sequence left unfinished by the last write as invalid bytes.
    pub fn finish(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let shown = invalid_bytes(&std::mem::take(&mut self.pending));
        self.inner.write_all(shown.as_bytes())
    }

    fn pass(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut rest = bytes;
        let mut out = String::new();
        loop {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    out.push_str(&visible_lines(text));
                    break;
                }
                Err(error) => {
                    let (valid, after) = rest.split_at(error.valid_up_to());
                    let valid = std::str::from_utf8(valid).unwrap_or_default();
                    out.push_str(&visible_lines(valid));
                    match error.error_len() {
                        Some(length) => {
                            out.push_str(&invalid_bytes(&after[..length]));
                            rest = &after[length..];
                        }
                        // The write ended inside a sequence: keep its start for the next one.
                        None => {
                            self.pending.extend_from_slice(after);
                            break;
                        }
                    }
                }
            }
        }
        self.inner.write_all(out.as_bytes())
    }
}

fn invalid_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\x{b:02x}")).collect()
}

impl Write for Net<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            self.pass(buf)?;
        } else {
            let mut joined = std::mem::take(&mut self.pending);
            joined.extend_from_slice(buf);
            self.pass(&joined)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Drop for Net<'_> {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_borrowed_and_unchanged() {
        for text in ["", "plain", "tab\tand é, 😀, \u{200f}rtl mark"] {
            assert!(
                matches!(visible(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
        assert!(matches!(visible_lines("a\nb"), Cow::Borrowed("a\nb")));
    }

    #[test]
    fn controls_and_bidi_are_spelt_as_rust_escapes() {
        let cases = [
            (
                "\u{1b}]0;PWNED\u{7}\u{1b}[2J",
                "\\u{1b}]0;PWNED\\u{7}\\u{1b}[2J",
            ),
            ("cr\rlf\n", "cr\\rlf\\n"),
            ("nul\0del\u{7f}", "nul\\u{0}del\\u{7f}"),
            // C1: U+009B is CSI to some terminals, U+0085 a line break to others.
            ("csi\u{9b}2J nel\u{85}", "csi\\u{9b}2J nel\\u{85}"),
            (
                "admin\u{202e} \u{2066}x\u{2069}\u{202a}",
                "admin\\u{202e} \\u{2066}x\\u{2069}\\u{202a}",
            ),
            ("tab\tstays", "tab\tstays"),
            // Only what is escaped changes: a backslash or quote of the text stays as it is.
            ("\\ \"'", "\\ \"'"),
        ];
        for (text, shown) in cases {
            assert_eq!(visible(text), shown, "{text:?}");
        }
        assert_eq!(visible_lines("one\ntwo\u{1b}\n"), "one\ntwo\\u{1b}\n");
        assert_eq!(visible_lines("a\r\nb"), "a\\r\nb");
    }

    fn through_net(writes: &[&[u8]]) -> String {
        let mut sink = Vec::new();
        {
            let mut net = Net::new(&mut sink);
            for bytes in writes {
                assert_eq!(net.write(bytes).unwrap(), bytes.len());
            }
        }
        String::from_utf8(sink).expect("the net writes UTF-8 only")
    }

    #[test]
    fn the_net_escapes_controls_and_keeps_breaks_and_tabs() {
        assert_eq!(
            through_net(&[b"a\tb\n\x1b[2J\x07", "\u{202e}\n".as_bytes()]),
            "a\tb\n\\u{1b}[2J\\u{7}\\u{202e}\n"
        );
    }

    #[test]
    fn the_net_joins_a_character_split_across_writes() {
        let csi = "\u{9b}".as_bytes();
        let euro = "€".as_bytes();
        let emoji = "😀".as_bytes();
        assert_eq!(
            through_net(&[&csi[..1], &csi[1..], &euro[..1], &euro[1..2], &euro[2..]]),
            "\\u{9b}€"
        );
        assert_eq!(through_net(&[b"x", &emoji[..3], &emoji[3..], b"y"]), "x😀y");
    }

    #[test]
    fn the_net_shows_invalid_bytes_as_hex() {
        // A raw 0x9B (CSI to an 8-bit terminal), a lone continuation byte and an overlong form.
        assert_eq!(through_net(&[b"a\x9b2Jb"]), "a\\x9b2Jb");
        assert_eq!(through_net(&[b"\x80\xc0\xafz"]), "\\x80\\xc0\\xafz");
        // A sequence that stops for good at the end of the stream.
        assert_eq!(through_net(&[b"ok", &"€".as_bytes()[..2]]), "ok\\xe2\\x82");
        // A started sequence broken by the next write's first byte.
        assert_eq!(through_net(&[b"\xe2", b"\n"]), "\\xe2\n");
    }

    #[test]
    fn raw_text_passes_untouched_after_what_was_pending() {
        let mut sink = Vec::new();
        {
            let mut net = Net::new(&mut sink);
            net.write_all(b"\xe2").unwrap();
            net.raw().unwrap().write_all(b"\x1b[31mred\x1b[0m").unwrap();
            net.write_all(b"\x1b").unwrap();
        }
        assert_eq!(sink, b"\\xe2\x1b[31mred\x1b[0m\\u{1b}");
    }
}
