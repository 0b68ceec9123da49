//! The KV v2 operations `seed` and `preflight` need, each one request (or two) whose answer is
//! sorted here: what the caller asked for, or a `Diagnostic` that says what to do. Request
//! building and answer classification are plain functions of status and body, so they are
//! unit-tested without a server.

use serde_json::{Map, Value, json};

use super::http::{Request, Response, Transport, TransportError};
use crate::diagnostics::Diagnostic;

/// The answer to a write-once (`cas=0`) write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Written,
    /// The key has a version already (perhaps deleted): nothing was written.
    Exists,
}

/// What a key holds, as a read finds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    Value(Map<String, Value>),
    /// No version at all.
    Missing,
    /// Versions exist, but the latest is deleted (`vault kv delete`, which `undelete` reverses)
    /// or destroyed (gone for good): ESO reads nothing, and a write-once seed writes nothing.
    Deleted(Deleted),
}

/// The latest version of a key, deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deleted {
    pub version: u64,
    pub destroyed: bool,
}

impl Stored {
    /// The properties, when there are any to read.
    pub fn value(&self) -> Option<&Map<String, Value>> {
        match self {
            Stored::Value(properties) => Some(properties),
            _ => None,
        }
    }
}

/// A KV v2 mount of one Vault, reached through a transport.
pub struct Kv<'a> {
    transport: &'a dyn Transport,
    mount: String,
}

/// The deleted latest version a read's metadata describes, if it does.
fn deleted(answer: &Value) -> Option<Stored> {
    let metadata = answer.pointer("/data/metadata")?;
    let destroyed = metadata.get("destroyed").and_then(Value::as_bool) == Some(true);
    let deleted = metadata
        .get("deletion_time")
        .and_then(Value::as_str)
        .is_some_and(|time| !time.is_empty());
    let version = metadata.get("version").and_then(Value::as_u64).unwrap_or(0);
    (deleted || destroyed).then_some(Stored::Deleted(Deleted { version, destroyed }))
}

/// What Vault answers when a `cas=0` write finds the key already there.
const CAS_MISMATCH: &str = "check-and-set parameter did not match the current version";

