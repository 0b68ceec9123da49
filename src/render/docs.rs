//! The view behind SECRETS.md: the service map, the Vault key → consumer matrix, and per-owner
//! ownership and rotation sections. Values of keys never appear here.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde::Serialize;

use super::views::source_summary;
use crate::model::Catalog;

#[derive(Serialize, PartialEq)]
pub struct DocsView<'a> {
    pub store: super::views::StoreView<'a>,
    pub counts: Counts,
    pub environments: Vec<EnvironmentRow<'a>>,
    pub bundles: Vec<BundleRow<'a>>,
    pub secrets: Vec<SecretRow<'a>>,
    pub unmanaged: Vec<UnmanagedRow<'a>>,
    /// Every key's row, shared with its owner's section.
    pub keys: Vec<Rc<KeyRow<'a>>>,
    pub owners: Vec<OwnerSection<'a>>,
    /// The whole graph as Mermaid, or its number of edges when GitHub would not draw it; the
    /// template context has it as `mermaid` and `graph_edges_not_drawn`.
    #[serde(skip)]
    pub mermaid: Result<String, usize>,
}

/// A Secret something other than ESO creates (`[unmanaged_secrets]`).
#[derive(Serialize, PartialEq)]
pub struct UnmanagedRow<'a> {
    pub name: &'a str,
    pub created_by: &'a str,
    /// "any", or the namespaces it is in.
    pub namespaces: String,
    /// "not declared", or its data keys.
    pub keys: String,
    pub owner: &'a str,
    pub description: &'a str,
}

#[derive(Serialize, PartialEq)]
pub struct Counts {
    pub bundles: usize,
    pub secrets: usize,
    pub keys: usize,
    pub consumers: usize,
}

#[derive(Serialize, PartialEq)]
pub struct EnvironmentRow<'a> {
    pub name: &'a str,
    pub fixtures: bool,
    pub store: String,
    pub namespaces: String,
    pub description: &'a str,
}

#[derive(Serialize, PartialEq)]
pub struct BundleRow<'a> {
    pub name: &'a str,
    pub kind: crate::model::BundleKind,
    pub release: &'a str,
    pub namespace: &'a str,
    pub secrets: usize,
    /// Where the bundle exists and is installed, e.g. "all; not installed in local".
    pub installed: String,
    pub sync_wave: i64,
    pub needs: String,
    pub description: &'a str,
}

#[derive(Serialize, PartialEq)]
pub struct SecretRow<'a> {
    pub name: &'a str,
    pub target: &'a str,
    pub bundle: &'a str,
    pub namespace: &'a str,
    pub external_secret: &'a str,
    pub owner: &'a str,
    pub environments: String,
    pub description: &'a str,
    pub rotation: &'a str,
    pub data: Vec<DataRow<'a>>,
    pub consumers: Vec<ConsumerRow<'a>>,
}

#[derive(Serialize, PartialEq)]
pub struct DataRow<'a> {
    pub data_key: &'a str,
    pub key: &'a str,
    pub property: &'a str,
}

#[derive(Serialize, PartialEq)]
pub struct ConsumerRow<'a> {
    pub name: &'a str,
    pub via: crate::model::Via,
    pub requires: String,
    pub owner: &'a str,
    pub environments: String,
}

#[derive(Serialize, PartialEq)]
pub struct KeyRow<'a> {
    pub path: &'a str,
    pub alias: &'a str,
    pub owner: &'a str,
    pub source: String,
    pub secrets: String,
    pub consumers: String,
    pub rotation: &'a str,
}

#[derive(Serialize, PartialEq)]
pub struct OwnerSection<'a> {
    pub owner: &'a str,
    /// Team and contact, when the owner is declared in `[owners]`.
    pub team: Option<&'a str>,
    pub contact: Option<&'a str>,
    pub description: Option<&'a str>,
    pub secrets: Vec<&'a str>,
    pub keys: Vec<Rc<KeyRow<'a>>>,
    pub rotation: Vec<RotationRow<'a>>,
}

#[derive(Serialize, PartialEq)]
pub struct RotationRow<'a> {
    pub name: &'a str,
    pub note: &'a str,
}

const NO_OWNER: &str = "(no owner)";

