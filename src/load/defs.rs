//! Definitions of one kind (keys, secrets, bundles, ...) merged from every catalog file.
//!
//! They are held as one Vec sorted by name, of exactly the definitions: a B-tree of these large
//! values left about half of its slots empty (10,000 secrets: some 10 MB of keys' slots).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::ops::Index;

use super::Def;
use super::raw::Name;
use super::spanned::Spanned;
use super::table::Table;
use crate::diagnostics::Diagnostic;
use crate::source::FileId;

#[derive(Debug)]
pub struct Defs<T> {
    sorted: Vec<(String, Def<T>)>,
}

impl<T> Default for Defs<T> {
    fn default() -> Self {
        Defs { sorted: Vec::new() }
    }
}

impl<T> Defs<T> {
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&Def<T>> {
        self.sorted
            .binary_search_by(|(defined, _)| defined.as_str().cmp(name))
            .ok()
            .map(|at| &self.sorted[at].1)
    }

    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.sorted.iter().map(|(name, _)| name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Def<T>)> {
        self.sorted.iter().map(|(name, def)| (name, def))
    }
}

impl<T> Index<&str> for Defs<T> {
    type Output = Def<T>;
    fn index(&self, name: &str) -> &Def<T> {
        self.get(name).expect("a defined name")
    }
}

impl<T> IntoIterator for Defs<T> {
    type Item = (String, Def<T>);
    type IntoIter = std::vec::IntoIter<(String, Def<T>)>;
    fn into_iter(self) -> Self::IntoIter {
        self.sorted.into_iter()
    }
}

/// Gathers one kind's definitions file by file, reporting a name defined again at the file that
/// repeats it, in the order the files are merged.
pub(super) struct Merger<T> {
    kind: &'static str,
    defs: Vec<(String, Def<T>)>,
    /// Where each name is in `defs`.
    first: HashMap<String, usize>,
}

impl<T> Merger<T> {
    /// For `capacity` definitions in all, so the Vec is allocated once.
    pub(super) fn new(kind: &'static str, capacity: usize) -> Self {
        Merger {
            kind,
            defs: Vec::with_capacity(capacity),
            first: HashMap::with_capacity(capacity),
        }
    }

    pub(super) fn add(
        &mut self,
        file: FileId,
        defs: Table<Spanned<T>>,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        for (name, value) in defs {
            let Name { value: name, span } = name;
            match self.first.entry(name) {
                Entry::Occupied(first) => {
                    let (name, first) = &self.defs[*first.get()];
                    diagnostics.push(
                        Diagnostic::duplicate(self.kind, name)
                            .at(file, span, "defined again here")
                            .also(first.file, first.name_span.clone(), "first defined here"),
                    );
                }
                Entry::Vacant(slot) => {
                    let name = slot.key().clone();
                    slot.insert(self.defs.len());
                    let name_span = span;
                    self.defs.push((
                        name,
                        Def {
                            file,
                            name_span,
                            value,
                        },
                    ));
                }
            }
        }
    }

    pub(super) fn finish(self) -> Defs<T> {
        let mut sorted = self.defs;
        sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Defs { sorted }
    }
}
