//! What exists: every Secret the catalog produces, the unmanaged secrets it declares, and the
//! Secrets the manifests define themselves, indexed by name once, so that resolving a reference
//! is a few map lookups however large the catalog and the manifests are.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use super::walk::{Namespace, Path, Reference, Resource};
use crate::diagnostics::Diagnostic;
use crate::model::Catalog;
use crate::suggest;

/// One catalog secret as a Kubernetes Secret.
struct Produced<'a> {
    /// Every namespace it is synced to.
    namespaces: BTreeSet<&'a str>,
    keys: Vec<&'a str>,
    /// It may hold keys the catalog cannot name (`extract` without a replacing template).
    unknown_keys: bool,
}

/// An unmanaged secret: where it exists (`None`: in every namespace) and its keys (`None`: not
/// known).
struct Unmanaged<'a> {
    namespaces: Option<BTreeSet<&'a str>>,
    keys: Option<Vec<&'a str>>,
}

/// A Secret the manifests define: where, and its keys (`None`: not known).
type DefinedAt<'a> = (&'a Namespace, Option<&'a BTreeSet<String>>);

pub(super) struct Index<'a> {
    catalog: HashMap<&'a str, Vec<Produced<'a>>>,
    unmanaged: HashMap<&'a str, Unmanaged<'a>>,
    defined: HashMap<&'a str, Vec<DefinedAt<'a>>>,
    /// Every Secret name that exists somewhere, for "did you mean".
    names: suggest::Index<'a>,
    /// The keys a Secret has in a namespace (by name and namespace as shown), for "did you
    /// mean", built on its first unknown key.
    keys: RefCell<HashMap<(String, String), suggest::Index<'a>>>,
}

