//! A TOML table held as a sorted Vec: a file's keys and secrets, a key's overrides, a secret's data
//! entries.
//!
//! Most of these tables hold one to three entries, and there is one per key or secret. A
//! `BTreeMap` allocates a node of eleven slots for each, which for 10,000 secrets came to more
//! memory than the catalog's text six times over; a Vec of exactly the entries does not. The
//! large tables hold large values, whose empty slots cost most of all. Entries are sorted by
//! name, so everything that walks a table sees them in the order a `BTreeMap` would give.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::raw::Name;

#[derive(Debug, Clone)]
pub struct Table<V> {
    entries: Vec<(Name, V)>,
}

impl<V> Default for Table<V> {
    fn default() -> Self {
        Table {
            entries: Vec::new(),
        }
    }
}

impl<V> Table<V> {
    /// A table of these entries; a name given twice keeps its last value, as a map would.
    pub fn from_entries(mut entries: Vec<(Name, V)>) -> Self {
        crate::model::sort_keeping_last(&mut entries);
        entries.shrink_to_fit();
        Table { entries }
    }

    pub fn get(&self, name: &str) -> Option<&V> {
        self.entries
            .binary_search_by(|(key, _)| key.value.as_str().cmp(name))
            .ok()
            .map(|index| &self.entries[index].1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Name, &V)> {
        self.entries.iter().map(|(name, value)| (name, value))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Name> {
        self.entries.iter().map(|(name, _)| name)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, value)| value)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'a, V> IntoIterator for &'a Table<V> {
    type Item = (&'a Name, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (Name, V)>, fn(&(Name, V)) -> (&Name, &V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(name, value)| (name, value))
    }
}

impl<V> IntoIterator for Table<V> {
    type Item = (Name, V);
    type IntoIter = std::vec::IntoIter<(Name, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Table<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TableVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for TableVisitor<V> {
            type Value = Table<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Table<V>, A::Error> {
                // A TOML deserializer's hint is the count of entries it already holds, so the
                // catalog's `keys` and `secrets` tables are allocated once, at their size.
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry::<Name, V>()? {
                    entries.push(entry);
                }
                Ok(Table::from_entries(entries))
            }
        }
        deserializer.deserialize_map(TableVisitor(PhantomData))
    }
}

// Editors see the table a map of names would give.
impl<V: schemars::JsonSchema> schemars::JsonSchema for Table<V> {
    fn inline_schema() -> bool {
        <BTreeMap<String, V>>::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        <BTreeMap<String, V>>::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        <BTreeMap<String, V>>::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <BTreeMap<String, V>>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::Table;
    use crate::load::spanned::Spanned;

    fn parse(text: &str) -> Table<i64> {
        #[derive(serde::Deserialize)]
        struct Doc {
            t: Table<i64>,
        }
        toml::from_str::<Doc>(text).expect("parses").t
    }

    #[test]
    fn entries_come_back_sorted_by_name_with_their_spans() {
        let text = "t = { zeta = 1, alpha = 2, mid = 3 }";
        let table = parse(text);
        let names: Vec<&str> = table.keys().map(|k| k.value.as_str()).collect();
        assert_eq!(names, ["alpha", "mid", "zeta"]);
        let zeta = table.keys().find(|k| k.value == "zeta").expect("zeta");
        assert_eq!(&text[zeta.span.clone()], "zeta");
        assert_eq!(table.get("mid"), Some(&3));
        assert_eq!(table.get("absent"), None);
        assert_eq!(table.len(), 3);
    }

    #[test]
    fn a_name_given_twice_keeps_its_last_value_like_a_map() {
        let name = |n: &str| Spanned::new(n.to_string(), 0..0);
        let table = Table::from_entries(vec![(name("b"), 1), (name("a"), 2), (name("b"), 3)]);
        let entries: Vec<(&str, i64)> = table.iter().map(|(k, v)| (k.value.as_str(), *v)).collect();
        assert_eq!(entries, [("a", 2), ("b", 3)]);
    }

    #[test]
    fn a_duplicate_key_in_toml_is_still_refused_by_the_parser() {
        #[derive(serde::Deserialize)]
        struct Doc {
            #[allow(dead_code)]
            t: Table<i64>,
        }
        assert!(toml::from_str::<Doc>("[t]\na = 1\na = 2\n").is_err());
    }
}
