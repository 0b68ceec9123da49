//! A deterministic synthetic catalog of any size, for benchmarks (`benches/`,
//! `scripts/bench-peers.sh`) and scale tests. It looks like a real platform's catalog, grown:
//! fragments per team, bundles of every kind, three keys per secret with every value source
//! (fixture, `generate`, external, per-environment overrides), consumers, and two environments
//! (local seeds fixtures; production maps namespaces and takes every value from outside).
//!
//! The same `secrets` always gives the same bytes, so measurements at one size compare across
//! runs and machines.

use std::fmt::Write;

/// Secrets per bundle: the size of a service chart's or a Layer 15 bundle's list.
const SECRETS_PER_BUNDLE: usize = 50;
/// Secrets per fragment: one team's file. Large platforms split by team, not by secret.
const SECRETS_PER_FRAGMENT: usize = 500;

/// The catalog files (path relative to the catalog folder, text) of a catalog of `secrets`
/// secrets, `secretcat.toml` first.
pub fn catalog(secrets: usize) -> Vec<(String, String)> {
    let fragments = secrets.div_ceil(SECRETS_PER_FRAGMENT).max(1);
    let mut files = vec![("secretcat.toml".to_string(), settings(fragments))];
    for fragment in 0..fragments {
        let first = fragment * SECRETS_PER_FRAGMENT;
        let last = secrets.min(first + SECRETS_PER_FRAGMENT);
        files.push((
            format!("team-{fragment:03}.toml"),
            team(fragment, first..last),
        ));
    }
    files
}

/// `catalog(secrets)` loaded and validated, as the tests that render synthetic catalogs need it.
#[cfg(test)]
pub(crate) fn compiled(secrets: usize) -> crate::Compiled {
    let sources = catalog(secrets)
        .into_iter()
        .map(|(name, text)| (std::path::PathBuf::from(name), text))
        .collect();
    crate::compile_sources(sources)
}

/// Write `catalog(secrets)` below `dir` (created if missing).
pub fn write(dir: &std::path::Path, secrets: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in catalog(secrets) {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}

fn settings(teams: usize) -> String {
    let mut out = String::from(
        r#"#:schema ../generated/catalog.schema.json
# Synthetic catalog (secretcat::synthetic): store, two environments, one owner per team.

[store]
name = "platform-vault"
mount = "secret"
server = "http://vault.vault.svc.cluster.local:8200"

[environments.local]
fixtures = true
description = "Developer clusters: fixtures and generated values are seeded."

[environments.production]
description = "Every value comes from Azure Key Vault."
namespaces = { apps = "apps-prod" }
store = { server = "http://vault.vault-prod.svc.cluster.local:8200" }
"#,
    );
    for team in 0..teams {
        let _ = write!(
            out,
            "\n[owners.team-{team:03}]\nteam = \"Team {team}\"\ncontact = \"#team-{team:03}-oncall\"\n"
        );
    }
    out
}

fn team(team: usize, secrets: std::ops::Range<usize>) -> String {
    let owner = format!("team-{team:03}");
    let mut out = format!(
        "#:schema ../generated/catalog.schema.json\n# Owned by {owner}: {} secrets.\n",
        secrets.len()
    );
    let first_bundle = secrets.start / SECRETS_PER_BUNDLE;
    let last_bundle = secrets.end.div_ceil(SECRETS_PER_BUNDLE);
    for bundle in first_bundle..last_bundle {
        // Mostly service charts; every tenth bundle is a Layer 15 bundle, and the first of each
        // team ships integration-test secrets.
        let (kind, namespace) = match bundle % 10 {
            _ if bundle == first_bundle => ("integration", "apps"),
            0 => ("layer15", "apps"),
            _ => ("chart", "apps"),
        };
        let _ = write!(
            out,
            "\n[bundles.bundle-{bundle:05}]\nkind = \"{kind}\"\nnamespace = \"{namespace}\"\nowner = \"{owner}\"\ndescription = \"Secrets of service group {bundle}.\"\n"
        );
    }
    for secret in secrets {
        let bundle = secret / SECRETS_PER_BUNDLE;
        let app = format!("app-{secret:06}");
        let prefix = format!("{owner}/{app}");
        let _ = write!(
            out,
            r#"
[keys."{prefix}/database-url"]
owner = "{owner}"
description = "Postgres URL of {app}'s database."
fixture = "postgresql://postgres-rw.apps.svc.cluster.local:5432/{app}"
overrides.production = {{ external = "Azure Key Vault: {app}-database-url", required = true }}

[keys."{prefix}/database-password"]
owner = "{owner}"
description = "Password of {app}'s Postgres role."
generate = {{ length = 32 }}
min_length = 24
rotation = "Set a new value in Vault, then restart {app}."
overrides.production = {{ external = "Azure Key Vault: {app}-database-password", required = true }}

[keys."{prefix}/api-token"]
owner = "{owner}"
description = "Token {app} presents to the platform API."
"#
        );
        if secret % 3 == 0 {
            let _ = writeln!(out, "external = \"Azure Key Vault: {app}-api-token\"");
        } else {
            let _ = write!(
                out,
                "fixture = \"dev-{app}-api-token\"\noverrides.production = {{ external = \"Azure Key Vault: {app}-api-token\" }}\n"
            );
        }
        let _ = write!(
            out,
            r#"
[secrets.{app}-credentials]
bundle = "bundle-{bundle:05}"
description = "Database and API credentials of {app}."
data.DATABASE_URL = "{prefix}/database-url"
data.DATABASE_PASSWORD = {{ key = "{prefix}/database-password", property = "value" }}
data.API_TOKEN = "{prefix}/api-token"
consumers = [{{ name = "{app}", via = "envFrom", requires = ["DATABASE_URL", "DATABASE_PASSWORD"] }}]
"#
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::catalog;

    #[test]
    fn compiles_without_diagnostics_at_every_size() {
        for secrets in [1, 49, 50, 51, 499, 500, 501, 1200] {
            let sources = catalog(secrets)
                .into_iter()
                .map(|(name, text)| (std::path::PathBuf::from(name), text))
                .collect();
            let compiled = crate::compile_sources(sources);
            assert!(
                compiled.diagnostics.is_empty(),
                "{secrets} secrets: {:#?}",
                compiled.diagnostics
            );
            let catalog = compiled.catalog.expect("compiles");
            assert_eq!(catalog.secrets.len(), secrets);
            assert_eq!(catalog.keys.len(), 3 * secrets);
        }
    }

    #[test]
    fn the_same_size_gives_the_same_bytes() {
        assert_eq!(catalog(777), catalog(777));
        assert_ne!(catalog(777), catalog(778));
    }
}
