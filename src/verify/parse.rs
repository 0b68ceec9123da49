//! One manifest file → its documents, numbered as a reader counts them.

use serde_json::Value;

use super::Manifest;

/// One non-empty document of a file.
pub(super) struct Document {
    /// 1-based position in the file, counting every `---` (empty documents included).
    pub number: usize,
    pub value: Value,
}

/// Deeper than any real manifest (CRD schemas reach a few dozen levels), shallow enough that
/// walking and dropping the tree recursively cannot exhaust a stack.
const MAX_DEPTH: usize = 200;

/// The stack of the parsing thread. Deserializing a nested document recurses once per level, with
/// frames of tens of KiB in a debug build; a test thread's 2 MiB would not hold `MAX_DEPTH`
/// levels. The stack is reserved, not committed: only what a document needs is ever touched.
const PARSE_STACK: usize = 64 << 20;

/// The documents of `manifest`, or why it cannot be read. `*.json` files are JSON (one value or a
/// stream of them); everything else is YAML, one or more documents. Parsed on a thread of its
/// own with a stack deep enough for any document the depth limit lets through.
pub(super) fn documents(manifest: &Manifest) -> Result<Vec<Document>, String> {
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .name("verify-parse".into())
            .stack_size(PARSE_STACK)
            .spawn_scoped(scope, || parse(manifest))
        {
            Ok(thread) => thread
                .join()
                .unwrap_or_else(|_| Err("the YAML parser failed on it".into())),
            // No thread to be had: the current one's stack has to do.
            Err(_) => parse(manifest),
        }
    })
}

fn parse(manifest: &Manifest) -> Result<Vec<Document>, String> {
    let text = manifest
        .text
        .strip_prefix('\u{feff}')
        .unwrap_or(&manifest.text);
    if manifest.name.to_ascii_lowercase().ends_with(".json") {
        return json(text);
    }
    let values: Vec<Value> =
        serde_saphyr::from_multiple_with_options(text, yaml_options(text.len())).map_err(
            |error| {
                let reason = error.to_string();
                let reason = reason.lines().next().unwrap_or_default().trim();
                let reason = reason.strip_prefix("error: ").unwrap_or(reason);
                format!("not valid YAML ({reason})")
            },
        )?;
    let numbers = document_numbers(text, values.len());
    Ok(numbers
        .into_iter()
        .zip(values)
        .map(|(number, value)| Document { number, value })
        .collect())
}

fn json(text: &str) -> Result<Vec<Document>, String> {
    let mut out = Vec::new();
    for (index, value) in serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .enumerate()
    {
        let value = value.map_err(|e| format!("not valid JSON ({e})"))?;
        out.push(Document {
            number: index + 1,
            value,
        });
    }
    Ok(out)
}

/// The parser's limits, grown with the input: a rendered platform easily has more than the
/// default 1,024 documents and 250,000 nodes, but without aliases a file cannot hold more nodes
/// or scalar bytes than it has bytes, so these caps keep the work linear in the input while
/// still stopping alias bombs (whose replay limits stay at their defaults).
fn yaml_options(len: usize) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_documents = budget.max_documents.max(len);
    budget.max_nodes = budget.max_nodes.max(len);
    budget.max_events = budget.max_events.max(len.saturating_mul(2));
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(len);
    budget.max_depth = MAX_DEPTH;
    serde_saphyr::options! { budget: Some(budget) }
}

/// The number of each of the `parsed` non-empty documents as a reader counts them: every
/// document a `---` line opens counts, empty or not, and so does content before the first `---`
/// or after a `...`. The parser skips empty and `null` documents, so the numbers come from a
/// scan of the document markers (at column 0, where YAML forbids them inside a scalar); should
/// the scan ever disagree with the parser, the documents are numbered as parsed.
fn document_numbers(text: &str, parsed: usize) -> Vec<usize> {
    struct Chunk {
        explicit: bool,
        content: Vec<String>,
    }
    let mut chunks = vec![Chunk {
        explicit: false,
        content: Vec::new(),
    }];
    for line in text.lines() {
        if let Some(rest) = marker(line, "---") {
            chunks.push(Chunk {
                explicit: true,
                content: Vec::new(),
            });
            if let (Some(content), Some(chunk)) = (content(rest), chunks.last_mut()) {
                chunk.content.push(content.into());
            }
        } else if marker(line, "...").is_some() {
            chunks.push(Chunk {
                explicit: false,
                content: Vec::new(),
            });
        } else if !line.starts_with('%')
            && let Some(content) = content(line)
            && let Some(chunk) = chunks.last_mut()
        {
            // Only the first few words matter: is the document `null`, or more?
            if chunk.content.len() < 2 {
                chunk.content.push(content.into());
            }
        }
    }
    let mut numbers = Vec::new();
    let mut number = 0;
    for chunk in &chunks {
        if !chunk.explicit && chunk.content.is_empty() {
            continue;
        }
        number += 1;
        let null = match chunk.content.as_slice() {
            [] => true,
            [only] => matches!(only.as_str(), "null" | "Null" | "NULL" | "~"),
            _ => false,
        };
        if !null {
            numbers.push(number);
        }
    }
    if numbers.len() == parsed {
        numbers
    } else {
        (1..=parsed).collect()
    }
}

