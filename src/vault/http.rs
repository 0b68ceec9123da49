//! The HTTP transport: one request at a time to `{addr}/v1/{path}` with the token in the
//! `X-Vault-Token` header, and every way it can fail without an HTTP answer sorted into
//! "nobody listens" and "nobody answers in time". Status codes are not errors here: the client
//! (`client.rs`) reads them.

use std::fmt;
use std::time::Duration;

/// A Vault token. It is only ever put into a request header: `Debug` and `Display` hide it, so
/// no error, log line or panic message can carry it.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// The token, trimmed (token files end in a newline); `None` when nothing is left, or when
    /// what is left cannot be a token: an HTTP header value takes only visible ASCII, and a
    /// file of something else (a binary, a key pair) is not worth sending anywhere.
    pub fn new(text: &str) -> Option<Token> {
        let token = text.trim();
        let usable = !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic());
        usable.then(|| Token(token.to_string()))
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<hidden>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// One request, relative to `{addr}/v1/`.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub body: Option<serde_json::Value>,
}

impl Request {
    pub fn get(path: impl Into<String>) -> Request {
        Request {
            method: Method::Get,
            path: path.into(),
            body: None,
        }
    }

    pub fn post(path: impl Into<String>, body: serde_json::Value) -> Request {
        Request {
            method: Method::Post,
            path: path.into(),
            body: Some(body),
        }
    }
}

/// Whatever the server answered, status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// A request that got no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// No connection: refused, no route, unknown host. The text says which.
    Unreachable(String),
    /// Connected (or still connecting) when the timeout ran out.
    Timeout,
    /// Anything else: a malformed answer, an address ureq cannot use.
    Other(String),
}

/// Sends requests to one Vault. The seam the unit tests replace with a scripted server.
pub trait Transport {
    fn send(&self, request: &Request) -> Result<Response, TransportError>;
    /// The server's address, for messages.
    fn address(&self) -> &str;
    /// The timeout of one request, for messages.
    fn timeout(&self) -> Duration;
}

/// The real transport, over ureq: plain HTTP, and HTTPS with the `vault-tls` feature.
#[derive(Debug)]
pub struct HttpTransport {
    agent: ureq::Agent,
    address: String,
    token: Token,
    namespace: Option<String>,
    timeout: Duration,
}

impl HttpTransport {
    /// Send every request in the Vault namespace `namespace` (`X-Vault-Namespace`).
    pub fn in_namespace(mut self, namespace: Option<String>) -> HttpTransport {
        self.namespace = namespace;
        self
    }

    /// The namespace requests are sent in; `None` for the root namespace.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    #[cfg(test)]
    pub(super) fn token_for_tests(&self) -> &str {
        self.token.expose()
    }

    /// `address` is `http://host:port` (a trailing `/` is dropped); `timeout` bounds the connect
    /// and, separately, the whole exchange of each request, so a server that accepts and then
    /// never answers fails after it instead of hanging.
    pub fn new(address: &str, token: Token, timeout: Duration) -> HttpTransport {
        let config = ureq::Agent::config_builder()
            // Vault's answers to 4xx and 5xx carry the reason in the body; we read them.
            .http_status_as_error(false)
            // A redirect would resend the token to wherever it points.
            .max_redirects(0)
            .timeout_connect(Some(timeout))
            .timeout_per_call(Some(timeout))
            .build();
        HttpTransport {
            agent: ureq::Agent::new_with_config(config),
            address: address.trim_end_matches('/').to_string(),
            token,
            namespace: None,
            timeout,
        }
    }
}

impl Transport for HttpTransport {
    fn send(&self, request: &Request) -> Result<Response, TransportError> {
        let url = format!("{}/v1/{}", self.address, request.path);
        let token = self.token.expose();
        let namespace = self.namespace.as_deref();
        let result = match (&request.method, &request.body) {
            (Method::Get, _) => {
                let call = self.agent.get(&url).header("X-Vault-Token", token);
                match namespace {
                    Some(namespace) => call.header("X-Vault-Namespace", namespace).call(),
                    None => call.call(),
                }
            }
            (Method::Post, body) => {
                let call = self.agent.post(&url).header("X-Vault-Token", token);
                let call = match namespace {
                    Some(namespace) => call.header("X-Vault-Namespace", namespace),
                    None => call,
                };
                call.content_type("application/json")
                    .send(body.as_ref().map(|b| b.to_string()).unwrap_or_default())
            }
        };
        let mut response = result.map_err(classify)?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(classify)
            .or_else(|error| match status {
                // A 204 has no body to read; a body that fails to read elsewhere is an error.
                204 => Ok(String::new()),
                _ => Err(error),
            })?;
        Ok(Response { status, body })
    }

    fn address(&self) -> &str {
        &self.address
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// Sort a ureq error into the three cases a user acts on differently.
fn classify(error: ureq::Error) -> TransportError {
    use std::io::ErrorKind;
    match error {
        ureq::Error::Timeout(_) => TransportError::Timeout,
        ureq::Error::Io(io) if io.kind() == ErrorKind::TimedOut => TransportError::Timeout,
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                ErrorKind::ConnectionRefused
                    | ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::NotConnected
                    | ErrorKind::AddrNotAvailable
                    | ErrorKind::HostUnreachable
                    | ErrorKind::NetworkUnreachable
            ) =>
        {
            TransportError::Unreachable(io.to_string())
        }
        // The standard library's resolver failure has no kind of its own, only this wording.
        ureq::Error::Io(io) if io.to_string().contains("failed to lookup address") => {
            TransportError::Unreachable(format!("its host name does not resolve ({io})"))
        }
        ureq::Error::HostNotFound => {
            TransportError::Unreachable("its host name does not resolve".into())
        }
        ureq::Error::ConnectionFailed => TransportError::Unreachable("connection failed".into()),
        other => TransportError::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_name_that_does_not_resolve_is_unreachable_not_a_strange_answer() {
        let lookup = std::io::Error::other(
            "failed to lookup address information: Name or service not known",
        );
        let TransportError::Unreachable(detail) = classify(ureq::Error::Io(lookup)) else {
            panic!("not unreachable");
        };
        assert!(
            detail.starts_with("its host name does not resolve"),
            "{detail}"
        );
        assert!(matches!(
            classify(ureq::Error::HostNotFound),
            TransportError::Unreachable(_)
        ));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(
            classify(ureq::Error::Io(refused)),
            TransportError::Unreachable(_)
        ));
    }

    #[test]
    fn a_token_is_trimmed_and_never_shown() {
        let token = Token::new("  s.secret-token\n").expect("a token");
        assert_eq!(token.expose(), "s.secret-token");
        assert_eq!(format!("{token:?}"), "Token(<hidden>)");
        assert!(
            Token::new(" \n").is_none(),
            "an empty token file is no token"
        );
        let transport = HttpTransport::new("http://127.0.0.1:1/", token, Duration::from_secs(1));
        assert_eq!(transport.address(), "http://127.0.0.1:1");
        let shown = format!("{transport:?}");
        assert!(
            !shown.contains("secret-token") && shown.contains("Token(<hidden>)"),
            "{shown}"
        );
    }
}
