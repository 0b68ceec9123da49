//! The built-in templates (`templates/*.hbs`), written out in Rust. Handlebars builds a JSON copy
//! of every view and walks it; on a catalog of 10,000 secrets that was most of `check`'s time and
//! memory. These writers print the same views straight to text, and produce the very bytes the
//! `.hbs` files do: the property tests and `the_builtin_writers_match_the_templates` render every
//! catalog both ways and compare. The `.hbs` files stay the reference a `templates/` override
//! starts from, and an override is still rendered by handlebars.

use std::fmt::Write as _;

use serde::Serialize;

use super::Data;
use super::docs::DocsView;
use super::registry::markdown_cell as md;
use super::{Text, to_yaml};
use crate::model::Env;

/// The text of `data`'s output in `env` (`None`: the file shared by every environment).
pub(super) fn write(data: &Data, generated_by: &str, env: Env) -> Text {
    let mut out = String::new();
    match data {
        Data::KeyMap { store, keys } => {
            yaml_header(&mut out, generated_by, env);
            out.push_str(
                "# The Vault store every ExternalSecret reads from, and the key map:\n\
                 # alias -> Vault KV v2 key.\n---\n",
            );
            yaml_section(&mut out, "store", store);
            super::yaml_writer::string_map(&mut out, "keys", keys);
        }
        Data::Bundle {
            bundle,
            external_secrets,
        } => {
            yaml_header(&mut out, generated_by, env);
            let _ = writeln!(
                out,
                "# ExternalSecrets of the {} bundle `{}`.",
                bundle.kind.keyword(),
                bundle.name
            );
            out.push_str("# Every ESO default is written out, so Argo CD sees no drift.\n---\n");
            yaml_section(&mut out, "bundle", bundle);
            super::yaml_writer::external_secrets(&mut out, external_secrets);
        }
        Data::Fixtures {
            seeding,
            seeds,
            fixtures,
            generate,
            required,
        } => {
            yaml_header(&mut out, generated_by, env);
            let seeding = match seeding.is_empty() {
                true => "no environment".to_string(),
                false => seeding.join(", "),
            };
            let _ = writeln!(
                out,
                "# VAULT BOOTSTRAP FIXTURES - DEVELOPMENT ONLY.\n\
                 # The foundation-vault-bootstrap job seeds these into Vault KV v2 only where\n\
                 # fixtures are allowed ({seeding})."
            );
            if !seeds {
                out.push_str("# This environment does not seed fixtures: the map is empty.\n");
            }
            out.push_str(
                "# `__generate__` asks it for a stable per-cluster random value. Keys with\n\
                 # external values are absent: they come from the source their entry names.\n---\n",
            );
            super::yaml_writer::string_map(&mut out, "fixtures", fixtures);
            out.push_str(
                "# How to generate each `__generate__` value: its length and characters.\n",
            );
            yaml_section(&mut out, "generate", generate);
            if !required.is_empty() {
                out.push_str(
                    "# External keys that must hold a real value in Vault before ESO syncs.\n",
                );
                yaml_section(&mut out, "required", required);
            }
        }
        Data::Releases(view) => {
            yaml_header(&mut out, generated_by, env);
            out.push_str(
                "# Release toggles and ordering of the secret bundles: the store first, then each\n\
                 # bundle after the releases it `needs` (Helmfile), in its Argo CD `syncWave`.\n---\n",
            );
            yaml_section(&mut out, "store", &view.store);
            yaml_section(&mut out, "releases", &view.releases);
        }
        Data::Docs(view) => {
            // The one output that runs to many megabytes: written in pieces (see `Text`).
            let mut text = Text::new();
            docs(&mut text, view, generated_by);
            return text;
        }
        Data::Schema => out.push_str(&super::schema::render()),
    }
    Text::from(out)
}

fn yaml_header(out: &mut String, generated_by: &str, env: Env) {
    let _ = writeln!(
        out,
        "# {generated_by}\n\
         # Regenerate with: secretcat generate\n\
         # Long values are kept whole, so some lines pass 80 columns:\n\
         # yamllint disable rule:line-length"
    );
    if let Some(env) = env {
        let _ = writeln!(out, "# Environment: {env}.");
    }
}

/// `name:` and the value as YAML indented by two spaces, as `{{yaml value indent=2}}` writes it.
fn yaml_section(out: &mut String, name: &str, value: &impl Serialize) {
    let _ = writeln!(out, "{name}:");
    // Views are plain data; serde-saphyr fails only on maps with non-string keys, which no
    // view has. Should one ever appear, the property tests see the empty section.
    super::yaml_writer::indent_into(out, &to_yaml(value).unwrap_or_default());
}

