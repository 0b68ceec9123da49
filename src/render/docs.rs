//! The view behind SECRETS.md: the service map, the Vault key → consumer matrix, and per-owner
//! ownership and rotation sections. Values of keys never appear here.

use std::collections::BTreeMap;

use serde::Serialize;

use super::views::source_summary;
use crate::model::Catalog;

#[derive(Serialize)]
pub struct DocsView<'a> {
    pub store: super::views::StoreView<'a>,
    pub counts: Counts,
    pub bundles: Vec<BundleRow<'a>>,
    pub secrets: Vec<SecretRow<'a>>,
    pub keys: Vec<KeyRow<'a>>,
    pub owners: Vec<OwnerSection<'a>>,
}

#[derive(Serialize)]
pub struct Counts {
    pub bundles: usize,
    pub secrets: usize,
    pub keys: usize,
    pub consumers: usize,
}

#[derive(Serialize)]
pub struct BundleRow<'a> {
    pub name: &'a str,
    pub kind: crate::model::BundleKind,
    pub release: &'a str,
    pub namespace: &'a str,
    pub secrets: usize,
    pub description: &'a str,
}

#[derive(Serialize)]
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

#[derive(Serialize)]
pub struct DataRow<'a> {
    pub data_key: &'a str,
    pub key: &'a str,
    pub property: &'a str,
}

#[derive(Serialize)]
pub struct ConsumerRow<'a> {
    pub name: &'a str,
    pub via: crate::model::Via,
    pub requires: String,
}

#[derive(Serialize)]
pub struct KeyRow<'a> {
    pub path: &'a str,
    pub alias: &'a str,
    pub owner: &'a str,
    pub source: String,
    pub secrets: String,
    pub consumers: String,
    pub rotation: &'a str,
}

#[derive(Serialize)]
pub struct OwnerSection<'a> {
    pub owner: &'a str,
    pub secrets: Vec<&'a str>,
    pub keys: Vec<KeyRow<'a>>,
    pub rotation: Vec<RotationRow<'a>>,
}

#[derive(Serialize)]
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
            environments: s
                .environments
                .as_ref()
                .map_or_else(|| "all".into(), |e| e.join(", ")),
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
                .collect(),
            consumers: s
                .consumers
                .iter()
                .map(|c| ConsumerRow {
                    name: &c.name,
                    via: c.via,
                    requires: c.requires.join(", "),
                })
                .collect(),
        })
        .collect();
    let mut owners: BTreeMap<&str, OwnerSection> = BTreeMap::new();
    for s in catalog.secrets.values() {
        let owner = s.owner.as_deref().unwrap_or(NO_OWNER);
        let entry = owner_section(&mut owners, owner);
        entry.secrets.push(&s.name);
        if let Some(note) = &s.rotation {
            entry.rotation.push(RotationRow {
                name: &s.name,
                note,
            });
        }
    }
    for k in catalog.keys.values() {
        let owner = k.owner.as_deref().unwrap_or(NO_OWNER);
        let entry = owner_section(&mut owners, owner);
        entry.keys.push(key_row(catalog, k));
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
        bundles: catalog
            .bundles
            .values()
            .map(|b| BundleRow {
                name: &b.name,
                kind: b.kind,
                release: &b.release,
                namespace: &b.namespace,
                secrets: b.secrets.len(),
                description: b.description.as_deref().unwrap_or(""),
            })
            .collect(),
        secrets,
        keys: catalog.keys.values().map(|k| key_row(catalog, k)).collect(),
        owners: owners.into_values().collect(),
    }
}

fn owner_section<'m, 'a>(
    owners: &'m mut BTreeMap<&'a str, OwnerSection<'a>>,
    owner: &'a str,
) -> &'m mut OwnerSection<'a> {
    owners.entry(owner).or_insert_with(|| OwnerSection {
        owner,
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
        source: source_summary(k),
        secrets: k.used_by.join(", "),
        consumers: consumers.join(", "),
        rotation: k.rotation.as_deref().unwrap_or(""),
    }
}
