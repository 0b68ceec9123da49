//! The catalog as a graph: store → bundles → secrets → consumers (and, for one key, the key
//! first). Rendered as Mermaid (GitHub draws it in Markdown) or Graphviz DOT. Labels are made
//! visible (`terminal`) and then quoted for the format, so no name can end a label or a line.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::model::Catalog;
use crate::terminal::visible;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

/// A node: a stable id and the label people see.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Node {
    id: String,
    label: String,
}

struct Graph {
    nodes: BTreeSet<Node>,
    edges: BTreeSet<(String, String)>,
}

/// Node ids keep letters and digits and spell every other character as `_XX` (its code), so two
/// names never share an id and every id is valid in both Mermaid and DOT.
fn node(kind: &str, name: &str, label: String) -> Node {
    let mut id = kind.to_string();
    if !name.is_empty() {
        id.push('_');
    }
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else {
            id.push_str(&format!("_{:x}", c as u32));
        }
    }
    Node { id, label }
}

/// The graph of the whole catalog, or of one secret or key (`focus`); `None` when `focus` names
/// neither.
fn build(catalog: &Catalog, focus: Option<&str>) -> Option<Graph> {
    let mut graph = Graph {
        nodes: BTreeSet::new(),
        edges: BTreeSet::new(),
    };
    let store = node(
        "store",
        "",
        format!("{} {}", catalog.store.kind.keyword(), catalog.store.name),
    );
    let secrets: Vec<&str> = match focus {
        None => catalog.secrets.keys().map(String::as_str).collect(),
        Some(name) if catalog.secrets.contains_key(name) => vec![name],
        Some(name) => {
            let key = catalog.keys.get(name)?;
            let key_node = node(
                "key",
                &key.path,
                format!("Vault key {}/{}", catalog.store.mount, key.path),
            );
            for secret in &key.used_by {
                graph.edges.insert((
                    key_node.id.clone(),
                    node("secret", secret, String::new()).id,
                ));
            }
            graph.nodes.insert(key_node);
            key.used_by.iter().map(String::as_str).collect()
        }
    };
    graph.nodes.insert(store.clone());
    for name in secrets {
        let secret = &catalog.secrets[name];
        let bundle = &catalog.bundles[&secret.bundle];
        let bundle_node = node(
            "bundle",
            &bundle.name,
            format!("{}: {}", bundle.kind.keyword(), bundle.release),
        );
        let secret_node = node(
            "secret",
            &secret.name,
            format!("{}/{}", secret.namespace, secret.target),
        );
        graph
            .edges
            .insert((store.id.clone(), bundle_node.id.clone()));
        graph
            .edges
            .insert((bundle_node.id.clone(), secret_node.id.clone()));
        for consumer in &secret.consumers {
            let consumer_node = node("consumer", &consumer.name, consumer.name.clone());
            graph
                .edges
                .insert((secret_node.id.clone(), consumer_node.id.clone()));
            graph.nodes.insert(consumer_node);
        }
        graph.nodes.insert(bundle_node);
        graph.nodes.insert(secret_node);
    }
    Some(graph)
}

/// Mermaid's default limits, which GitHub keeps: past either, a page shows an error box where the
/// diagram would be.
pub const MERMAID_MAX_EDGES: usize = 500;
pub const MERMAID_MAX_TEXT: usize = 50_000;

/// The whole catalog as Mermaid for SECRETS.md, or, when GitHub would refuse to draw it, the
/// number of edges it has.
pub fn mermaid_for_docs(catalog: &Catalog) -> Result<String, usize> {
    // Counted, not built: a large catalog's graph (every node id spelt out) is never drawn, and
    // building it only to count its edges was a fifth of the docs page's time.
    let edges = whole_graph_edges(catalog);
    if edges > MERMAID_MAX_EDGES {
        return Err(edges);
    }
    let graph = build(catalog, None).unwrap_or_else(|| unreachable!("no focus, always a graph"));
    let text = write(&graph, GraphFormat::Mermaid);
    match text.len() > MERMAID_MAX_TEXT {
        true => Err(edges),
        false => Ok(text),
    }
}

