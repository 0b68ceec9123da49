//! Live Vault (or OpenBao, the same KV v2 HTTP API): `seed` writes an environment's fixtures and
//! generated values, `preflight` checks that every value its installed secrets read is there.
//! Built with the `vault` cargo feature (on by default).
//!
//! The stages: `http` sends one request and sorts out answers that never came; `client` knows
//! the KV v2 paths and sorts the answers that did (sealed, denied, not KV v2, check-and-set
//! mismatch); `generate` draws random values; `seed` and `preflight` are the two commands'
//! logic over the compiled catalog. Everything above `http` is tested with a scripted server;
//! `tests/vault.rs` drives the binary against a real OpenBao.
//!
//! Design choices, each documented where it is implemented:
//! - write-once: every write is a KV v2 check-and-set with `cas=0`, so an existing key, even a
//!   deleted one, is never overwritten; "check-and-set parameter did not match" means "kept"
//!   (`client::Kv::create`). `--force KEY` writes over the version it reads first (`seed`);
//! - the mount is checked before anything else (`client::Kv::check_mount`): a KV v1 mount would
//!   accept our `data/` paths as ordinary key names;
//! - a 403 is told apart into "Vault does not know this token" and "a policy lacks capability
//!   X on path P" by asking Vault about the token (`client::Kv::failure`);
//! - the first Vault error ends a run: every later request would meet it again (`seed::run`,
//!   `preflight::run`);
//! - the token comes from a file or the environment, never from the command line (where other
//!   users could see it), and `http::Token` cannot be printed;
//! - plain HTTP by default (the in-cluster address and a port-forward are `http://`); HTTPS with
//!   the `vault-tls` feature, which adds rustls and ring to the build.

mod client;
mod generate;
mod http;
pub mod preflight;
pub mod seed;

use std::path::Path;
use std::time::Duration;

pub use client::Kv;
pub use http::{HttpTransport, Token, Transport};

use crate::diagnostics::Diagnostic;

/// Where to reach Vault and with which token, as given on the command line.
#[derive(Debug, Default)]
pub struct ConnectionArgs<'a> {
    pub address: Option<&'a str>,
    pub token_file: Option<&'a Path>,
    /// The Vault (Enterprise or OpenBao) namespace every request is sent in.
    pub namespace: Option<&'a str>,
    pub timeout_seconds: u64,
}

/// The transport the flags and the environment describe, as the vault CLI reads them. The
/// address comes from `--addr`, `VAULT_ADDR` or `BAO_ADDR`; the token from `--token-file`,
/// `VAULT_TOKEN`, `BAO_TOKEN` or the file `vault login` writes, `$HOME/.vault-token`; the
/// namespace from `--namespace`, `VAULT_NAMESPACE` or `BAO_NAMESPACE`; each in that order. `var` reads an environment variable (a parameter, so tests need not set any).
/// `catalog_server` is the environment's store address, offered as a hint when none is given.
pub fn connect(
    args: &ConnectionArgs,
    var: impl Fn(&str) -> Option<String>,
    catalog_server: Option<&str>,
) -> Result<HttpTransport, Diagnostic> {
    let from_env = |names: [&str; 2]| {
        names
            .into_iter()
            .find_map(|name| var(name).filter(|v| !v.trim().is_empty()))
    };
    let address = match args.address {
        Some(address) => address.to_string(),
        None => from_env(["VAULT_ADDR", "BAO_ADDR"]).ok_or_else(|| {
            let hint = catalog_server.map_or(String::new(), |s| {
                format!("; the catalog's store here is at {s}")
            });
            Diagnostic::usage("no Vault address: pass --addr URL or set VAULT_ADDR (or BAO_ADDR)")
                .help(format!("for example --addr http://127.0.0.1:8200{hint}"))
        })?,
    };
    let address = address.trim().trim_end_matches('/').to_string();
    check_address(&address)?;
    let token = match args.token_file {
        Some(path) => {
            let shown = crate::source::display_path(path);
            let bytes = crate::sandbox::read_named(path, crate::sandbox::TOKEN_FILE)
                .map_err(|refusal| refusal.diagnostic(&shown, "read the token file"))?;
            let text = String::from_utf8(bytes).map_err(|_| {
                Diagnostic::usage(format!("token file `{shown}` is not valid UTF-8"))
            })?;
            Token::new(&text).ok_or_else(|| {
                Diagnostic::usage(format!(
                    "token file `{shown}` holds no token: it is empty, or holds more than one line or characters a token cannot have"
                ))
            })?
        }
        None => match from_env(["VAULT_TOKEN", "BAO_TOKEN"]) {
            Some(text) => Token::new(&text).ok_or_else(|| {
                Diagnostic::usage(
                    "the token in VAULT_TOKEN (or BAO_TOKEN) holds characters a token cannot have",
                )
            })?,
            None => login_token_file(&var)?.ok_or_else(|| {
                Diagnostic::usage("no Vault token: set VAULT_TOKEN (or BAO_TOKEN), pass --token-file FILE, or run `vault login`, which writes ~/.vault-token")
                    .help("the token is never taken from the command line, where other users of the machine could read it")
            })?,
        },
    };
    let namespace = match args.namespace {
        Some(namespace) => Some(namespace.to_string()),
        None => from_env(["VAULT_NAMESPACE", "BAO_NAMESPACE"]),
    };
    let namespace = namespace
        .map(|namespace| checked_namespace(&namespace))
        .transpose()?
        .flatten();
    if args.timeout_seconds == 0 {
        return Err(Diagnostic::usage("--timeout must be at least 1 second"));
    }
    let timeout = Duration::from_secs(args.timeout_seconds);
    Ok(HttpTransport::new(&address, token, timeout).in_namespace(namespace))
}

