//! A parsed TOML document held as compact tables and arrays, built from toml_parser's events as
//! they arrive.
//!
//! The rules for which tables a header or a dotted key may open or extend are the toml crate's
//! (its `de::parser::document` and `inline_table`), so every document accepted here reads the same
//! as there. Where this builder is unsure it reports an error: the caller then parses the file
//! again with the toml crate, which decides and words the message.

use std::borrow::Cow;
use std::collections::hash_map::{self, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::ops::Range;

use toml_parser::decoder::{Encoding, ScalarKind};
use toml_parser::lexer::TokenKind;
use toml_parser::parser::{EventReceiver, RecursionGuard, ValidateWhitespace};
use toml_parser::{ErrorSink, ParseError, Raw, Source};

/// The toml crate's limits on nesting and on the parts of one key.
const MAX_DEPTH: u32 = 80;
const MAX_KEY_PARTS: usize = 80;

/// A table this long or longer is searched through a hash index instead of entry by entry: the
/// catalog's `secrets` and `keys` tables hold thousands of entries, most others a handful.
const INDEX_FROM: usize = 16;

/// A byte range of the source. Half the size of a `Range<usize>`; files of 4 GiB and more are left
/// to the toml crate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Span {
        // `parse` refuses sources whose offsets do not fit.
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    fn of(span: toml_parser::Span) -> Span {
        Span::new(span.start(), span.end())
    }

    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableId(u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrayId(u32);

/// Decoded text: the slice of the source it equals, or, where decoding changed it (escapes,
/// folded lines), a string of its own in `Document::owned`.
#[derive(Debug, Clone, Copy)]
pub enum Text {
    Source(Span),
    Owned(u32),
}

/// Decoded text as the deserializer hands it on: borrowed from the source where it can be.
pub enum Str<'t, 'a> {
    Source(&'a str),
    Owned(&'t str),
}

/// A value. Floats and datetimes are not here: no catalog field takes one, so a file holding one
/// is left to the toml crate, which reports the type error.
#[derive(Debug, Clone, Copy)]
pub enum Value {
    String(Text),
    Integer(i64),
    Boolean(bool),
    Array(ArrayId),
    Table(TableId),
}

#[derive(Debug)]
pub struct Item {
    pub value: Value,
    pub span: Span,
}

#[derive(Debug)]
pub struct Entry {
    pub key: Text,
    pub key_span: Span,
    pub item: Item,
}

/// How a table came to be, which decides what may add to it later.
#[derive(Debug, Clone, Copy, Default)]
struct Origin {
    /// Created on the way to a header or a dotted key, not defined yet.
    implicit: bool,
    /// Created or extended by a dotted key.
    dotted: bool,
    /// Written `{ ... }`, closed once written.
    inline: bool,
}

#[derive(Debug, Default)]
pub struct Table {
    pub entries: Vec<Entry>,
    origin: Origin,
    /// Its keys are in `Document::index`.
    indexed: bool,
}

#[derive(Debug, Default)]
pub struct Array {
    pub items: Vec<Item>,
    of_tables: bool,
}

/// A whole document: the root is the first table.
#[derive(Debug)]
pub struct Document<'a> {
    source: &'a str,
    tables: Vec<Table>,
    arrays: Vec<Array>,
    owned: Vec<Box<str>>,
    /// The position of each key in a long table, by the table and the key's hash. Two keys of
    /// one table with the same 64-bit hash are left to the toml crate rather than told apart.
    index: HashMap<(TableId, u64), u32>,
    hasher: RandomState,
}

pub const ROOT: TableId = TableId(0);

impl<'a> Document<'a> {
    /// Parse `text`, lexing at most about `chunk_tokens` tokens ahead of the parser. `None` when
    /// the text is not TOML this builder is sure of.
    pub fn parse(text: &'a str, chunk_tokens: usize) -> Option<Document<'a>> {
        if u32::try_from(text.len()).is_err() {
            return None;
        }
        let source = Source::new(text);
        let mut builder = Builder::new(text);
        let mut reported = false;
        {
            let mut sink = |_: ParseError| reported = true;
            let mut whitespace = ValidateWhitespace::new(&mut builder, source);
            let mut receiver = RecursionGuard::new(&mut whitespace, MAX_DEPTH);
            parse_in_chunks(source, &mut receiver, &mut sink, chunk_tokens);
        }
        let finished = !builder.failed
            && builder.frames.is_empty()
            && builder.header.is_none()
            && builder.pending.is_empty()
            && builder.key.is_empty();
        (finished && !reported).then_some(builder.doc)
    }

    pub fn table(&self, id: TableId) -> &Table {
        &self.tables[id.0 as usize]
    }

    pub fn array(&self, id: ArrayId) -> &Array {
        &self.arrays[id.0 as usize]
    }

    pub fn text<'t>(&'t self, text: Text) -> Str<'t, 'a> {
        match text {
            Text::Source(span) => Str::Source(&self.source[span.range()]),
            Text::Owned(at) => Str::Owned(&self.owned[at as usize]),
        }
    }

    fn str(&self, text: Text) -> &str {
        match self.text(text) {
            Str::Source(text) | Str::Owned(text) => text,
        }
    }

    /// Keep decoded text: as a slice of the source when it is one.
    fn keep(&mut self, decoded: Cow<'a, str>) -> Text {
        if let Cow::Borrowed(text) = &decoded {
            if text.is_empty() {
                return Text::Source(Span::default());
            }
            let start = (text.as_ptr() as usize).wrapping_sub(self.source.as_ptr() as usize);
            let end = start.wrapping_add(text.len());
            if self
                .source
                .get(start..end)
                .is_some_and(|slice| slice.as_ptr() == text.as_ptr())
            {
                return Text::Source(Span::new(start, end));
            }
        }
        self.owned.push(decoded.into_owned().into_boxed_str());
        Text::Owned(self.owned.len() as u32 - 1)
    }

    fn table_mut(&mut self, id: TableId) -> &mut Table {
        &mut self.tables[id.0 as usize]
    }

    fn new_table(&mut self, origin: Origin) -> TableId {
        self.tables.push(Table {
            origin,
            ..Table::default()
        });
        TableId(self.tables.len() as u32 - 1)
    }

    fn new_array(&mut self, of_tables: bool) -> ArrayId {
        self.arrays.push(Array {
            items: Vec::new(),
            of_tables,
        });
        ArrayId(self.arrays.len() as u32 - 1)
    }

    fn find(&self, table: TableId, key: Text) -> Option<usize> {
        let key = self.str(key);
        let entries = &self.table(table).entries;
        if self.table(table).indexed {
            let at = *self.index.get(&(table, self.hasher.hash_one(key)))? as usize;
            (self.str(entries[at].key) == key).then_some(at)
        } else {
            entries.iter().position(|entry| self.str(entry.key) == key)
        }
    }

    /// Add `key = value` to `table`, where `find` did not find the key. `None` on a hash
    /// collision.
    fn push(&mut self, table: TableId, key: &KeyPart, value: Value, span: Span) -> Option<()> {
        let item = Item { value, span };
        let entry = Entry {
            key: key.key,
            key_span: key.span,
            item,
        };
        let at = self.table(table).entries.len();
        self.table_mut(table).entries.push(entry);
        if self.table(table).indexed {
            self.index_key(table, key.key, at)?;
        } else if at + 1 >= INDEX_FROM {
            self.table_mut(table).indexed = true;
            for at in 0..=at {
                let key = self.table(table).entries[at].key;
                self.index_key(table, key, at)?;
            }
        }
        Some(())
    }

    fn index_key(&mut self, table: TableId, key: Text, at: usize) -> Option<()> {
        let hash = self.hasher.hash_one(self.str(key));
        match self.index.entry((table, hash)) {
            hash_map::Entry::Occupied(_) => None,
            hash_map::Entry::Vacant(slot) => {
                slot.insert(at as u32);
                Some(())
            }
        }
    }

    /// Walk `path` down from `table` for a header (`dotted` false) or a dotted key, creating the
    /// tables missing on the way. `None` where the path runs into a value it may not extend.
    fn descend(&mut self, mut table: TableId, path: &[KeyPart], dotted: bool) -> Option<TableId> {
        for part in path {
            table = match self.find(table, part.key) {
                None => self.add_table(
                    table,
                    part,
                    Origin {
                        implicit: true,
                        dotted,
                        inline: false,
                    },
                )?,
                Some(at) => match self.table(table).entries[at].item.value {
                    Value::Array(array) => {
                        let array = self.array(array);
                        match array.items.last() {
                            Some(Item {
                                value: Value::Table(last),
                                ..
                            }) if array.of_tables => *last,
                            _ => return None,
                        }
                    }
                    Value::Table(child) => {
                        let origin = &mut self.table_mut(child).origin;
                        if origin.inline || (dotted && !origin.implicit) {
                            return None;
                        }
                        origin.dotted |= dotted;
                        child
                    }
                    _ => return None,
                },
            };
        }
        Some(table)
    }

    /// Walk a dotted key's `path` inside an inline table.
    fn descend_inline(&mut self, mut table: TableId, path: &[KeyPart]) -> Option<TableId> {
        for part in path {
            table = match self.find(table, part.key) {
                None => {
                    let origin = Origin {
                        implicit: true,
                        dotted: true,
                        inline: true,
                    };
                    self.add_table(table, part, origin)?
                }
                Some(at) => match self.table(table).entries[at].item.value {
                    Value::Table(child) if self.table(child).origin.implicit => child,
                    _ => return None,
                },
            };
        }
        Some(table)
    }

    fn add_table(&mut self, parent: TableId, part: &KeyPart, origin: Origin) -> Option<TableId> {
        let child = self.new_table(origin);
        self.push(parent, part, Value::Table(child), part.span)?;
        Some(child)
    }

    /// Add `key = value` to `table` unless the key is taken.
    fn insert(&mut self, table: TableId, key: KeyPart, item: Item) -> Option<()> {
        if self.find(table, key.key).is_some() {
            return None;
        }
        self.push(table, &key, item.value, item.span)
    }

    /// `[path.key]`: define the table, which may exist only as an implicit one.
    fn open_table(&mut self, mut path: Vec<KeyPart>, header: Span) -> Option<TableId> {
        let key = path.pop()?;
        let parent = self.descend(ROOT, &path, false)?;
        let Some(at) = self.find(parent, key.key) else {
            let table = self.new_table(Origin::default());
            self.push(parent, &key, Value::Table(table), header)?;
            return Some(table);
        };
        let Value::Table(table) = self.table(parent).entries[at].item.value else {
            return None;
        };
        let origin = self.table(table).origin;
        if !origin.implicit || origin.dotted || origin.inline {
            return None;
        }
        self.table_mut(table).origin = Origin::default();
        // The toml crate re-inserts the table under the header's key: spans name the header.
        let entry = &mut self.table_mut(parent).entries[at];
        entry.key_span = key.span;
        entry.item.span = header;
        Some(table)
    }

    /// `[[path.key]]`: append a table to the array of tables, creating the array the first time.
    fn open_array_table(&mut self, mut path: Vec<KeyPart>, header: Span) -> Option<TableId> {
        let key = path.pop()?;
        let parent = self.descend(ROOT, &path, false)?;
        let array = match self.find(parent, key.key) {
            None => {
                let array = self.new_array(true);
                self.push(parent, &key, Value::Array(array), header)?;
                array
            }
            Some(at) => match self.table(parent).entries[at].item.value {
                Value::Array(array) if self.array(array).of_tables => array,
                _ => return None,
            },
        };
        let table = self.new_table(Origin::default());
        let item = Item {
            value: Value::Table(table),
            span: header,
        };
        self.arrays[array.0 as usize].items.push(item);
        Some(table)
    }
}

/// One part of a (possibly dotted) key, decoded.
#[derive(Debug, Clone)]
struct KeyPart {
    key: Text,
    span: Span,
}

/// An array or inline table whose closing bracket has not come yet.
enum Frame {
    Array {
        id: ArrayId,
        start: usize,
    },
    Inline {
        id: TableId,
        start: usize,
        key: Vec<KeyPart>,
    },
}

struct Builder<'a> {
    doc: Document<'a>,
    /// The table key/value pairs outside brackets go to: the root, then the last header's.
    section: TableId,
    /// The parts of the key being read.
    key: Vec<KeyPart>,
    /// The key of the section's key/value pair whose value is being read.
    pending: Vec<KeyPart>,
    /// An open header: whether it is `[[`, and where it starts.
    header: Option<(bool, usize)>,
    frames: Vec<Frame>,
    failed: bool,
}

impl<'a> Builder<'a> {
    fn new(source: &'a str) -> Builder<'a> {
        let mut doc = Document {
            source,
            tables: Vec::new(),
            arrays: Vec::new(),
            owned: Vec::new(),
            index: HashMap::new(),
            hasher: RandomState::new(),
        };
        let root = doc.new_table(Origin::default());
        Builder {
            doc,
            section: root,
            key: Vec::new(),
            pending: Vec::new(),
            header: None,
            frames: Vec::new(),
            failed: false,
        }
    }

    fn fail(&mut self, error: &mut dyn ErrorSink) {
        if !self.failed {
            self.failed = true;
            error.report_error(ParseError::new("left to the toml crate"));
        }
    }

    /// The source text of a key or scalar; `None` once the builder has failed.
    fn raw(&self, span: toml_parser::Span, encoding: Option<Encoding>) -> Option<Raw<'a>> {
        if self.failed {
            return None;
        }
        let text = self.doc.source.get(span.start()..span.end())?;
        Some(Raw::new_unchecked(text, encoding, span))
    }

    /// A value is complete: it goes to the open array or inline table, or to the section.
    fn value(&mut self, item: Item, error: &mut dyn ErrorSink) {
        let done = match self.frames.last_mut() {
            Some(Frame::Array { id, .. }) => {
                self.doc.arrays[id.0 as usize].items.push(item);
                Some(())
            }
            Some(Frame::Inline { id, key, .. }) => {
                let (table, mut path) = (*id, std::mem::take(key));
                path.pop().and_then(|key| {
                    let parent = self.doc.descend_inline(table, &path)?;
                    // A dotted key adds only to tables its siblings' dotted keys created.
                    if self.doc.table(parent).origin.dotted == path.is_empty() {
                        return None;
                    }
                    self.doc.insert(parent, key, item)
                })
            }
            None => {
                let mut path = std::mem::take(&mut self.pending);
                path.pop().and_then(|key| {
                    let dotted = !path.is_empty();
                    let parent = self.doc.descend(self.section, &path, dotted)?;
                    if dotted && !self.doc.table(parent).origin.implicit {
                        return None;
                    }
                    self.doc.insert(parent, key, item)
                })
            }
        };
        if done.is_none() {
            self.fail(error);
        }
    }

    fn close_header(&mut self, array: bool, span: toml_parser::Span, error: &mut dyn ErrorSink) {
        let (opened_array, start) = match self.header.take() {
            Some(header) => header,
            None => return self.fail(error),
        };
        let path = std::mem::take(&mut self.key);
        let header = Span::new(start, span.end());
        let table = if array != opened_array || path.len() > MAX_KEY_PARTS {
            None
        } else if array {
            self.doc.open_array_table(path, header)
        } else {
            self.doc.open_table(path, header)
        };
        match table {
            Some(table) => self.section = table,
            None => self.fail(error),
        }
    }
}

impl EventReceiver for Builder<'_> {
    fn std_table_open(&mut self, span: toml_parser::Span, error: &mut dyn ErrorSink) {
        self.open_header(false, span, error);
    }

    fn std_table_close(&mut self, span: toml_parser::Span, error: &mut dyn ErrorSink) {
        if !self.failed {
            self.close_header(false, span, error);
        }
    }

    fn array_table_open(&mut self, span: toml_parser::Span, error: &mut dyn ErrorSink) {
        self.open_header(true, span, error);
    }

    fn array_table_close(&mut self, span: toml_parser::Span, error: &mut dyn ErrorSink) {
        if !self.failed {
            self.close_header(true, span, error);
        }
    }

    fn inline_table_open(&mut self, span: toml_parser::Span, _error: &mut dyn ErrorSink) -> bool {
        let id = self.doc.new_table(Origin {
            inline: true,
            ..Origin::default()
        });
        self.frames.push(Frame::Inline {
            id,
            start: span.start(),
            key: Vec::new(),
        });
        true
    }

    fn inline_table_close(&mut self, span: toml_parser::Span, error: &mut dyn ErrorSink) {
        match self.frames.pop() {
            Some(Frame::Inline { id, start, key }) if key.is_empty() => {
                let span = Span::new(start, span.end());
                self.value(
                    Item {
                        value: Value::Table(id),
                        span,
                    },
                    error,
                );
            }
            _ => self.fail(error),
        }
    }

    fn array_open(&mut self, span: toml_parser::Span, _error: &mut dyn ErrorSink) -> bool {
        let id = self.doc.new_array(false);
        self.frames.push(Frame::Array {
            id,
            start: span.start(),
        });
        true
    }

    fn array_close(&mut self, span: toml_parser::Span, error: &mut dyn ErrorSink) {
        match self.frames.pop() {
            Some(Frame::Array { id, start }) => {
                let span = Span::new(start, span.end());
                self.value(
                    Item {
                        value: Value::Array(id),
                        span,
                    },
                    error,
                );
            }
            _ => self.fail(error),
        }
    }

    fn simple_key(
        &mut self,
        span: toml_parser::Span,
        encoding: Option<Encoding>,
        error: &mut dyn ErrorSink,
    ) {
        let Some(raw) = self.raw(span, encoding) else {
            return self.fail(error);
        };
        let mut key = Cow::Borrowed("");
        raw.decode_key(&mut key, error);
        let key = self.doc.keep(key);
        self.key.push(KeyPart {
            key,
            span: Span::of(span),
        });
    }

    fn key_val_sep(&mut self, _span: toml_parser::Span, error: &mut dyn ErrorSink) {
        if self.failed {
            return;
        }
        let key = std::mem::take(&mut self.key);
        if key.is_empty() || key.len() > MAX_KEY_PARTS {
            return self.fail(error);
        }
        match self.frames.last_mut() {
            Some(Frame::Inline { key: pending, .. }) if pending.is_empty() => *pending = key,
            None if self.pending.is_empty() => self.pending = key,
            _ => self.fail(error),
        }
    }

    fn scalar(
        &mut self,
        span: toml_parser::Span,
        encoding: Option<Encoding>,
        error: &mut dyn ErrorSink,
    ) {
        let Some(raw) = self.raw(span, encoding) else {
            return self.fail(error);
        };
        let mut decoded = Cow::Borrowed("");
        let value = match raw.decode_scalar(&mut decoded, error) {
            ScalarKind::String => Value::String(self.doc.keep(decoded)),
            ScalarKind::Boolean(value) => Value::Boolean(value),
            ScalarKind::Integer(radix) => match i64::from_str_radix(&decoded, radix.value()) {
                Ok(value) => Value::Integer(value),
                Err(_) => return self.fail(error),
            },
            ScalarKind::Float | ScalarKind::DateTime => return self.fail(error),
        };
        self.value(
            Item {
                value,
                span: Span::of(span),
            },
            error,
        );
    }

    fn error(&mut self, _span: toml_parser::Span, error: &mut dyn ErrorSink) {
        self.fail(error);
    }
}

impl Builder<'_> {
    fn open_header(&mut self, array: bool, span: toml_parser::Span, error: &mut dyn ErrorSink) {
        if self.header.is_some() || !self.frames.is_empty() || !self.pending.is_empty() {
            return self.fail(error);
        }
        self.key.clear();
        self.header = Some((array, span.start()));
    }
}

/// Lex and parse `source`, holding at most about `chunk_tokens` tokens at a time rather than the
/// whole file's: a chunk ends at a newline outside any brackets, where a TOML expression has just
/// ended, so each chunk parses as the document's next lines would.
fn parse_in_chunks(
    source: Source<'_>,
    receiver: &mut dyn EventReceiver,
    error: &mut dyn ErrorSink,
    chunk_tokens: usize,
) {
    let mut tokens = Vec::with_capacity(chunk_tokens.min(source.input().len() / 3 + 1));
    let mut depth = 0i64;
    for token in source.lex() {
        match token.kind() {
            TokenKind::LeftSquareBracket | TokenKind::LeftCurlyBracket => depth += 1,
            TokenKind::RightSquareBracket | TokenKind::RightCurlyBracket => depth -= 1,
            _ => {}
        }
        let boundary = token.kind() == TokenKind::Newline && depth == 0;
        tokens.push(token);
        if boundary && tokens.len() >= chunk_tokens {
            toml_parser::parser::parse_document(&tokens, receiver, error);
            tokens.clear();
        }
    }
    toml_parser::parser::parse_document(&tokens, receiver, error);
}
