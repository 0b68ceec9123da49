//! A serde `Deserializer` over a parsed `Document`, answering the calls a type makes the way the
//! toml crate's deserializer does (its `de::deserializer`), including the `toml::Spanned`
//! protocol. Its errors carry no message: the caller asks the toml crate for one.

use std::fmt;
use std::slice;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde_spanned::de::{SpannedDeserializer, is_spanned};

use super::tree::{Document, Entry, Item, ROOT, Span, Str, Text, Value};

/// The value does not fit the type; which way is the toml crate's to say.
#[derive(Debug)]
pub struct Mismatch;

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the document does not fit the type")
    }
}

impl std::error::Error for Mismatch {}

impl de::Error for Mismatch {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Mismatch
    }
}

/// The root table, as `toml::from_str` presents it.
pub fn root<'t, 'a>(doc: &'t Document<'a>) -> ValueDeserializer<'t, 'a> {
    ValueDeserializer {
        doc,
        value: Value::Table(ROOT),
        span: Span::default(),
    }
}

pub struct ValueDeserializer<'t, 'a> {
    doc: &'t Document<'a>,
    value: Value,
    span: Span,
}

impl<'t, 'a> ValueDeserializer<'t, 'a> {
    fn of(doc: &'t Document<'a>, item: &'t Item) -> Self {
        ValueDeserializer {
            doc,
            value: item.value,
            span: item.span,
        }
    }
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'_, 'de> {
    type Error = Mismatch;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        match self.value {
            Value::String(text) => visit_text(self.doc, text, visitor),
            Value::Integer(number) => visitor.visit_i64(number),
            Value::Boolean(flag) => visitor.visit_bool(flag),
            Value::Array(array) => {
                let items = self.doc.array(array).items.iter();
                visitor.visit_seq(Items {
                    doc: self.doc,
                    items,
                })
            }
            Value::Table(table) => {
                let entries = self.doc.table(table).entries.iter();
                visitor.visit_map(Entries {
                    doc: self.doc,
                    entries,
                    value: None,
                })
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        let span = self.span;
        struct_or_spanned(self, span, name, visitor)
    }

    // No catalog type is a serde enum; the toml crate has its own rules for them.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Mismatch> {
        Err(Mismatch)
    }

    serde::forward_to_deserialize_any! {
        bool u8 u16 u32 u64 u128 i8 i16 i32 i64 i128 f32 f64 char str string seq
        bytes byte_buf map unit ignored_any unit_struct tuple_struct tuple identifier
    }
}

impl<'de> IntoDeserializer<'de, Mismatch> for ValueDeserializer<'_, 'de> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

struct Items<'t, 'a> {
    doc: &'t Document<'a>,
    items: slice::Iter<'t, Item>,
}

impl<'de> SeqAccess<'de> for Items<'_, 'de> {
    type Error = Mismatch;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Mismatch> {
        match self.items.next() {
            Some(item) => seed
                .deserialize(ValueDeserializer::of(self.doc, item))
                .map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Entries<'t, 'a> {
    doc: &'t Document<'a>,
    entries: slice::Iter<'t, Entry>,
    value: Option<&'t Item>,
}

impl<'de> MapAccess<'de> for Entries<'_, 'de> {
    type Error = Mismatch;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Mismatch> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(&entry.item);
        let key = KeyDeserializer {
            doc: self.doc,
            key: entry.key,
            span: entry.key_span,
        };
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Mismatch> {
        let item = self.value.take().ok_or(Mismatch)?;
        seed.deserialize(ValueDeserializer::of(self.doc, item))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A table's key: a string, or a `toml::Spanned` string.
struct KeyDeserializer<'t, 'a> {
    doc: &'t Document<'a>,
    key: Text,
    span: Span,
}

impl<'de> de::Deserializer<'de> for KeyDeserializer<'_, 'de> {
    type Error = Mismatch;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        visit_text(self.doc, self.key, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        let span = self.span;
        struct_or_spanned(self, span, name, visitor)
    }

    // Catalog tables are keyed by strings; any other key type is the toml crate's to read.
    serde::forward_to_deserialize_any! {
        bool u8 u16 u32 u64 u128 i8 i16 i32 i64 i128 f32 f64 char str string seq bytes byte_buf
        map option unit ignored_any unit_struct newtype_struct tuple_struct tuple enum identifier
    }
}

impl<'de> IntoDeserializer<'de, Mismatch> for KeyDeserializer<'_, 'de> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

fn visit_text<'de, V: Visitor<'de>>(
    doc: &Document<'de>,
    text: Text,
    visitor: V,
) -> Result<V::Value, Mismatch> {
    match doc.text(text) {
        Str::Source(text) => visitor.visit_borrowed_str(text),
        Str::Owned(text) => visitor.visit_str(text),
    }
}

/// A struct is read from a table, except `toml::Spanned`, which asks for the span first.
fn struct_or_spanned<'de, D, V>(
    deserializer: D,
    span: Span,
    name: &'static str,
    visitor: V,
) -> Result<V::Value, Mismatch>
where
    D: de::Deserializer<'de, Error = Mismatch> + IntoDeserializer<'de, Mismatch>,
    V: Visitor<'de>,
{
    if is_spanned(name) {
        visitor.visit_map(SpannedDeserializer::new(deserializer, span.range()))
    } else {
        deserializer.deserialize_any(visitor)
    }
}