impl<'a> Index<'a> {
    /// Without an environment, the manifests may have been rendered for any of them, so a
    /// catalog secret exists in each namespace some environment installs it in: `ameide`, and
    /// `ameide-prod` where production maps `ameide` there. With one, only where that environment
    /// installs it: a secret production leaves out (`not_installed`) is missing there even though
    /// its ExternalSecret is rendered. A secret no environment installs produces nothing.
    /// Unmanaged secrets' namespaces are catalog namespaces too, mapped the same way.
    pub(super) fn new(
        catalog: &'a Catalog,
        env: Option<&'a str>,
        defined: impl Iterator<Item = (&'a str, &'a Namespace, Option<&'a BTreeSet<String>>)>,
    ) -> Self {
        let envs = match env {
            Some(env) => vec![Some(env)],
            None => catalog.envs(),
        };
        let mut produced: HashMap<&'a str, Vec<Produced<'a>>> = HashMap::new();
        for secret in catalog.secrets.values() {
            let namespaces: BTreeSet<&str> = envs
                .iter()
                .filter(|env| catalog.installed_in(secret, **env))
                .map(|env| catalog.namespace_in(&secret.namespace, *env))
                .collect();
            if namespaces.is_empty() {
                continue;
            }
            produced
                .entry(secret.target.as_str())
                .or_default()
                .push(Produced {
                    namespaces,
                    keys: secret.provided_keys(),
                    unknown_keys: secret.provides_unknown_keys(),
                });
        }
        let unmanaged: HashMap<&str, Unmanaged> = catalog
            .unmanaged_secrets
            .iter()
            .map(|(name, secret)| {
                let namespaces = secret.namespaces.as_ref().map(|list| {
                    envs.iter()
                        .flat_map(|env| list.iter().map(|ns| catalog.namespace_in(ns, *env)))
                        .collect()
                });
                let keys = secret
                    .keys
                    .as_ref()
                    .map(|keys| keys.iter().map(String::as_str).collect());
                (name.as_str(), Unmanaged { namespaces, keys })
            })
            .collect();
        let mut by_name: HashMap<&'a str, Vec<DefinedAt<'a>>> = HashMap::new();
        for (name, namespace, keys) in defined {
            by_name.entry(name).or_default().push((namespace, keys));
        }
        let names = suggest::Index::new(
            produced
                .keys()
                .chain(unmanaged.keys())
                .chain(by_name.keys())
                .copied(),
        );
        Index {
            catalog: produced,
            unmanaged,
            defined: by_name,
            names,
            keys: RefCell::default(),
        }
    }

    /// The findings about one reference, each with the path it is at.
    ///
    /// `optional: true` (on `secretKeyRef`, `secretRef`, a secret volume or projection) still
    /// makes a reference, but a Secret, namespace or key missing under it is no finding:
    /// Kubernetes starts the pod without it, which is what `optional` asks for.
    pub(super) fn resolve(
        &self,
        file: &str,
        resource: &Resource,
        reference: &Reference,
    ) -> Vec<(Path, Diagnostic)> {
        let name = reference.secret.as_str();
        let here = &reference.namespace;
        let produced = self.catalog.get(name).map_or(&[][..], Vec::as_slice);
        let unmanaged = self.unmanaged.get(name);
        let defined = self.defined.get(name).map_or(&[][..], Vec::as_slice);

        let mut exists = false;
        let mut unknown_keys = false;
        let mut keys: BTreeSet<&'a str> = BTreeSet::new();
        for p in produced
            .iter()
            .filter(|p| in_namespace(&p.namespaces, here))
        {
            exists = true;
            unknown_keys |= p.unknown_keys;
            keys.extend(p.keys.iter().copied());
        }
        if let Some(u) = unmanaged.filter(|u| unmanaged_in(u, here)) {
            exists = true;
            match &u.keys {
                Some(list) => keys.extend(list.iter().copied()),
                None => unknown_keys = true,
            }
        }
        for (namespace, defined_keys) in defined {
            if same_namespace(namespace, here) {
                exists = true;
                match defined_keys {
                    Some(list) => keys.extend(list.iter().map(String::as_str)),
                    None => unknown_keys = true,
                }
            }
        }

        if reference.optional {
            return Vec::new();
        }
        let at = resource.at(&reference.path);
        if !exists {
            let elsewhere: BTreeSet<&str> = produced
                .iter()
                .flat_map(|p| p.namespaces.iter().copied())
                .chain(
                    unmanaged
                        .and_then(|u| u.namespaces.as_ref())
                        .into_iter()
                        .flatten()
                        .copied(),
                )
                .collect();
            let diagnostic = if elsewhere.is_empty() {
                Diagnostic::unknown_secret(file, &at, name, here.shown(), self.suggest(name))
            } else {
                let elsewhere: Vec<&str> = elsewhere.into_iter().collect();
                Diagnostic::secret_not_in_namespace(file, &at, name, here.shown(), &elsewhere)
            };
            return vec![(reference.path.clone(), diagnostic)];
        }
        if unknown_keys {
            return Vec::new();
        }
        let provided: Vec<&str> = keys.iter().copied().collect();
        let mut suggestions = self.keys.borrow_mut();
        reference
            .keys
            .iter()
            .filter(|(key, _)| !keys.contains(key.as_str()))
            .map(|(key, path)| {
                let index = suggestions
                    .entry((name.to_string(), here.shown().to_string()))
                    .or_insert_with(|| suggest::Index::new(keys.iter().copied()));
                let diagnostic = Diagnostic::unknown_secret_key(
                    file,
                    &resource.at(path),
                    name,
                    key,
                    index.closest(key),
                    &provided,
                );
                (path.clone(), diagnostic)
            })
            .collect()
    }

    /// Whether the catalog declares the Secret `name` in `namespace`: a catalog secret produces
    /// it there, or an unmanaged secret is declared there.
    pub(super) fn declares(&self, name: &str, namespace: &Namespace) -> bool {
        self.catalog
            .get(name)
            .is_some_and(|list| list.iter().any(|p| in_namespace(&p.namespaces, namespace)))
            || self
                .unmanaged
                .get(name)
                .is_some_and(|u| unmanaged_in(u, namespace))
    }

    /// The closest existing Secret name, computed once per unknown name.
    fn suggest(&self, name: &str) -> Option<&'a str> {
        self.names.closest(name)
    }
}

fn in_namespace(namespaces: &BTreeSet<&str>, here: &Namespace) -> bool {
    match here {
        Namespace::Any => true,
        Namespace::Named(ns) => namespaces.contains(ns.as_str()),
    }
}

fn unmanaged_in(secret: &Unmanaged, here: &Namespace) -> bool {
    match &secret.namespaces {
        None => true,
        Some(namespaces) => in_namespace(namespaces, here),
    }
}

fn same_namespace(defined: &Namespace, here: &Namespace) -> bool {
    match (defined, here) {
        (Namespace::Any, _) | (_, Namespace::Any) => true,
        (Namespace::Named(a), Namespace::Named(b)) => a == b,
    }
}