/// The token `vault login` (or `bao login`) left in `$HOME/.vault-token`, if there is one.
fn login_token_file(var: &impl Fn(&str) -> Option<String>) -> Result<Option<Token>, Diagnostic> {
    let Some(home) = var("HOME").filter(|home| !home.is_empty()) else {
        return Ok(None);
    };
    let path = Path::new(&home).join(".vault-token");
    let shown = crate::source::display_path(&path);
    let bytes = match crate::sandbox::read_named(&path, crate::sandbox::TOKEN_FILE) {
        Ok(bytes) => bytes,
        Err(crate::sandbox::Refusal::Missing) => return Ok(None),
        Err(refusal) => return Err(refusal.diagnostic(&shown, "read the token file")),
    };
    let text = String::from_utf8_lossy(&bytes);
    Token::new(&text).map(Some).ok_or_else(|| {
        Diagnostic::usage(format!(
            "token file `{shown}` holds no token: it is empty, or holds more than one line or characters a token cannot have"
        ))
    })
}

/// A namespace as the `X-Vault-Namespace` header carries it: `team/app`, without the slashes
/// around it; `None` for the root namespace (empty).
fn checked_namespace(namespace: &str) -> Result<Option<String>, Diagnostic> {
    let namespace = namespace.trim().trim_matches('/');
    if namespace.is_empty() {
        return Ok(None);
    }
    let usable = namespace.bytes().all(|b| b.is_ascii_graphic())
        && namespace
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    match usable {
        true => Ok(Some(namespace.to_string())),
        false => Err(Diagnostic::usage(format!(
            "Vault namespace `{}` is not a namespace path",
            crate::terminal::visible(namespace)
        ))
        .help("a namespace is names separated by `/`, such as `platform` or `platform/dev`")),
    }
}