pub fn view(catalog: &Catalog) -> DocsView<'_> {
    let secrets: Vec<SecretRow> = catalog
        .secrets
        .values()
        .map(|s| SecretRow {
            name: &s.name,
            target: &s.target,
            bundle: &s.bundle,
            namespace: &s.namespace,
            external_secret: &s.external_secret,
            owner: s.owner.as_deref().unwrap_or(NO_OWNER),
            environments: listed(&s.environments),
            description: s.description.as_deref().unwrap_or(""),
            rotation: s.rotation.as_deref().unwrap_or(""),
            data: s
                .data
                .iter()
                .map(|(data_key, r)| DataRow {
                    data_key,
                    key: &r.key,
                    property: &r.property,
                })
                .chain(s.extract.iter().map(|key| DataRow {
                    data_key: "(every property)",
                    key,
                    property: "(all)",
                }))
                .collect(),
            consumers: s
                .consumers
                .iter()
                .map(|c| ConsumerRow {
                    name: &c.name,
                    via: c.via,
                    requires: c.requires.join(", "),
                    owner: c.owner.as_deref().unwrap_or(NO_OWNER),
                    environments: listed(&c.environments),
                })
                .collect(),
        })
        .collect();
    let mut owners: BTreeMap<&str, OwnerSection> = BTreeMap::new();
    for owner in catalog.owners.keys() {
        owner_section(catalog, &mut owners, owner);
    }
    for s in catalog.secrets.values() {
        let owner = s.owner.as_deref().unwrap_or(NO_OWNER);
        let entry = owner_section(catalog, &mut owners, owner);
        entry.secrets.push(&s.name);
        if let Some(note) = &s.rotation {
            entry.rotation.push(RotationRow {
                name: &s.name,
                note,
            });
        }
    }
    let keys: Vec<Rc<KeyRow>> = catalog
        .keys
        .values()
        .map(|k| Rc::new(key_row(catalog, k)))
        .collect();
    for (k, row) in catalog.keys.values().zip(&keys) {
        let owner = k.owner.as_deref().unwrap_or(NO_OWNER);
        let entry = owner_section(catalog, &mut owners, owner);
        entry.keys.push(Rc::clone(row));
        if let Some(note) = &k.rotation {
            entry.rotation.push(RotationRow {
                name: &k.path,
                note,
            });
        }
    }
    DocsView {
        store: super::views::store(catalog, None),
        counts: Counts {
            bundles: catalog.bundles.len(),
            secrets: catalog.secrets.len(),
            keys: catalog.keys.len(),
            consumers: catalog.consumers().len(),
        },
        environments: catalog
            .environments
            .values()
            .map(|e| EnvironmentRow {
                name: &e.name,
                fixtures: e.fixtures,
                store: format!("{}/{}", e.store.kind.keyword(), e.store.name)
                    + &e.store
                        .namespace
                        .as_ref()
                        .map_or(String::new(), |n| format!(" in {n}")),
                namespaces: e
                    .namespaces
                    .iter()
                    .map(|(from, to)| format!("{from} → {to}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                description: e.description.as_deref().unwrap_or(""),
            })
            .collect(),
        bundles: catalog
            .bundles
            .values()
            .map(|b| BundleRow {
                name: &b.name,
                kind: b.kind,
                release: &b.release,
                namespace: &b.namespace,
                secrets: b.secrets.len(),
                installed: match b.not_installed.as_slice() {
                    [] => listed(&b.environments),
                    off => format!(
                        "{}; not installed in {}",
                        listed(&b.environments),
                        off.join(", ")
                    ),
                },
                sync_wave: b.sync_wave,
                needs: b.needs.join(", "),
                description: b.description.as_deref().unwrap_or(""),
            })
            .collect(),
        secrets,
        unmanaged: catalog
            .unmanaged_secrets
            .values()
            .map(|u| UnmanagedRow {
                name: &u.name,
                created_by: &u.created_by,
                namespaces: u
                    .namespaces
                    .as_ref()
                    .map_or_else(|| "any".to_string(), |list| list.join(", ")),
                keys: u
                    .keys
                    .as_ref()
                    .map_or_else(|| "not declared".to_string(), |list| list.join(", ")),
                owner: u.owner.as_deref().unwrap_or(NO_OWNER),
                description: u.description.as_deref().unwrap_or(""),
            })
            .collect(),
        keys,
        owners: owners.into_values().collect(),
        mermaid: crate::graph::mermaid_for_docs(catalog),
    }
}

/// "all", or the environments a limit names.
fn listed(limit: &Option<Vec<String>>) -> String {
    limit
        .as_ref()
        .map_or_else(|| "all".into(), |e| e.join(", "))
}

fn owner_section<'m, 'a>(
    catalog: &'a Catalog,
    owners: &'m mut BTreeMap<&'a str, OwnerSection<'a>>,
    owner: &'a str,
) -> &'m mut OwnerSection<'a> {
    let declared = catalog.owners.get(owner);
    owners.entry(owner).or_insert_with(|| OwnerSection {
        owner,
        team: declared.map(|o| o.team.as_str()),
        contact: declared.map(|o| o.contact.as_str()),
        description: declared.and_then(|o| o.description.as_deref()),
        secrets: vec![],
        keys: vec![],
        rotation: vec![],
    })
}

fn key_row<'a>(catalog: &'a Catalog, k: &'a crate::model::Key) -> KeyRow<'a> {
    let mut consumers: Vec<&str> = k
        .used_by
        .iter()
        .flat_map(|s| catalog.secrets[s].consumers.iter().map(|c| c.name.as_str()))
        .collect();
    consumers.sort_unstable();
    consumers.dedup();
    KeyRow {
        path: &k.path,
        alias: &k.alias,
        owner: k.owner.as_deref().unwrap_or(NO_OWNER),
        source: std::iter::once(source_summary(&k.source, k.required))
            .chain(k.overrides.iter().filter_map(|(env, o)| {
                let source = o.source.as_ref().unwrap_or(&k.source);
                Some(format!(
                    "{env}: {}",
                    source_summary(source, k.required_in(Some(env)))
                ))
                .filter(|_| o.source.is_some() || o.required.is_some())
            }))
            .collect::<Vec<_>>()
            .join("; "),
        secrets: k.used_by.join(", "),
        consumers: consumers.join(", "),
        rotation: k.rotation.as_deref().unwrap_or(""),
    }
}