/// The rest of `line` when it is the document marker `marker`.
fn marker<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(marker)?;
    (rest.is_empty() || rest.starts_with([' ', '\t'])).then_some(rest)
}

/// The content of a line without its comment, when there is any.
fn content(line: &str) -> Option<&str> {
    let trimmed = line.trim();
    (!trimmed.is_empty() && !trimmed.starts_with('#')).then_some(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(text: &str) -> Vec<usize> {
        let manifest = Manifest {
            name: "m.yaml".into(),
            text: text.into(),
        };
        documents(&manifest)
            .unwrap_or_else(|e| panic!("{e}"))
            .iter()
            .map(|d| d.number)
            .collect()
    }

    #[test]
    fn documents_are_numbered_as_a_reader_counts_them() {
        assert_eq!(numbers("kind: A\n---\nkind: B\n"), [1, 2]);
        assert_eq!(numbers("---\n# Source: a\nkind: A\n---\nkind: B\n"), [1, 2]);
        assert_eq!(
            numbers("---\n# Source: empty\n---\nkind: A\n---\n---\nnull\n---\nkind: B\n"),
            [2, 5]
        );
        assert_eq!(numbers("--- {kind: A}\n...\nkind: B\n"), [1, 2]);
        assert_eq!(numbers(""), Vec::<usize>::new());
        assert_eq!(numbers("# only a comment\n"), Vec::<usize>::new());
    }

    #[test]
    fn a_block_scalar_holding_dashes_does_not_confuse_the_numbering() {
        let text = "kind: A\ndata:\n  x: |\n    ---\n    y\n---\nkind: B\n";
        assert_eq!(numbers(text), [1, 2]);
    }

    #[test]
    fn hostile_yaml_is_an_error_not_a_panic() {
        let manifest = |text: String| Manifest {
            name: "m.yaml".into(),
            text,
        };
        let deep = format!("{}x{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(documents(&manifest(deep)).is_err());
        let mut block = String::new();
        for depth in 0..5_000 {
            block.push_str(&" ".repeat(depth));
            block.push_str("a:\n");
        }
        assert!(documents(&manifest(block)).is_err());
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..20 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            };
            bomb.push_str(&format!("b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(documents(&manifest(bomb)).is_err());
        assert!(documents(&manifest("a: [unclosed\n".into())).is_err());
        assert!(documents(&manifest("a: 1\na: 2\n".into())).is_err());
    }

    #[test]
    fn documents_just_below_the_depth_limit_parse_on_a_small_stack() {
        let mut block = String::from("kind: ConfigMap\n");
        for depth in 0..MAX_DEPTH - 5 {
            block.push_str(&" ".repeat(depth));
            block.push_str("a:\n");
        }
        block.push_str(&" ".repeat(MAX_DEPTH - 5));
        block.push_str("x\n");
        // This test runs on a 2 MiB test thread; the parser's own thread carries the depth.
        let manifest = Manifest {
            name: "deep.yaml".into(),
            text: block,
        };
        assert_eq!(documents(&manifest).map(|d| d.len()), Ok(1));
    }

    #[test]
    fn json_files_are_json_streams() {
        let manifest = Manifest {
            name: "list.JSON".into(),
            text: "{\"kind\": \"A\"}\n{\"kind\": \"B\"}".into(),
        };
        assert_eq!(documents(&manifest).map(|d| d.len()), Ok(2));
        let broken = Manifest {
            name: "x.json".into(),
            text: "{\"kind\": ".into(),
        };
        assert!(documents(&broken).is_err_and(|e| e.starts_with("not valid JSON")));
    }

    #[test]
    fn more_documents_than_the_parser_default_are_fine() {
        let text = "---\nkind: ConfigMap\n".repeat(3_000);
        assert_eq!(numbers(&text).len(), 3_000);
    }
}