/// An address ureq can use, over a scheme this build speaks.
fn check_address(address: &str) -> Result<(), Diagnostic> {
    let tls = cfg!(feature = "vault-tls");
    match address.split_once("://") {
        Some(("http", rest)) if !rest.is_empty() => Ok(()),
        Some(("https", rest)) if !rest.is_empty() && tls => Ok(()),
        Some(("https", _)) => Err(Diagnostic::usage(format!(
            "Vault address `{address}` is HTTPS, but this secretcat was built without TLS"
        ))
        .help("build it with `cargo install --path . --features vault-tls`, or reach Vault over plain HTTP (a port-forward: `kubectl port-forward svc/vault 8200`)")),
        _ => Err(Diagnostic::usage(format!(
            "Vault address `{address}` is not an http:// or https:// URL"
        ))
        .help("for example --addr http://127.0.0.1:8200")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Code;

    fn args(address: Option<&str>) -> ConnectionArgs<'_> {
        ConnectionArgs {
            address,
            token_file: None,
            namespace: None,
            timeout_seconds: 5,
        }
    }

    #[test]
    fn flags_win_over_vault_variables_which_win_over_bao_variables() {
        let vars = |name: &str| match name {
            "VAULT_ADDR" => Some("http://vault:8200/".to_string()),
            "BAO_ADDR" => Some("http://bao:8200".to_string()),
            "BAO_TOKEN" => Some("t".to_string()),
            _ => None,
        };
        let transport = connect(&args(None), vars, None).unwrap();
        assert_eq!(transport.address(), "http://vault:8200");
        let transport = connect(&args(Some("http://flag:1")), vars, None).unwrap();
        assert_eq!(transport.address(), "http://flag:1");
        let bao_only = |name: &str| vars(name).filter(|_| name != "VAULT_ADDR");
        assert_eq!(
            connect(&args(None), bao_only, None).unwrap().address(),
            "http://bao:8200"
        );
    }

    #[test]
    fn a_missing_address_or_token_is_a_usage_error_that_says_where_to_put_it() {
        let none = |_: &str| None;
        let error = connect(&args(None), none, Some("http://vault-core:8200")).unwrap_err();
        assert_eq!(error.code, Code::Usage);
        assert!(
            error
                .help
                .unwrap()
                .contains("the catalog's store here is at http://vault-core:8200")
        );
        let error = connect(&args(Some("http://a:1")), none, None).unwrap_err();
        assert!(
            error.message.starts_with("no Vault token"),
            "{}",
            error.message
        );
        let empty_token = |name: &str| (name == "VAULT_TOKEN").then(|| " \n".to_string());
        let error = connect(&args(Some("http://a:1")), empty_token, None).unwrap_err();
        assert!(
            error.message.starts_with("no Vault token"),
            "blank counts as unset"
        );
        let broken = |name: &str| (name == "VAULT_TOKEN").then(|| "s.a\nb".to_string());
        let error = connect(&args(Some("http://a:1")), broken, None).unwrap_err();
        assert!(
            error.message.contains("characters a token cannot have"),
            "{}",
            error.message
        );
    }

    #[test]
    fn the_login_token_file_is_the_last_resort_and_the_namespace_follows_the_vault_cli() {
        let home = tempfile::tempdir().unwrap();
        let home_path = home.path().to_str().unwrap().to_string();
        std::fs::write(home.path().join(".vault-token"), "s.from-login\n").unwrap();
        let with = |token: Option<&'static str>, namespace: Option<&'static str>| {
            let home = home_path.clone();
            move |name: &str| match name {
                "HOME" => Some(home.clone()),
                "VAULT_TOKEN" => token.map(String::from),
                "VAULT_NAMESPACE" => namespace.map(String::from),
                _ => None,
            }
        };
        let from_file = connect(&args(Some("http://a:1")), with(None, None), None).unwrap();
        assert_eq!(from_file.token_for_tests(), "s.from-login");
        assert_eq!(from_file.namespace(), None);
        let from_env = connect(
            &args(Some("http://a:1")),
            with(Some("s.env"), Some("/team/app/")),
            None,
        );
        let from_env = from_env.unwrap();
        assert_eq!(from_env.token_for_tests(), "s.env");
        assert_eq!(from_env.namespace(), Some("team/app"));
        let flag = ConnectionArgs {
            namespace: Some("other"),
            ..args(Some("http://a:1"))
        };
        let flagged = connect(&flag, with(Some("s.env"), Some("team")), None).unwrap();
        assert_eq!(flagged.namespace(), Some("other"));
        let bad = ConnectionArgs {
            namespace: Some("a/../b"),
            ..args(Some("http://a:1"))
        };
        assert_eq!(
            connect(&bad, with(Some("s"), None), None).unwrap_err().code,
            Code::Usage
        );
        std::fs::write(home.path().join(".vault-token"), "").unwrap();
        let empty = connect(&args(Some("http://a:1")), with(None, None), None).unwrap_err();
        assert!(
            empty.message.contains("holds no token"),
            "{}",
            empty.message
        );
        std::fs::remove_file(home.path().join(".vault-token")).unwrap();
        let none = connect(&args(Some("http://a:1")), with(None, None), None).unwrap_err();
        assert!(none.message.contains("vault login"), "{}", none.message);
    }

    #[test]
    fn only_http_urls_are_addresses_and_https_needs_the_tls_build() {
        assert!(check_address("http://127.0.0.1:8200").is_ok());
        assert!(check_address("127.0.0.1:8200").is_err());
        assert!(check_address("http://").is_err());
        assert_eq!(
            check_address("https://vault:8200").is_ok(),
            cfg!(feature = "vault-tls")
        );
    }
}