impl<'a> Kv<'a> {
    pub fn new(transport: &'a dyn Transport, mount: &str) -> Kv<'a> {
        Kv {
            transport,
            mount: mount.trim_matches('/').to_string(),
        }
    }

    pub fn mount(&self) -> &str {
        &self.mount
    }

    pub fn data_path(&self, key: &str) -> String {
        format!("{}/data/{key}", self.mount)
    }

    pub fn metadata_path(&self, key: &str) -> String {
        format!("{}/metadata/{key}", self.mount)
    }

    /// The mount must be KV version 2: anything else would take our `data/` paths as key names
    /// (a KV v1 mount stores `data/foo` happily). `sys/internal/ui/mounts/` answers any token
    /// with some capability below the mount, so no `sys/mounts` read access is needed.
    pub fn check_mount(&self) -> Result<(), Diagnostic> {
        let request = Request::get(format!("sys/internal/ui/mounts/{}", self.mount));
        let response = self.send(&request)?;
        match response.status {
            200 => mount_kind(&self.mount, &parse(&request, &response)?),
            // Vault's answer for a path below no mount, or one the token has no capability on.
            403 if errors(&response.body).contains("preflight capability check") => {
                Err(Diagnostic::vault_not_kv2(
                    &self.mount,
                    "is not a mount this token can see (it does not exist, or no policy of the token grants anything below it)",
                ))
            }
            _ => Err(self.failure(&request, &response, &["read"])),
        }
    }

    /// The key's properties, or `None` when it does not exist (or its current version is
    /// deleted).
    pub fn read(&self, key: &str) -> Result<Stored, Diagnostic> {
        let request = Request::get(self.data_path(key));
        let response = self.send(&request)?;
        match response.status {
            200 => {
                let answer = parse(&request, &response)?;
                match answer.pointer("/data/data") {
                    Some(Value::Object(properties)) => Ok(Stored::Value(properties.clone())),
                    Some(Value::Null) => Ok(deleted(&answer).unwrap_or(Stored::Missing)),
                    _ => Err(unexpected(&request, &response)),
                }
            }
            // A deleted or destroyed latest version answers 404 too, with its metadata.
            404 => Ok(serde_json::from_str(&response.body)
                .ok()
                .and_then(|answer| deleted(&answer))
                .unwrap_or(Stored::Missing)),
            _ => Err(self.failure(&request, &response, &["read"])),
        }
    }

    /// Write `properties` only if the key has no version yet (`cas=0`).
    pub fn create(
        &self,
        key: &str,
        properties: &Map<String, Value>,
    ) -> Result<Created, Diagnostic> {
        let request = create_request(&self.data_path(key), properties, 0);
        let response = self.send(&request)?;
        match response.status {
            200 | 204 => Ok(Created::Written),
            400 if errors(&response.body).contains(CAS_MISMATCH) => Ok(Created::Exists),
            // `update` too: Vault checks it before the check-and-set can see the key exists.
            _ => Err(self.failure(&request, &response, &["create", "update"])),
        }
    }

    /// The key's current version; 0 when it has none.
    pub fn current_version(&self, key: &str) -> Result<u64, Diagnostic> {
        let request = Request::get(self.metadata_path(key));
        let response = self.send(&request)?;
        match response.status {
            200 => parse(&request, &response)?
                .pointer("/data/current_version")
                .and_then(Value::as_u64)
                .ok_or_else(|| unexpected(&request, &response)),
            404 => Ok(0),
            _ => Err(self.failure(&request, &response, &["read"])),
        }
    }

    /// Write `properties` over version `version` (check-and-set, so a write by someone else in
    /// between is not lost silently, and mounts with `cas_required` accept it).
    pub fn overwrite(
        &self,
        key: &str,
        properties: &Map<String, Value>,
        version: u64,
    ) -> Result<(), Diagnostic> {
        let request = create_request(&self.data_path(key), properties, version);
        let response = self.send(&request)?;
        match response.status {
            200 | 204 => Ok(()),
            400 if errors(&response.body).contains(CAS_MISMATCH) => {
                Err(Diagnostic::vault_response(
                    &describe(&request),
                    &format!("HTTP 400: `{key}` changed while secretcat rewrote it; run again"),
                ))
            }
            _ => Err(self.failure(&request, &response, &["create", "update"])),
        }
    }

    /// Replace the key's `custom_metadata`.
    pub fn set_metadata(&self, key: &str, metadata: &Map<String, Value>) -> Result<(), Diagnostic> {
        let request = Request::post(
            self.metadata_path(key),
            json!({ "custom_metadata": metadata }),
        );
        let response = self.send(&request)?;
        match response.status {
            200 | 204 => Ok(()),
            _ => Err(self.failure(&request, &response, &["create", "update"])),
        }
    }

    fn send(&self, request: &Request) -> Result<Response, Diagnostic> {
        let address = self.transport.address();
        self.transport.send(request).map_err(|error| match error {
            TransportError::Unreachable(detail) => Diagnostic::vault_unreachable(address, &detail),
            TransportError::Timeout => Diagnostic::vault_timeout(
                address,
                &describe(request),
                self.transport.timeout().as_secs().max(1),
            ),
            TransportError::Other(detail) => {
                Diagnostic::vault_response(&describe(request), &format!("no HTTP answer: {detail}"))
            }
        })
    }

    /// An answer that is not what the operation expects: sealed, denied, or something else.
    /// A 403 is either a token Vault does not know or a missing capability; asking Vault about
    /// the token itself (which every valid token may do) tells them apart.
    fn failure(&self, request: &Request, response: &Response, capabilities: &[&str]) -> Diagnostic {
        match response.status {
            503 => Diagnostic::vault_sealed(self.transport.address()),
            403 if !self.token_is_valid() => {
                Diagnostic::vault_invalid_token(self.transport.address(), &describe(request))
            }
            403 => Diagnostic::vault_denied(&describe(request), &request.path, capabilities),
            _ => unexpected(request, response),
        }
    }

    fn token_is_valid(&self) -> bool {
        let lookup = Request::get("auth/token/lookup-self");
        self.transport
            .send(&lookup)
            .is_ok_and(|response| response.status == 200)
    }
}

/// A KV v2 write: `cas` is the version the write expects (0: none yet).
fn create_request(path: &str, properties: &Map<String, Value>, cas: u64) -> Request {
    Request::post(
        path,
        json!({ "options": { "cas": cas }, "data": properties }),
    )
}

/// Whether the mount answer describes KV version 2 at exactly this path.
fn mount_kind(mount: &str, document: &Value) -> Result<(), Diagnostic> {
    let data = &document["data"];
    let engine = data["type"].as_str().unwrap_or("unknown");
    let version = data["options"]["version"].as_str().unwrap_or("1");
    let found_path = data["path"].as_str().unwrap_or("").trim_end_matches('/');
    if !found_path.is_empty() && found_path != mount {
        return Err(Diagnostic::vault_not_kv2(
            mount,
            &format!("is not a mount itself but a path inside mount `{found_path}`"),
        ));
    }
    match (engine, version) {
        ("kv", "2") => Ok(()),
        ("kv", version) => Err(Diagnostic::vault_not_kv2(
            mount,
            &format!("is a KV version {version} mount"),
        )),
        (engine, _) => Err(Diagnostic::vault_not_kv2(
            mount,
            &format!("is a `{engine}` secrets engine"),
        )),
    }
}

/// The JSON body of a successful answer.
fn parse(request: &Request, response: &Response) -> Result<Value, Diagnostic> {
    serde_json::from_str(&response.body).map_err(|error| {
        let answer = format!("HTTP {} that is not JSON: {error}", response.status);
        Diagnostic::vault_response(&describe(request), &answer)
    })
}

/// Vault's `errors` list, joined; Vault puts the reason for a 4xx or 5xx there.
fn errors(body: &str) -> String {
    let document: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    document["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(Value::as_str)
                .map(|e| e.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

fn unexpected(request: &Request, response: &Response) -> Diagnostic {
    let answer = match errors(&response.body) {
        reason if reason.is_empty() => format!("HTTP {}", response.status),
        reason => format!("HTTP {}: {reason}", response.status),
    };
    Diagnostic::vault_response(&describe(request), &answer)
}

/// `GET secret/data/foo`: the request as messages name it.
fn describe(request: &Request) -> String {
    format!("{} {}", request.method.as_str(), request.path)
}

#[cfg(test)]
pub(super) mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::diagnostics::Code;
    use crate::vault::http::Method;

    /// A scripted Vault: answers by `METHOD path`, records every request it gets.
    #[derive(Default)]
    pub struct Scripted {
        pub answers: BTreeMap<String, Result<Response, TransportError>>,
        pub requests: RefCell<Vec<Request>>,
    }

    impl Scripted {
        pub fn answer(mut self, request: &str, status: u16, body: &str) -> Self {
            let response = Response {
                status,
                body: body.to_string(),
            };
            self.answers.insert(request.to_string(), Ok(response));
            self
        }

        pub fn fail(mut self, request: &str, error: TransportError) -> Self {
            self.answers.insert(request.to_string(), Err(error));
            self
        }
    }

    impl Transport for Scripted {
        fn send(&self, request: &Request) -> Result<Response, TransportError> {
            self.requests.borrow_mut().push(request.clone());
            let key = describe(request);
            self.answers.get(&key).cloned().unwrap_or(Ok(Response {
                status: 404,
                body: r#"{"errors":[]}"#.into(),
            }))
        }

        fn address(&self) -> &str {
            "http://vault.test:8200"
        }

        fn timeout(&self) -> Duration {
            Duration::from_secs(5)
        }
    }

    pub const KV2: &str = r#"{"data":{"type":"kv","path":"secret/","options":{"version":"2"}}}"#;

    #[test]
    fn a_write_once_request_carries_cas_0_and_the_properties() {
        let mut properties = Map::new();
        properties.insert("value".into(), "dev".into());
        let request = create_request("secret/data/a/b", &properties, 0);
        assert_eq!(request.method, Method::Post);
        assert_eq!(request.path, "secret/data/a/b");
        assert_eq!(
            request.body,
            Some(json!({"options": {"cas": 0}, "data": {"value": "dev"}}))
        );
    }

    #[test]
    fn a_cas_mismatch_means_the_key_exists_and_nothing_was_written() {
        let vault = Scripted::default()
            .answer(
                "POST secret/data/kept",
                400,
                &format!(r#"{{"errors":["{CAS_MISMATCH}"]}}"#),
            )
            .answer("POST secret/data/new", 200, r#"{"data":{"version":1}}"#);
        let kv = Kv::new(&vault, "/secret/");
        let properties = Map::new();
        assert_eq!(kv.create("kept", &properties), Ok(Created::Exists));
        assert_eq!(kv.create("new", &properties), Ok(Created::Written));
        let other_400 =
            Scripted::default().answer("POST secret/data/x", 400, r#"{"errors":["bad json"]}"#);
        let error = Kv::new(&other_400, "secret")
            .create("x", &properties)
            .unwrap_err();
        assert_eq!(error.code, Code::VaultResponse);
        assert!(
            error.message.contains("HTTP 400: bad json"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_403_names_the_path_and_capabilities_or_the_token() {
        let denied = r#"{"errors":["1 error occurred:\n\t* permission denied\n\n"]}"#;
        let vault = Scripted::default()
            .answer("POST secret/data/x", 403, denied)
            .answer("GET auth/token/lookup-self", 200, "{}");
        let error = Kv::new(&vault, "secret")
            .create("x", &Map::new())
            .unwrap_err();
        assert_eq!(error.code, Code::VaultDenied);
        assert_eq!(
            error.message,
            "Vault denied `POST secret/data/x`: the token's policies do not grant `create` and `update` on `secret/data/x`"
        );
        assert!(
            error
                .help
                .as_deref()
                .unwrap()
                .contains(r#"path "secret/data/x" { capabilities = ["create", "update"] }"#),
            "{:?}",
            error.help
        );
        let unknown_token = Scripted::default().answer("GET secret/data/x", 403, denied);
        let error = Kv::new(&unknown_token, "secret").read("x").unwrap_err();
        assert_eq!(error.code, Code::VaultDenied);
        assert!(
            error.message.contains("does not accept the token"),
            "{}",
            error.message
        );
    }

    #[test]
    fn the_mount_must_be_kv_version_2_at_exactly_that_path() {
        let check = |body: &str, status: u16| {
            let vault =
                Scripted::default().answer("GET sys/internal/ui/mounts/secret", status, body);
            Kv::new(&vault, "secret")
                .check_mount()
                .map_err(|d| (d.code, d.message))
        };
        assert_eq!(check(KV2, 200), Ok(()));
        let kv1 = r#"{"data":{"type":"kv","path":"secret/","options":{"version":"1"}}}"#;
        let (code, message) = check(kv1, 200).unwrap_err();
        assert_eq!(code, Code::VaultNotKv2);
        assert!(message.contains("is a KV version 1 mount"), "{message}");
        let pki = r#"{"data":{"type":"pki","path":"secret/","options":null}}"#;
        assert!(
            check(pki, 200)
                .unwrap_err()
                .1
                .contains("`pki` secrets engine")
        );
        let inside = r#"{"data":{"type":"kv","path":"kv/","options":{"version":"2"}}}"#;
        assert!(
            check(inside, 200)
                .unwrap_err()
                .1
                .contains("inside mount `kv`")
        );
        let missing = r#"{"errors":["preflight capability check returned 403, please ensure client's policies grant access to path \"secret/\""]}"#;
        let (code, message) = check(missing, 403).unwrap_err();
        assert_eq!(code, Code::VaultNotKv2);
        assert!(
            message.contains("not a mount this token can see"),
            "{message}"
        );
        assert_eq!(
            check(r#"{"errors":["Vault is sealed"]}"#, 503)
                .unwrap_err()
                .0,
            Code::VaultSealed
        );
    }

    #[test]
    fn what_vault_answers_reaches_a_terminal_only_escaped() {
        let hostile = [
            (
                "GET sys/internal/ui/mounts/secret",
                200,
                r#"{"data":{"type":"\u001b]0;PWNED\u0007","path":"secret/"}}"#,
            ),
            (
                "GET secret/data/x",
                500,
                r#"{"errors":["\u001b[2J\u009b2J\u202eoops"]}"#,
            ),
        ];
        for (request, status, body) in hostile {
            let vault = Scripted::default().answer(request, status, body);
            let kv = Kv::new(&vault, "secret");
            let error = match request.starts_with("GET sys") {
                true => kv.check_mount().unwrap_err(),
                false => kv.read("x").unwrap_err(),
            };
            // The diagnostic keeps Vault's words; the report shows them, never obeys them.
            assert!(error.message.contains('\u{1b}'), "{}", error.message);
            let files = crate::source::Files::default();
            let shown =
                crate::report::text_in(&files, &error, crate::report::Palette { enabled: false });
            assert!(shown.contains("\\u{1b}"), "{shown}");
            for raw in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
                assert!(!shown.contains(raw), "{raw:?} in {shown}");
            }
        }
    }

    #[test]
    fn no_answer_is_unreachable_or_a_timeout_naming_the_request() {
        let vault = Scripted::default()
            .fail("GET secret/data/a", TransportError::Timeout)
            .fail(
                "GET secret/data/b",
                TransportError::Unreachable("Connection refused".into()),
            );
        let kv = Kv::new(&vault, "secret");
        let timeout = kv.read("a").unwrap_err();
        assert_eq!(timeout.code, Code::VaultTimeout);
        assert_eq!(
            timeout.message,
            "Vault at `http://vault.test:8200` did not answer `GET secret/data/a` within 5 s"
        );
        let refused = kv.read("b").unwrap_err();
        assert_eq!(refused.code, Code::VaultUnreachable);
        assert!(
            refused.message.ends_with("Connection refused"),
            "{}",
            refused.message
        );
    }

    #[test]
    fn a_read_tells_properties_missing_keys_and_deleted_latest_versions_apart() {
        let vault = Scripted::default()
            .answer(
                "GET secret/data/a",
                200,
                r#"{"data":{"data":{"value":"x"},"metadata":{}}}"#,
            )
            .answer(
                "GET secret/data/deleted",
                404,
                r#"{"data":{"data":null,"metadata":{"deletion_time":"2026-01-01T00:00:00Z","destroyed":false,"version":3}}}"#,
            )
            .answer(
                "GET secret/data/destroyed",
                404,
                r#"{"data":{"data":null,"metadata":{"deletion_time":"","destroyed":true,"version":2}}}"#,
            );
        let kv = Kv::new(&vault, "secret");
        assert_eq!(kv.read("a").unwrap().value().unwrap()["value"], "x");
        let deleted = |version, destroyed| Stored::Deleted(Deleted { version, destroyed });
        assert_eq!(kv.read("deleted").unwrap(), deleted(3, false));
        assert_eq!(kv.read("destroyed").unwrap(), deleted(2, true));
        assert_eq!(kv.read("never").unwrap(), Stored::Missing);
    }

    #[test]
    fn the_current_version_comes_from_the_metadata() {
        let vault = Scripted::default().answer(
            "GET secret/metadata/a",
            200,
            r#"{"data":{"current_version":3,"custom_metadata":null}}"#,
        );
        let kv = Kv::new(&vault, "secret");
        assert_eq!(kv.current_version("a"), Ok(3));
        assert_eq!(kv.current_version("none"), Ok(0));
    }
}
