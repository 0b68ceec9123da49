//! Catalog files are parsed here rather than by `toml::from_str` alone, for memory.
//!
//! The toml crate lexes a whole file into tokens, turns them all into events, and builds its own
//! table of the file before our types see any of it: it held up to 25 times the file's size at
//! once (a 12.6 MB catalog file peaked at 336 MB). Here tokens are lexed a chunk at a time, events
//! are built into a compact tree as they arrive (`tree`), and our types are read from that tree
//! (`de`): the tree takes about three and a half times the file's size.
//!
//! Any file that does not parse, or does not fit the catalog's types, is parsed again by
//! `toml::from_str`, whose result is the one reported: every error message, and any document this
//! parser is not sure of, stays the toml crate's. The property tests hold the two to the same
//! result, spans included, on every document this parser accepts.

mod de;
mod tree;

use serde::Deserialize;

/// Tokens lexed ahead of the parser: about 1.5 MB of them.
const CHUNK_TOKENS: usize = 64 * 1024;

/// Parse `text` into `T` exactly as `toml::from_str` would, errors included.
pub fn from_str<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, toml::de::Error> {
    from_str_in_chunks(text, CHUNK_TOKENS)
}

fn from_str_in_chunks<'a, T: Deserialize<'a>>(
    text: &'a str,
    chunk_tokens: usize,
) -> Result<T, toml::de::Error> {
    let parsed = tree::Document::parse(text, chunk_tokens)
        .and_then(|doc| T::deserialize(de::root(&doc)).ok());
    match parsed {
        Some(value) => Ok(value),
        None => toml::from_str(text),
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use proptest::prelude::*;
    use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};

    use super::*;
    use crate::load::raw::RawFile;
    use crate::load::spanned::Spanned;

    /// This parser's own result, without falling back to the toml crate.
    fn own<'a, T: Deserialize<'a>>(text: &'a str, chunk_tokens: usize) -> Option<T> {
        let doc = tree::Document::parse(text, chunk_tokens)?;
        T::deserialize(super::de::root(&doc)).ok()
    }

    /// Any TOML value with the span of every value and key in it, to compare trees exactly.
    #[derive(Debug)]
    #[allow(dead_code)] // Fields are compared through Debug.
    enum Node {
        Text(String),
        Integer(i64),
        Float(f64),
        Boolean(bool),
        Array(Vec<Spanned<Node>>),
        Table(Vec<(Spanned<String>, Spanned<Node>)>),
    }

    impl<'de> Deserialize<'de> for Node {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
            struct NodeVisitor;
            impl<'de> Visitor<'de> for NodeVisitor {
                type Value = Node;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("any value")
                }
                fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Node, E> {
                    Ok(Node::Text(v.to_string()))
                }
                fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Node, E> {
                    Ok(Node::Integer(v))
                }
                fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Node, E> {
                    Ok(Node::Float(v))
                }
                fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Node, E> {
                    Ok(Node::Boolean(v))
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                    let mut items = Vec::new();
                    while let Some(item) = seq.next_element()? {
                        items.push(item);
                    }
                    Ok(Node::Array(items))
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                    let mut entries = Vec::new();
                    while let Some(entry) = map.next_entry()? {
                        entries.push(entry);
                    }
                    // Entry order is not part of a table's meaning.
                    entries.sort_by(|a: &(Spanned<String>, _), b| a.0.value.cmp(&b.0.value));
                    Ok(Node::Table(entries))
                }
            }
            deserializer.deserialize_any(NodeVisitor)
        }
    }

    /// Both parsers agree: whatever this one accepts, the toml crate reads the same, spans
    /// included; and whatever the toml crate accepts, this one does too.
    fn assert_same_as_toml(text: &str) {
        let theirs = toml::from_str::<Node>(text).map(|node| format!("{node:#?}"));
        for chunk_tokens in [1, 7, CHUNK_TOKENS] {
            let ours = own::<Node>(text, chunk_tokens).map(|node| format!("{node:#?}"));
            match (&ours, &theirs) {
                (Some(ours), Ok(theirs)) => {
                    assert_eq!(ours, theirs, "chunks of {chunk_tokens}:\n{text}")
                }
                (Some(_), Err(error)) => panic!("accepted what toml rejects ({error}):\n{text}"),
                (None, Ok(_)) => {
                    panic!("rejected what toml accepts (chunks of {chunk_tokens}):\n{text}")
                }
                (None, Err(_)) => {}
            }
        }
    }

    /// Whatever this parser accepts, the toml crate reads the same, spans included.
    fn assert_never_differs(text: &str) {
        let theirs = toml::from_str::<Node>(text).map(|node| format!("{node:#?}"));
        for chunk_tokens in [1, CHUNK_TOKENS] {
            if let Some(ours) = own::<Node>(text, chunk_tokens) {
                let ours = format!("{ours:#?}");
                assert_eq!(
                    Ok(ours),
                    theirs.as_ref().map_err(|e| e.to_string()).cloned(),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn the_fuzz_corpus_never_reads_differently() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/compile");
        let mut accepted = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            // The fuzz target's split: one catalog file per part.
            for part in data.splitn(4, |&b| b == 0xFF) {
                let text = String::from_utf8_lossy(part);
                assert_never_differs(&text);
                accepted += usize::from(own::<Node>(&text, 1).is_some());
            }
        }
        assert!(accepted > 100, "{accepted}");
    }

    #[test]
    fn the_bundled_catalog_reads_as_the_toml_crate_reads_it() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog");
        let mut read = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            assert_same_as_toml(&text);
            let ours: RawFile = own(&text, 1).expect("accepted");
            let theirs: RawFile = toml::from_str(&text).unwrap();
            assert_eq!(format!("{ours:?}"), format!("{theirs:?}"));
            read += 1;
        }
        assert!(read > 10);
    }

    #[test]
    fn a_synthetic_catalog_reads_as_the_toml_crate_reads_it() {
        for (path, text) in crate::synthetic::catalog(1_200) {
            let ours: RawFile = own(&text, 64).unwrap_or_else(|| panic!("{path} accepted"));
            let theirs: RawFile = toml::from_str(&text).unwrap();
            assert_eq!(format!("{ours:?}"), format!("{theirs:?}"), "{path}");
        }
    }

    #[test]
    fn documents_the_spec_allows_read_the_same() {
        for text in [
            "",
            "\u{feff}a = 1\n",
            "a = 1\r\nb = 'x'\r\n",
            "a.b.c = 1\na.b.d = 2\n[e]\nf = [1, [2, 3], { g = 4 }]\n",
            "[x.y.z]\n[x]\nw = 1\n",
            "[fruit]\napple.color = 'red'\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true\n",
            "[[a]]\nb = 1\n[a.c]\nd = 2\n[[a]]\nb = 3\n[[a.e]]\n[[a.e]]\nf = 1\n",
            "t = { a.b = 1, a.c = 2, d = { e = 3 } }\n",
            "\"quoted key\" = \"\\u00e9\\n\\t\"\n'lit' = '''\nmulti\nline'''\nml = \"\"\"\\\n  folded \\\n  text\"\"\"\n",
            "a = [\n  1,\n  2, # comment\n]\n# trailing\n",
            "hex = 0xff\noct = 0o17\nbin = 0b101\nneg = -1_000\nbig = 9223372036854775807\n",
            "t = {\n  a = 1,\n  b = 2,\n}\n",
            "[a . b . 'c.d']\nx = true\n",
        ] {
            assert_same_as_toml(text);
            assert!(own::<Node>(text, 1).is_some(), "accepted:\n{text}");
        }
    }

    #[test]
    fn documents_the_spec_forbids_are_rejected() {
        for text in [
            "a = 1\na = 2\n",
            "[a]\n[a]\n",
            "a.b = 1\n[a]\n",
            "[a]\nb.c = 1\n[a.b]\n",
            "[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n",
            "a = {}\n[a]\n",
            "a = {}\na.b = 1\n",
            "a = [1]\n[[a]]\n",
            "[a]\n[[a]]\n",
            "a = 1\na.b = 2\n",
            "t = { a = { b = 1 }, a.c = 2 }\n",
            "a = \n",
            "[a\nb = 1\n",
            "a = \"\\q\"\n",
            "a = 99999999999999999999\n",
            "a = 1 b = 2\n",
            "a = [1,\n",
            "a = 1]\n[b]\n",
            "= 1\n",
        ] {
            assert!(
                toml::from_str::<Node>(text).is_err(),
                "toml rejects:\n{text}"
            );
            for chunk_tokens in [1, 7, CHUNK_TOKENS] {
                assert!(
                    own::<Node>(text, chunk_tokens).is_none(),
                    "rejected:\n{text}"
                );
            }
        }
    }

    #[test]
    fn long_tables_find_their_keys_however_they_are_written() {
        let mut long = String::new();
        for n in 0..40 {
            let _ = writeln!(long, "[t.k{n}]\nv = {n}");
        }
        let extended = format!("{long}[t.k7.more]\nw = 1\nt2 = {{ a = 1 }}\n");
        assert_same_as_toml(&extended);
        assert!(own::<Node>(&extended, 1).is_some());
        for again in ["[t.k39]\n", "[t.\"k\\u0031\"]\n", "[t.'k20']\n"] {
            let text = format!("{long}{again}");
            assert!(toml::from_str::<Node>(&text).is_err());
            assert!(own::<Node>(&text, 1).is_none(), "rejected:\n{again}");
        }
    }

    #[test]
    fn floats_and_datetimes_are_left_to_the_toml_crate_with_its_message() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Doc {
            n: i64,
        }
        assert!(own::<Node>("n = 1.5\n", 1).is_none());
        assert!(own::<Node>("n = 1979-05-27\n", 1).is_none());
        let ours = from_str::<Doc>("n = 1.5\n").unwrap_err().to_string();
        let theirs = toml::from_str::<Doc>("n = 1.5\n").unwrap_err().to_string();
        assert_eq!(ours, theirs);
        assert!(ours.contains("invalid type: floating point"), "{ours}");
    }

    #[test]
    fn errors_keep_the_toml_crates_words_and_place() {
        for text in [
            "[store]\nname = 1\n",
            "[keys.a]\nfixture = 'x'\nfixture = 'y'\n",
            "[nope]\n",
        ] {
            let ours = from_str::<RawFile>(text).unwrap_err();
            let theirs = toml::from_str::<RawFile>(text).unwrap_err();
            assert_eq!(ours.to_string(), theirs.to_string());
            assert_eq!(ours.span(), theirs.span());
        }
    }

    /// A random document over few names, so that keys, headers and dotted keys collide often.
    fn document() -> impl Strategy<Value = String> {
        let name = prop::sample::select(vec![
            "a",
            "b",
            "c",
            "\"a\"",
            "'b'",
            "\"a.b\"",
            "\"\\u0063\"",
        ]);
        let key = prop::collection::vec(name.clone(), 1..4).prop_map(|parts| parts.join("."));
        let scalar = prop::sample::select(vec![
            "1",
            "-2",
            "0x1f",
            "true",
            "'s'",
            "\"e\\u00e9\"",
            "1.5",
            "\"\"\"m\nl\"\"\"",
        ])
        .prop_map(str::to_string);
        let value = scalar.prop_recursive(3, 12, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|items| format!("[{}]", items.join(", "))),
                prop::collection::vec((name.clone(), inner), 0..3).prop_map(|pairs| {
                    let pairs: Vec<String> =
                        pairs.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                    format!("{{ {} }}", pairs.join(", "))
                }),
            ]
        });
        let line = prop_oneof![
            3 => (key.clone(), value).prop_map(|(k, v)| format!("{k} = {v}")),
            1 => key.clone().prop_map(|k| format!("[{k}]")),
            1 => key.prop_map(|k| format!("[[{k}]]")),
            1 => Just("# note".to_string()),
        ];
        prop::collection::vec(line, 0..12).prop_map(|lines| {
            let mut text = String::new();
            for line in lines {
                let _ = writeln!(text, "{line}");
            }
            text
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]
        #[test]
        fn random_documents_read_as_the_toml_crate_reads_them(text in document()) {
            if text.contains("1.5") {
                // Floats are the toml crate's to read; the rest of the document must still agree.
                let text = text.replace("1.5", "15");
                assert_same_as_toml(&text);
            } else {
                assert_same_as_toml(&text);
            }
        }
    }
}