/// SECRETS.md, line for line as `SECRETS.md.hbs`; blank-line runs are collapsed afterwards by
/// `tidy_markdown`, as for the template.
fn docs(out: &mut Text, view: &DocsView, generated_by: &str) {
    let store = &view.store;
    let counts = &view.counts;
    let _ = write!(
        out,
        "<!-- {generated_by} Regenerate with: secretcat generate -->\n\
         # Secrets\n\n\
         Every Kubernetes Secret of this platform, the Vault keys behind it and the workloads that read it.\n\
         Store: `{}/{}`, Vault KV v2 mount `{}`, default property\n\
         `{}`, refresh interval `{}`.\n\
         {} bundles, {} secrets, {} Vault keys, {} consumer links.\n\n",
        store.kind.keyword(),
        store.name,
        store.mount,
        store.property,
        store.refresh_interval,
        counts.bundles,
        counts.secrets,
        counts.keys,
        counts.consumers,
    );
    match &view.mermaid {
        Ok(text) => {
            let _ = writeln!(out, "```mermaid\n{text}```");
        }
        Err(edges) => {
            let _ = writeln!(
                out,
                "The graph store → bundles → secrets → consumers has {edges} edges, more than GitHub\n\
                 draws (Mermaid's limits: 500 edges, 50,000 characters); `secretcat graph --format dot` prints it\n\
                 for Graphviz, and `secretcat graph NAME` one secret's or key's part of it."
            );
        }
    }
    out.push('\n');
    if !view.environments.is_empty() {
        out.push_str(
            "## Environments\n\n\
             | environment | seeds fixtures | store | namespaces | description |\n\
             |---|---|---|---|---|\n",
        );
        for e in &view.environments {
            let fixtures = if e.fixtures { "yes" } else { "no" };
            row(
                out,
                &[
                    &code(e.name),
                    fixtures,
                    &code(&e.store),
                    &md(&e.namespaces),
                    &md(e.description),
                ],
            );
        }
        out.push('\n');
    }
    let _ = write!(
        out,
        "## Bundles\n\n\
         Applied in sync-wave order: the store (`{}/{}`) first, then each bundle after the bundles it needs.\n\n\
         | bundle | kind | release | namespace | secrets | environments | wave | needs | description |\n\
         |---|---|---|---|---|---|---|---|---|\n",
        store.kind.keyword(),
        store.name
    );
    for b in &view.bundles {
        row(
            out,
            &[
                &code(b.name),
                b.kind.keyword(),
                &code(b.release),
                &code(b.namespace),
                &b.secrets.to_string(),
                &md(&b.installed),
                &b.sync_wave.to_string(),
                &md(&b.needs),
                &md(b.description),
            ],
        );
    }
    out.push_str("\n## Service map\n\n");
    for s in &view.secrets {
        let _ = writeln!(out, "### `{}`\n", s.name);
        if !s.description.is_empty() {
            let _ = writeln!(out, "{}\n", md(s.description));
        }
        let _ = writeln!(
            out,
            "- Secret `{}` in namespace `{}`, synced by ExternalSecret `{}` (bundle `{}`)\n\
             - Owner: {}; environments: {}\n\n\
             | data key | Vault key | property |\n\
             |---|---|---|",
            s.target, s.namespace, s.external_secret, s.bundle, s.owner, s.environments
        );
        for d in &s.data {
            row(out, &[&code(d.data_key), &code(d.key), &code(d.property)]);
        }
        if !s.consumers.is_empty() {
            out.push_str(
                "\n| consumer | via | requires | owner | environments |\n|---|---|---|---|---|\n",
            );
            for c in &s.consumers {
                row(
                    out,
                    &[
                        c.name,
                        c.via.keyword(),
                        &md(&c.requires),
                        c.owner,
                        &md(&c.environments),
                    ],
                );
            }
        }
        out.push('\n');
    }
    if !view.unmanaged.is_empty() {
        out.push_str(
            "## Secrets created outside the catalog\n\n\
             Declared in `[unmanaged_secrets]`: an operator or a person creates them, secretcat renders nothing for them, and `secretcat verify` accepts the workloads that read them.\n\n\
             | Secret | created by | namespaces | data keys | owner | description |\n\
             |---|---|---|---|---|---|\n",
        );
        for u in &view.unmanaged {
            row(
                out,
                &[
                    &code(u.name),
                    &md(u.created_by),
                    &md(&u.namespaces),
                    &md(&u.keys),
                    u.owner,
                    &md(u.description),
                ],
            );
        }
        out.push('\n');
    }
    out.push_str(
        "## Vault keys\n\n\
         | Vault key | alias | owner | value | secrets | consumers |\n\
         |---|---|---|---|---|---|\n",
    );
    for k in &view.keys {
        row(
            out,
            &[
                &code(k.path),
                &code(k.alias),
                k.owner,
                &md(&k.source),
                &md(&k.secrets),
                &md(&k.consumers),
            ],
        );
    }
    out.push_str("\n## Ownership and rotation\n\n");
    for o in &view.owners {
        let _ = writeln!(out, "### {}", o.owner);
        // As `{{#if team}}`: an empty text counts as absent.
        if let Some(team) = o.team.filter(|team| !team.is_empty()) {
            let _ = write!(
                out,
                "\n{}, contact: {}.",
                md(team),
                md(o.contact.unwrap_or_default())
            );
            if let Some(description) = o.description.filter(|d| !d.is_empty()) {
                let _ = write!(out, " {}", md(description));
            }
            out.push('\n');
        }
        out.push_str("\n- Secrets: ");
        listed(out, o.secrets.iter().map(|s| format!("`{s}`")));
        out.push_str("\n- Vault keys: ");
        listed(out, o.keys.iter().map(|k| format!("`{}`", k.path)));
        out.push('\n');
        if !o.rotation.is_empty() {
            out.push_str("\n| secret or key | rotation |\n|---|---|\n");
            for r in &o.rotation {
                row(out, &[&code(r.name), &md(r.note)]);
            }
        }
        out.push('\n');
    }
}

/// One Markdown table row: `| a | b | c |`.
fn row(out: &mut Text, cells: &[&str]) {
    out.push('|');
    for cell in cells {
        out.push(' ');
        out.push_str(cell);
        out.push_str(" |");
    }
    out.push('\n');
}

/// `text` as inline code.
fn code(text: &str) -> String {
    format!("`{text}`")
}

/// `a, b, c`, or `none`.
fn listed(out: &mut Text, items: impl Iterator<Item = String>) {
    let mut any = false;
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&item);
        any = true;
    }
    if !any {
        out.push_str("none");
    }
}