/// How many edges the whole catalog's graph (`build` without a focus) has: one from the store to
/// each bundle with secrets, one from each bundle to each of its secrets, one from each secret to
/// each workload reading it. Node ids are unique per name, so distinct names are distinct edges.
fn whole_graph_edges(catalog: &Catalog) -> usize {
    let bundles: BTreeSet<&str> = catalog
        .secrets
        .values()
        .map(|s| s.bundle.as_str())
        .collect();
    let consumers: usize = catalog
        .secrets
        .values()
        .map(|s| {
            let mut names: Vec<&str> = s.consumers.iter().map(|c| c.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            names.len()
        })
        .sum();
    bundles.len() + catalog.secrets.len() + consumers
}

/// The graph as text; `None` when `focus` names no secret or key.
pub fn render(catalog: &Catalog, focus: Option<&str>, format: GraphFormat) -> Option<String> {
    build(catalog, focus).map(|graph| write(&graph, format))
}

fn write(graph: &Graph, format: GraphFormat) -> String {
    let mut out = String::new();
    match format {
        GraphFormat::Mermaid => {
            out.push_str("flowchart LR\n");
            for n in &graph.nodes {
                // Mermaid ends a label at `"` and a statement at a line break.
                let label = visible(&n.label).replace('"', "#quot;");
                let shape = if n.id == "store" {
                    format!("[(\"{label}\")]")
                } else {
                    format!("[\"{label}\"]")
                };
                let _ = writeln!(out, "  {}{shape}", n.id);
            }
            for (from, to) in &graph.edges {
                let _ = writeln!(out, "  {from} --> {to}");
            }
        }
        GraphFormat::Dot => {
            out.push_str("digraph secretcat {\n  rankdir=LR;\n  node [shape=box];\n");
            for n in &graph.nodes {
                let label = visible(&n.label).replace('\\', "\\\\").replace('"', "\\\"");
                let _ = writeln!(out, "  {} [label=\"{label}\"];", n.id);
            }
            for (from, to) in &graph.edges {
                let _ = writeln!(out, "  {from} -> {to};");
            }
            out.push_str("}\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Graph, GraphFormat, build, node, whole_graph_edges, write};

    #[test]
    fn edges_are_counted_as_the_built_graph_has_them() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let repository = crate::compile(&root.join("catalog"), root);
        let synthetic = crate::synthetic::compiled;
        for compiled in [repository, synthetic(40), synthetic(700)] {
            let catalog = compiled.catalog.expect("compiles");
            let graph = build(&catalog, None).expect("a graph");
            assert_eq!(whole_graph_edges(&catalog), graph.edges.len());
        }
    }

    #[test]
    fn a_label_cannot_end_its_quotes_or_its_line() {
        let label = "a\"] --> x\nb\\ \u{1b}[2J".to_string();
        let graph = Graph {
            nodes: [node("secret", "s", label)].into_iter().collect(),
            edges: Default::default(),
        };
        assert_eq!(
            write(&graph, GraphFormat::Mermaid),
            "flowchart LR\n  secret_s[\"a#quot;] --> x\\nb\\ \\u{1b}[2J\"]\n"
        );
        assert_eq!(
            write(&graph, GraphFormat::Dot),
            "digraph secretcat {\n  rankdir=LR;\n  node [shape=box];\n  \
             secret_s [label=\"a\\\"] --> x\\\\nb\\\\ \\\\u{1b}[2J\"];\n}\n"
        );
    }

    #[test]
    fn ids_are_unique_and_plain() {
        assert_eq!(node("consumer", "a-b", String::new()).id, "consumer_a_2db");
        assert_ne!(
            node("consumer", "a-b", String::new()).id,
            node("consumer", "a_b", String::new()).id
        );
        assert_eq!(node("store", "", String::new()).id, "store");
    }
}
