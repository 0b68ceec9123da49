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
    pub timeout_seconds: u64,
}

/// The transport the flags and the environment describe. The address comes from `--addr`,
/// `VAULT_ADDR` or `BAO_ADDR`; the token from `--token-file`, `VAULT_TOKEN` or `BAO_TOKEN`, in
/// that order. `var` reads an environment variable (a parameter, so tests need not set any).
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
        None => {
            let text = from_env(["VAULT_TOKEN", "BAO_TOKEN"]).ok_or_else(|| {
                Diagnostic::usage("no Vault token: set VAULT_TOKEN (or BAO_TOKEN), or pass --token-file FILE")
                    .help("the token is never taken from the command line, where other users of the machine could read it")
            })?;
            Token::new(&text).ok_or_else(|| {
                Diagnostic::usage(
                    "the token in VAULT_TOKEN (or BAO_TOKEN) holds characters a token cannot have",
                )
            })?
        }
    };
    if args.timeout_seconds == 0 {
        return Err(Diagnostic::usage("--timeout must be at least 1 second"));
    }
    let timeout = Duration::from_secs(args.timeout_seconds);
    Ok(HttpTransport::new(&address, token, timeout))
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
