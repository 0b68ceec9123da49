//! Diagnostics: the one type every stage reports problems with, the stable codes, and all of the
//! wording. Stages say *what* happened by calling a constructor here; `report` renders them.

use std::ops::Range;

use crate::source::FileId;

/// How bad a diagnostic is; decides the exit code (see `cli::exit_code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Reported, never fails a run.
    Warning,
    /// A guardrail finding: the catalog compiles, but `check` fails (exit 1).
    Finding,
    /// The catalog (or the invocation) is unusable: nothing is written (exit 2).
    Error,
}

/// A place in a catalog file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub file: FileId,
    pub span: Range<usize>,
    pub text: String,
    /// The span holds what may be a real credential, of the kind named (`a GitHub token`): a
    /// quoted line shows `redacted(kind)` in its place (see `report`), never the text.
    pub redact: Option<&'static str>,
}

/// One problem, with where it is and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// The place the problem is; `None` for problems about paths or the invocation.
    pub primary: Option<Label>,
    /// Related places, e.g. the first definition of a duplicate.
    pub secondary: Vec<Label>,
    /// A path the problem is about when it has no catalog span (an unreadable file, an output).
    pub path: Option<String>,
    pub help: Option<String>,
    /// An unknown owner or environment whose "did you mean" is looked up once the whole catalog
    /// is compiled, against one index of the declared names (`validate::suggest_declared`).
    pub(crate) suggest_for: Option<String>,
}

macro_rules! codes {
    ($($variant:ident = $name:literal, $severity:ident, $description:literal;)*) => {
        /// Stable, documented diagnostic codes. Renaming one is a breaking change for users who
        /// match on them in CI, so the full list is snapshot-tested.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }

            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => $description,)* }
            }
        }
    };
}

codes! {
    Io = "io", Error, "A file or folder could not be read or written.";
    Usage = "usage", Error, "The command line or catalog location is unusable.";
    NoCatalog = "no-catalog", Error, "The catalog folder has no secretcat.toml.";
    NotUtf8 = "not-utf8", Error, "A catalog file is not valid UTF-8.";
    UnsafePath = "unsafe-path", Error, "A file to read is not a regular file inside the repository: a symbolic link leading out of it, a path into `.git`, a FIFO, a socket or a device.";
    InputTooLarge = "input-too-large", Error, "A file to read is larger than secretcat's bound for its kind.";
    OutputLocked = "output-locked", Error, "Another `secretcat generate` held the output tree's lock for longer than secretcat waits.";
    Syntax = "toml-syntax", Error, "A catalog file is not valid TOML.";
    UnknownField = "unknown-field", Error, "A table holds a field the catalog format does not define.";
    MissingField = "missing-field", Error, "A required field is absent.";
    InvalidValue = "invalid-value", Error, "A field holds a value of the wrong type or outside its allowed set.";
    MisplacedSection = "misplaced-section", Error, "`store`, `environments` or `outputs` appear outside secretcat.toml.";
    MissingStore = "missing-store", Error, "secretcat.toml has no [store] table.";
    DuplicateDefinition = "duplicate-definition", Error, "A key, secret or bundle is defined in two places.";
    UnknownKey = "unknown-key", Error, "A secret's data entry names a key the catalog does not define.";
    UnknownBundle = "unknown-bundle", Error, "A secret names a bundle the catalog does not define.";
    UnknownEnvironment = "unknown-environment", Error, "A secret, bundle, consumer or key override names an environment the catalog does not declare.";
    UnknownOwner = "unknown-owner", Error, "An owner is named that no [owners] table declares (checked once any owner is declared).";
    UnknownNamespace = "unknown-namespace", Error, "An environment maps a namespace no bundle, secret or unmanaged secret uses.";
    NeedsCycle = "needs-cycle", Error, "Bundles need each other in a cycle, so no order applies them.";
    RequiredNotExternal = "required-not-external", Error, "`required` is set on a key whose value is a fixture or generated there.";
    MissingValueSource = "missing-value-source", Error, "A key has none of fixture / generate / external while some environment seeds fixtures.";
    ConflictingValueSources = "conflicting-value-sources", Error, "A key has more than one of fixture / generate / external.";
    InvalidLength = "invalid-length", Error, "A generate length or min_length is zero, or generate is shorter than min_length.";
    UnknownRequiredKey = "unknown-required-key", Error, "A consumer requires a data key its secret does not provide.";
    EmptySecret = "empty-secret", Error, "A secret has no data entries.";
    DuplicateTarget = "duplicate-target", Error, "Two secrets render the same Secret or ExternalSecret name in one namespace.";
    DuplicateAlias = "duplicate-alias", Error, "Two keys have the same alias in the key map.";
    InvalidName = "invalid-name", Error, "A name Kubernetes, Vault or the key map would reject.";
    InvalidDataKey = "invalid-data-key", Error, "A Secret data key outside ESO's ^[-._a-zA-Z0-9]+$.";
    InvalidEnvVar = "invalid-env-var", Error, "A data key of an integration secret that is not a valid environment variable name.";
    InvalidDuration = "invalid-duration", Error, "A refresh interval that is not a Go duration.";
    InvalidOutputPath = "invalid-output-path", Error, "An output path that is absolute, leaves the root, or collides with another output.";
    Template = "template", Error, "A built-in or overriding template failed or produced invalid output.";
    InvalidManifest = "invalid-manifest", Error, "A manifest given to `verify` or `import` cannot be read or is not valid YAML.";
    ImportConflict = "import-conflict", Error, "`import` would overwrite a catalog file, or two inputs define one name differently.";
    VaultUnreachable = "vault-unreachable", Error, "Vault (or OpenBao) could not be reached at its address.";
    VaultTimeout = "vault-timeout", Error, "Vault accepted the connection but did not answer within the timeout.";
    VaultDenied = "vault-denied", Error, "Vault refused the token (HTTP 403): it is invalid, or its policies lack a capability on a path.";
    VaultSealed = "vault-sealed", Error, "Vault is sealed (HTTP 503) and serves no secrets until it is unsealed.";
    VaultNotKv2 = "vault-not-kv2", Error, "The store's mount does not exist or is not a KV version 2 secrets engine.";
    VaultResponse = "vault-response", Error, "Vault answered in a way secretcat does not expect.";
    MountPrefix = "mount-prefix", Finding, "A key path starts with the store mount, which ESO strips silently.";
    FixtureTooShort = "fixture-too-short", Finding, "A fixture is shorter than the key's min_length.";
    CredentialLikeFixture = "credential-like-fixture", Finding, "A fixture looks like a real credential; fixtures are committed to git.";
    FixtureProperty = "fixture-property", Finding, "A secret reads a property of a seeded key other than the one the bootstrap job writes.";
    FixtureNotAllowed = "fixture-not-allowed", Finding, "A secret installed where fixtures are not seeded reads a key whose value there is a fixture or `__generate__`.";
    ConsumerWithoutSecret = "consumer-without-secret", Finding, "A consumer is installed in an environment where the secret it reads does not exist.";
    Layer15SingleOwner = "layer15-single-owner", Finding, "A Layer 15 secret that is not platform-wide: its consumers have one owner, and it is not pre-provisioned.";
    MissingOwner = "missing-owner", Finding, "A key or secret has no owner although the catalog declares owners.";
    ConsumerBeforeSecret = "consumer-before-secret", Finding, "A consumer's sync wave is not after the wave of its secret's bundle.";
    NeedsNotInstalled = "needs-not-installed", Finding, "A bundle installed in an environment needs a bundle that is not installed there.";
    StoreNamespace = "store-namespace", Finding, "An ExternalSecret lives outside the namespace of the namespaced SecretStore it reads.";
    UnknownSecret = "unknown-secret", Finding, "A rendered workload reads a Secret that no catalog secret or unmanaged secret produces.";
    UnknownSecretKey = "unknown-secret-key", Finding, "A rendered workload reads a data key its Secret does not provide.";
    SecretNotInNamespace = "secret-not-in-namespace", Finding, "A rendered workload reads a catalog Secret in a namespace it is not synced to.";
    InlineSecret = "inline-secret", Finding, "A rendered `kind: Secret` carries data the catalog does not declare (Zero Inline Secrets).";
    InlineCredential = "inline-credential", Finding, "A rendered container sets a credential-like env var to a literal (Zero Inline Secrets).";
    ImportUnmapped = "import-unmapped", Finding, "`import` met a field the catalog cannot express; the rest was imported without it.";
    MissingVaultKey = "missing-vault-key", Finding, "A secret installed in the environment reads a Vault key or property that does not exist.";
    EmptyVaultValue = "empty-vault-value", Finding, "A Vault value a secret reads is empty.";
    VaultValueTooShort = "vault-value-too-short", Finding, "A Vault value is shorter than its key's min_length.";
    FixtureInVault = "fixture-in-vault", Finding, "Vault holds a fixture or placeholder value in an environment that does not seed fixtures.";
    UnusedKey = "unused-key", Warning, "A key no secret reads.";
}

impl Diagnostic {
    fn new(code: Code, message: String) -> Self {
        Diagnostic {
            code,
            severity: code.severity(),
            message,
            primary: None,
            secondary: Vec::new(),
            path: None,
            help: None,
            suggest_for: None,
        }
    }

    pub fn at(mut self, file: FileId, span: Range<usize>, text: impl Into<String>) -> Self {
        self.primary = Some(Label {
            file,
            span,
            text: text.into(),
            redact: None,
        });
        self
    }

    pub fn also(mut self, file: FileId, span: Range<usize>, text: impl Into<String>) -> Self {
        self.secondary.push(Label {
            file,
            span,
            text: text.into(),
            redact: None,
        });
        self
    }

    /// Mark the primary span as a suspected real credential of the kind named: reports never
    /// quote its text.
    pub fn redact(mut self, kind: &'static str) -> Self {
        if let Some(label) = &mut self.primary {
            label.redact = Some(kind);
        }
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Replace the help with "did you mean `best`?", the help every unknown-name diagnostic
    /// gives when a close name exists: for a suggestion looked up after the diagnostic was made.
    pub(crate) fn suggest(&mut self, best: &str) {
        self.help = Some(did_you_mean(best));
    }

    fn help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    pub fn on_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    // ---- invocation and files -------------------------------------------------------------

    pub fn io(path: &str, action: &str, error: &std::io::Error) -> Self {
        Self::new(Code::Io, format!("cannot {action} `{path}`: {error}")).on_path(path)
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Code::Usage, message.into())
    }

    pub fn no_catalog_folder(dir: &str) -> Self {
        Self::new(Code::NoCatalog, format!("catalog folder `{dir}` does not exist"))
            .on_path(dir)
            .help("run secretcat in the repository root, or name the folder with --catalog DIR (or the root with --root DIR)")
    }

    pub fn no_catalog(dir: &str) -> Self {
        Self::new(
            Code::NoCatalog,
            format!("no catalog found: `{dir}/secretcat.toml` does not exist"),
        )
        .on_path(dir)
        .help("create it with a [store] table, or point at the catalog with --catalog DIR")
    }

    pub fn not_utf8(path: &str) -> Self {
        Self::new(Code::NotUtf8, format!("`{path}` is not valid UTF-8"))
            .on_path(path)
            .help("catalog files must be UTF-8 TOML; re-save the file as UTF-8")
    }

    /// A file secretcat refused to open; `why` names what the path is or points at.
    pub fn unsafe_path(path: &str, why: &str) -> Self {
        Self::new(Code::UnsafePath, format!("refusing to read `{path}`: {why}"))
            .on_path(path)
            .help("catalog files, templates and outputs must be regular files inside the repository; replace the link or special file with a regular file")
    }

    pub fn input_too_large(path: &str, size: u64, limit: crate::sandbox::Limit) -> Self {
        Self::new(
            Code::InputTooLarge,
            format!(
                "`{path}` is {} bytes, more than secretcat reads of a {} ({} bytes); nothing was read from it",
                size, limit.what, limit.bytes
            ),
        )
        .on_path(path)
        .help("split the file, or check that it is the file you meant")
    }

    pub fn output_locked(lock: &str, holder: Option<u32>, seconds: u64) -> Self {
        let who = match holder {
            Some(pid) => format!("another secretcat (process {pid})"),
            None => "another secretcat".to_string(),
        };
        Self::new(
            Code::OutputLocked,
            format!("{who} held the lock `{lock}` on the output tree for {seconds} s; nothing was written"),
        )
        .on_path(lock)
        .help("wait for the other run to finish and run again; a lock left by a killed run is released by the operating system, so a holder that stays is a live process")
    }

    pub fn not_a_file(path: &str) -> Self {
        Self::new(
            Code::Io,
            format!("`{path}` is a folder, but a catalog file is expected here"),
        )
        .on_path(path)
        .help("every `*.toml` below the catalog is read as a catalog file; rename or remove the folder")
    }

    // ---- loading ---------------------------------------------------------------------------

    /// A TOML or serde error, classified by the message the toml crate produced; `spanned` is
    /// the source text the error points at, used to name what the message leaves unnamed.
    pub fn toml(message: &str, spanned: &str) -> Self {
        let message = toml_words(message.trim_end());
        if let Some(rest) = message.strip_prefix("unknown field `") {
            let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
            let valid = backticked(expected);
            let help = match crate::suggest::closest(field, valid.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `{best}`? valid fields: {}", valid.join(", ")),
                None if valid.is_empty() => "this table takes no fields".to_string(),
                None => format!("valid fields: {}", valid.join(", ")),
            };
            return Self::new(Code::UnknownField, format!("unknown field `{field}`")).help(help);
        }
        if let Some(rest) = message.strip_prefix("missing field `") {
            let field = rest.split('`').next().unwrap_or(rest);
            let table = spanned.lines().next().unwrap_or("").trim();
            let table = if table.starts_with('[') {
                format!(" `{table}`")
            } else {
                String::new()
            };
            return Self::new(
                Code::MissingField,
                format!("table{table} is missing the required field `{field}`"),
            )
            .help(format!("add `{field} = ...` to this table"));
        }
        if message.starts_with("duplicate key") {
            let key = spanned
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches(['[', ']', '"']);
            return Self::new(
                Code::DuplicateDefinition,
                format!("`{key}` is defined twice in this file"),
            )
            .help("a table or key may appear once; merge the two definitions");
        }
        if let Some(rest) = message.strip_prefix("unknown variant `") {
            let (value, expected) = rest.split_once('`').unwrap_or((rest, ""));
            let valid = backticked(expected);
            let listed: Vec<String> = valid.iter().map(|v| format!("`{v}`")).collect();
            let help = match crate::suggest::closest(value, valid.iter().map(String::as_str)) {
                Some(best) => format!(
                    "did you mean `{best}`? expected one of {}",
                    listed.join(", ")
                ),
                None => format!("expected one of {}", listed.join(", ")),
            };
            return Self::new(Code::InvalidValue, format!("unknown variant `{value}`")).help(help);
        }
        let invalid = ["invalid type", "invalid value", "invalid length"];
        if invalid.iter().any(|p| message.starts_with(p)) {
            let (message, help) = match message.split_once(", expected ") {
                Some((what, expected)) => (what.to_string(), Some(format!("expected {expected}"))),
                None => (message.to_string(), None),
            };
            return Self::new(Code::InvalidValue, message).help_opt(help);
        }
        let mut lines = message.lines();
        let first = lines.next().unwrap_or("invalid TOML").to_string();
        let rest: Vec<&str> = lines.map(str::trim).filter(|l| !l.is_empty()).collect();
        let help = (!rest.is_empty()).then(|| rest.join("; "));
        Self::new(Code::Syntax, first).help_opt(help)
    }

    pub fn misplaced_section(section: &str) -> Self {
        Self::new(
            Code::MisplacedSection,
            format!("`[{section}]` may only appear in secretcat.toml"),
        )
        .help("fragments define keys, secrets and bundles; move this table to secretcat.toml")
    }

    pub fn missing_store() -> Self {
        Self::new(
            Code::MissingStore,
            "secretcat.toml has no [store] table".into(),
        )
        .help(
            "add [store] with at least `name` (the ESO store) and `mount` (the Vault KV v2 mount)",
        )
    }

    pub fn duplicate(kind: &str, name: &str) -> Self {
        Self::new(
            Code::DuplicateDefinition,
            format!("{kind} `{name}` is defined twice"),
        )
        .help("each name may be defined once across all catalog files; rename or remove one")
    }

    // ---- validation ------------------------------------------------------------------------

    pub fn unknown_key(secret: &str, key: &str, closest: Option<&str>) -> Self {
        let help = match closest {
            Some(best) => did_you_mean(best),
            None => format!("define it with a [keys.\"{key}\"] table"),
        };
        Self::new(
            Code::UnknownKey,
            format!("secret `{secret}` reads unknown key `{key}`"),
        )
        .help(help)
    }

    /// `subject` says who names it: "secret `s` belongs to", "bundle `b` needs".
    pub fn unknown_bundle(
        subject: &str,
        bundle: &str,
        closest: Option<&str>,
        all: &[&str],
    ) -> Self {
        let help = match closest {
            Some(best) => did_you_mean(best),
            None if all.is_empty() => "no bundles are defined: add a [bundles.NAME] table".into(),
            None => format!("defined bundles: {}", all.join(", ")),
        };
        Self::new(
            Code::UnknownBundle,
            format!("{subject} unknown bundle `{bundle}`"),
        )
        .help(help)
    }

    /// `subject` says who names it: "secret `s` is limited to", "key `k` overrides".
    pub fn unknown_environment(subject: &str, env: &str, all: &[&str]) -> Self {
        let help = match all {
            [] => "no environments are declared in secretcat.toml".to_string(),
            all => format!("declared environments: {}", some_of(all)),
        };
        let mut diagnostic = Self::new(
            Code::UnknownEnvironment,
            format!("{subject} unknown environment `{env}`"),
        )
        .help(help);
        diagnostic.suggest_for = Some(env.to_string());
        diagnostic
    }

    pub fn missing_value_source(key: &str, seeding: &[&str]) -> Self {
        Self::new(
            Code::MissingValueSource,
            format!("key `{key}` has no value source"),
        )
        .help(format!(
            "environment(s) {} seed fixtures; add one of `fixture = \"...\"`, `generate = {{ length = N }}` or `external = \"where it comes from\"`",
            seeding.join(", ")
        ))
    }

    pub fn conflicting_value_sources(key: &str, sources: &[&str]) -> Self {
        Self::new(
            Code::ConflictingValueSources,
            format!(
                "key `{key}` has {} value sources: {}",
                sources.len(),
                sources.join(", ")
            ),
        )
        .help("a key takes exactly one of `fixture`, `generate` or `external`")
    }

    pub fn invalid_length(key: &str, what: &str) -> Self {
        Self::new(Code::InvalidLength, format!("key `{key}`: {what}"))
    }

    pub fn unknown_required_key(
        secret: &str,
        consumer: &str,
        data_key: &str,
        closest: Option<&str>,
        provided: &[&str],
    ) -> Self {
        let help = match closest {
            Some(best) => format!(
                "did you mean `{best}`? `{secret}` provides: {}",
                provided.join(", ")
            ),
            None => format!(
                "`{secret}` provides: {}; add `data.{data_key}` to the secret or drop it from `requires`",
                provided.join(", ")
            ),
        };
        Self::new(
            Code::UnknownRequiredKey,
            format!("consumer `{consumer}` requires `{data_key}`, which secret `{secret}` does not provide"),
        )
        .help(help)
    }

    pub fn empty_secret(secret: &str) -> Self {
        Self::new(
            Code::EmptySecret,
            format!("secret `{secret}` has no data entries"),
        )
        .help("map at least one Secret data key to a Vault key: data.MY_KEY = \"vault-key\"")
    }

    pub fn duplicate_target(
        what: &str,
        name: &str,
        namespace: &str,
        first: &str,
        second: &str,
    ) -> Self {
        Self::new(
            Code::DuplicateTarget,
            format!("secrets `{first}` and `{second}` both render {what} `{name}` in namespace `{namespace}`"),
        )
        .help("two owners of one object make Helm and Argo CD fight over it; give one secret another name or namespace")
    }

    /// Two secrets in different catalog namespaces that one environment maps to the same one.
    pub fn duplicate_target_in(
        what: &str,
        name: &str,
        namespace: &str,
        env: &str,
        first: &str,
        second: &str,
    ) -> Self {
        Self::new(
            Code::DuplicateTarget,
            format!("secrets `{first}` and `{second}` both render {what} `{name}` in namespace `{namespace}` in environment `{env}`"),
        )
        .help(format!("environment `{env}` maps both of their namespaces to `{namespace}`: map them apart, or give one secret another name"))
    }

    pub fn duplicate_alias(alias: &str, first: &str, second: &str) -> Self {
        Self::new(
            Code::DuplicateAlias,
            format!("keys `{first}` and `{second}` both have alias `{alias}` in the key map"),
        )
        .help("set `alias = \"...\"` on one of them")
    }

    pub fn invalid_name(what: &str, name: &str, rule: &str) -> Self {
        Self::new(
            Code::InvalidName,
            format!("invalid {what} `{name}`: {rule}"),
        )
    }

    pub fn invalid_data_key(secret: &str, key: &str) -> Self {
        Self::new(
            Code::InvalidDataKey,
            format!("secret `{secret}` has data key `{key}`, which ESO rejects"),
        )
        .help("Secret data keys must match ^[-._a-zA-Z0-9]+$")
    }

    pub fn invalid_env_var(secret: &str, key: &str, bundle: &str) -> Self {
        Self::new(
            Code::InvalidEnvVar,
            format!("secret `{secret}` in integration bundle `{bundle}` has data key `{key}`, which is not an environment variable name"),
        )
        .help("test runners read these with envFrom, which skips such keys silently; use [A-Za-z_][A-Za-z0-9_]*")
    }

    pub fn invalid_duration(value: &str, owner: &str) -> Self {
        let help = match crate::validate::names::duration_fix(value) {
            Some(fixed) => format!("Go durations have no days: try `{fixed}`"),
            None => "use a number with a unit: 30s, 15m, 1h, 1h30m (0s means fetch once)".into(),
        };
        Self::new(
            Code::InvalidDuration,
            format!("{owner} has refresh_interval `{value}`, which is not a Go duration"),
        )
        .help(help)
    }

    pub fn invalid_output_path(path: &str, why: &str) -> Self {
        Self::new(
            Code::InvalidOutputPath,
            format!("output path `{path}` {why}"),
        )
    }

    pub fn template(name: &str, error: &str) -> Self {
        Self::new(Code::Template, format!("template `{name}`: {error}"))
    }

    pub fn unknown_template(path: &str) -> Self {
        Self::new(
            Code::Template,
            format!("`{path}` is not a template secretcat uses"),
        )
        .on_path(path)
    }

    pub fn mount_prefix(key: &str, mount: &str) -> Self {
        let stripped = key
            .strip_prefix(mount)
            .unwrap_or(key)
            .trim_start_matches('/');
        Self::new(
            Code::MountPrefix,
            format!("key `{key}` starts with the store mount `{mount}/`"),
        )
        .help(format!(
            "ESO strips a leading mount from remoteRef.key, so this reads `{stripped}`; name the key `{stripped}` (paths are relative to the mount)"
        ))
    }

    pub fn fixture_too_short(key: &str, length: usize, min: u64) -> Self {
        Self::new(
            Code::FixtureTooShort,
            format!("fixture of key `{key}` is {length} characters, below its min_length of {min}"),
        )
        .help("lengthen the fixture, or use `generate = { length = N }`")
    }

    pub fn fixture_property(secret: &str, key: &str, property: &str, seeded: &str) -> Self {
        Self::new(
            Code::FixtureProperty,
            format!("secret `{secret}` reads property `{property}` of key `{key}`, but the bootstrap job seeds only `{seeded}`"),
        )
        .help(format!(
            "ESO fails with `cannot find secret data for key: \"{property}\"` wherever fixtures are seeded; read `{seeded}`, or make the key `external`"
        ))
    }

    /// What reports, `explain` and `list` show instead of a value that looks like a real
    /// credential of the kind named.
    pub fn redacted(kind: &str) -> String {
        format!("«redacted: looks like {kind}»")
    }

    pub fn credential_like_fixture(key: &str, kind: &str) -> Self {
        Self::new(
            Code::CredentialLikeFixture,
            format!("fixture of key `{key}` looks like a real credential ({kind})"),
        )
        .help("fixtures are committed to git: use an obvious dev value, `generate = { length = N }` or `external`; if it is a harmless test value, say why with `allow_credential_like = \"...\"`")
    }

    pub fn missing_reason(secret: &str) -> Self {
        Self::new(
            Code::MissingField,
            format!("secret `{secret}` is pre-provisioned without a reason"),
        )
        .help("say why it must exist before its consumers: `preprovision_reason = \"...\"`")
    }

    pub fn unknown_owner(subject: &str, owner: &str, all: &[&str]) -> Self {
        let mut diagnostic = Self::new(
            Code::UnknownOwner,
            format!("{subject} unknown owner `{owner}`"),
        )
        .help(format!(
            "declared owners: {}; or declare it with [owners.{owner}] team = \"...\", contact = \"...\"",
            some_of(all)
        ));
        diagnostic.suggest_for = Some(owner.to_string());
        diagnostic
    }

    pub fn missing_owner(what: &str, name: &str, all: &[&str]) -> Self {
        Self::new(Code::MissingOwner, format!("{what} `{name}` has no owner")).help(format!(
            "every key and secret has exactly one owner: add `owner = \"...\"`, one of: {}",
            all.join(", ")
        ))
    }

    pub fn unknown_namespace(
        env: &str,
        namespace: &str,
        closest: Option<&str>,
        used: &[&str],
    ) -> Self {
        let help = match closest {
            Some(best) => did_you_mean(best),
            None => format!("namespaces of the catalog: {}", used.join(", ")),
        };
        Self::new(
            Code::UnknownNamespace,
            format!(
                "environment `{env}` maps namespace `{namespace}`, which no bundle or secret uses"
            ),
        )
        .help(help)
    }

    pub fn needs_cycle(cycle: &[&str]) -> Self {
        if let [bundle, _] = cycle {
            return Self::new(Code::NeedsCycle, format!("bundle `{bundle}` needs itself"))
                .help("drop it from its own `needs`");
        }
        Self::new(
            Code::NeedsCycle,
            format!("bundles need each other in a cycle: {}", cycle.join(" -> ")),
        )
        .help("a bundle can only need bundles applied before it; drop one of these `needs`")
    }

    pub fn required_not_external(key: &str, env: Option<&str>, source: &str) -> Self {
        let (place, there) = match env {
            Some(e) => (format!(" in environment `{e}`"), " there"),
            None => (String::new(), ""),
        };
        Self::new(
            Code::RequiredNotExternal,
            format!("key `{key}` is `required`{place}, but its value{there} is {source}"),
        )
        .help("`required` says a real value must exist in Vault before ESO syncs, which only an `external` value can promise; drop `required` or make the value `external` there")
    }

    pub fn fixture_not_allowed(key: &str, env: &str, source: &str, secret: &str) -> Self {
        Self::new(
            Code::FixtureNotAllowed,
            format!("key `{key}` is {source} in environment `{env}`, which does not seed fixtures; secret `{secret}` reads it there"),
        )
        .help(format!(
            "give it a real source there: `overrides.{env} = {{ external = \"where the value comes from\" }}`"
        ))
    }

    pub fn consumer_without_secret(consumer: &str, secret: &str, envs: &[&str], why: &str) -> Self {
        Self::new(
            Code::ConsumerWithoutSecret,
            format!(
                "consumer `{consumer}` of secret `{secret}` is installed in {}, where the secret does not exist ({why})",
                envs.join(", ")
            ),
        )
        .help("limit the consumer with `environments = [...]`, or make the secret exist there")
    }

    pub fn layer15_single_owner(
        secret: &str,
        bundle: &str,
        owners: &[&str],
        consumers: usize,
    ) -> Self {
        let (message, help) = match owners {
            [] if consumers > 0 => (
                format!("secret `{secret}` in Layer 15 bundle `{bundle}` has consumers, but none of them has an owner"),
                "Layer 15 holds platform-wide secrets only: give its consumers (or the secret) an owner, so it can be told whether several teams read it".to_string(),
            ),
            [] => (
                format!("secret `{secret}` in Layer 15 bundle `{bundle}` has no consumers"),
                "Layer 15 holds platform-wide secrets only: declare who reads it, move it to the owner's chart bundle, or set `preprovision = true` with a `preprovision_reason`".to_string(),
            ),
            [owner] => (
                format!("secret `{secret}` in Layer 15 bundle `{bundle}` is read only by workloads of `{owner}`"),
                format!("Layer 15 holds platform-wide secrets only: move it to a chart bundle of `{owner}`, or set `preprovision = true` with a `preprovision_reason` if it must exist before `{owner}`'s charts are installed"),
            ),
            _ => unreachable!("a secret with consumers of two owners is platform-wide"),
        };
        Self::new(Code::Layer15SingleOwner, message).help(help)
    }

    pub fn consumer_before_secret(
        consumer: &str,
        wave: i64,
        bundle: &str,
        bundle_wave: i64,
    ) -> Self {
        Self::new(
            Code::ConsumerBeforeSecret,
            format!("consumer `{consumer}` syncs in wave {wave}, but its secret's bundle `{bundle}` syncs in wave {bundle_wave}"),
        )
        .help(format!(
            "the workload starts before its Secret exists; give it `sync_wave = {}` or later",
            bundle_wave + 1
        ))
    }

    pub fn needs_not_installed(bundle: &str, needed: &str, envs: &[&str]) -> Self {
        Self::new(
            Code::NeedsNotInstalled,
            format!(
                "bundle `{bundle}` needs `{needed}`, which is not installed in {}",
                envs.join(", ")
            ),
        )
        .help(format!(
            "Helmfile refuses a `needs` on a release that is not installed: install `{needed}` there too, or do not install `{bundle}` there"
        ))
    }

    pub fn store_namespace(
        secret: &str,
        namespace: &str,
        env: Option<&str>,
        store: &str,
        store_namespace: &str,
    ) -> Self {
        let place = env.map_or(String::new(), |e| format!(" in environment `{e}`"));
        Self::new(
            Code::StoreNamespace,
            format!("secret `{secret}` lives in namespace `{namespace}`{place}, but SecretStore `{store}` is in namespace `{store_namespace}`"),
        )
        .help("a namespaced SecretStore serves only ExternalSecrets of its own namespace: map the namespace to the store's, or use a ClusterSecretStore there")
    }

    // ---- verify: rendered manifests -------------------------------------------------------
    // `at` names the place in a manifest: "document 3 (Deployment ameide/platform),
    // spec.template.spec.containers[0].env[2]"; the diagnostic's path is the file.

    pub fn invalid_manifest(file: &str, detail: &str) -> Self {
        Self::new(
            Code::InvalidManifest,
            format!("cannot verify `{file}`: {detail}"),
        )
        .on_path(file)
    }

    pub fn unknown_secret(
        file: &str,
        at: &str,
        secret: &str,
        namespace: &str,
        closest: Option<&str>,
    ) -> Self {
        let help = match closest {
            Some(best) => did_you_mean(best),
            None => "add it to the catalog as a [secrets.NAME], or declare what creates it in [unmanaged_secrets.NAME]".into(),
        };
        Self::new(
            Code::UnknownSecret,
            format!("{at} reads Secret `{secret}` in namespace `{namespace}`, which no catalog secret produces"),
        )
        .on_path(file)
        .help(help)
    }

    pub fn unknown_secret_key(
        file: &str,
        at: &str,
        secret: &str,
        key: &str,
        closest: Option<&str>,
        provided: &[&str],
    ) -> Self {
        let help = match closest {
            Some(best) => format!(
                "did you mean `{best}`? `{secret}` provides: {}",
                provided.join(", ")
            ),
            None => format!("`{secret}` provides: {}", provided.join(", ")),
        };
        Self::new(
            Code::UnknownSecretKey,
            format!("{at} reads key `{key}` of Secret `{secret}`, which it does not provide"),
        )
        .on_path(file)
        .help(help)
    }

    pub fn secret_not_in_namespace(
        file: &str,
        at: &str,
        secret: &str,
        namespace: &str,
        synced_to: &[&str],
    ) -> Self {
        Self::new(
            Code::SecretNotInNamespace,
            format!("{at} reads Secret `{secret}` in namespace `{namespace}`, but the catalog syncs it only to {}", synced_to.join(", ")),
        )
        .on_path(file)
        .help("a Secret is only readable in its own namespace: sync it there too (another catalog secret with this `target`), or run the workload where the Secret is")
    }

    pub fn inline_secret(file: &str, at: &str, secret: &str, namespace: &str) -> Self {
        Self::new(
            Code::InlineSecret,
            format!("{at} is Secret `{secret}` in namespace `{namespace}` with inline data, which the catalog does not declare"),
        )
        .on_path(file)
        .help("secrets come from Vault through ExternalSecrets: move the values to Vault keys and the Secret to the catalog, or declare what creates it in [unmanaged_secrets.NAME]")
    }

    pub fn inline_credential(file: &str, at: &str, variable: &str) -> Self {
        Self::new(
            Code::InlineCredential,
            format!("{at} sets `{variable}` to a literal value"),
        )
        .on_path(file)
        .help("credentials come from a Secret: use `valueFrom.secretKeyRef` with a catalog secret")
    }

    // ---- import ----------------------------------------------------------------------------

    pub fn import_unmapped(file: &str, at: &str, what: &str) -> Self {
        Self::new(Code::ImportUnmapped, format!("{at}: {what}"))
            .on_path(file)
            .help("the catalog was written without it: add it by hand where the catalog format allows, or keep this ExternalSecret outside secretcat")
    }

    pub fn import_conflict(path: &str, what: &str) -> Self {
        Self::new(Code::ImportConflict, format!("`{path}` {what}"))
            .on_path(path)
            .help("import into an empty catalog folder (--catalog DIR), then merge by hand")
    }

    // ---- live Vault: seed and preflight ----------------------------------------------------
    // Messages name the server and the request, never the token.

    pub fn vault_unreachable(address: &str, detail: &str) -> Self {
        Self::new(
            Code::VaultUnreachable,
            format!("cannot reach Vault at `{address}`: {detail}"),
        )
        .help("check the address (--addr, VAULT_ADDR or BAO_ADDR) and that the server is running; `vault status` asks the same server")
    }

    pub fn vault_timeout(address: &str, request: &str, seconds: u64) -> Self {
        Self::new(
            Code::VaultTimeout,
            format!("Vault at `{address}` did not answer `{request}` within {seconds} s"),
        )
        .help("the address accepts connections but nothing answers there: check that it is Vault and that it is healthy (`vault status`), or allow more time with --timeout SECONDS")
    }

    pub fn vault_denied(request: &str, path: &str, capabilities: &[&str]) -> Self {
        let listed: Vec<String> = capabilities.iter().map(|c| format!("`{c}`")).collect();
        let quoted: Vec<String> = capabilities.iter().map(|c| format!("\"{c}\"")).collect();
        Self::new(
            Code::VaultDenied,
            format!(
                "Vault denied `{request}`: the token's policies do not grant {} on `{path}`",
                listed.join(" and ")
            ),
        )
        .help(format!(
            "add to a policy of the token: path \"{path}\" {{ capabilities = [{}] }} (or a glob covering it, such as the mount's `*`)",
            quoted.join(", ")
        ))
    }

    pub fn vault_invalid_token(address: &str, request: &str) -> Self {
        Self::new(
            Code::VaultDenied,
            format!("Vault at `{address}` denied `{request}`: it does not accept the token (unknown, expired or revoked)"),
        )
        .help("log in again and pass the new token (VAULT_TOKEN, BAO_TOKEN or --token-file FILE); `vault token lookup` tells whether a token is valid")
    }

    pub fn vault_sealed(address: &str) -> Self {
        Self::new(
            Code::VaultSealed,
            format!("Vault at `{address}` is sealed (HTTP 503)"),
        )
        .help("unseal it (`vault operator unseal`), then run again; a sealed Vault serves no secret to ESO either")
    }

    pub fn vault_not_kv2(mount: &str, found: &str) -> Self {
        Self::new(
            Code::VaultNotKv2,
            format!("store mount `{mount}` {found}, but ESO's store reads KV version 2"),
        )
        .help(format!(
            "point the store's `mount` at a KV v2 mount, or enable one: `vault secrets enable -path={mount} kv-v2`"
        ))
    }

    /// `answer` is what came back: `HTTP 500: <Vault's errors>`, or what went wrong without one.
    pub fn vault_response(request: &str, answer: &str) -> Self {
        Self::new(
            Code::VaultResponse,
            format!("unexpected answer from Vault to `{request}`: {answer}"),
        )
        .help("check that the address is Vault or OpenBao (`vault status`); its server log may say more")
    }

    /// A preflight gap: what the read is, what is wrong with the value, and how to close it
    /// (`exists`: whether the Vault key is there, so a fix patches it instead of creating it).
    fn vault_gap(code: Code, read: &SecretRead, gap: &str, exists: bool) -> Self {
        Self::new(
            code,
            format!("{}, {gap}{}", read.describe(), read.affected()),
        )
        .help(read.fix(exists))
    }

    pub fn missing_vault_key(read: &SecretRead) -> Self {
        Self::vault_gap(Code::MissingVaultKey, read, "which does not exist", false)
    }

    /// A key whose latest version is deleted (or destroyed): ESO reads nothing, and a
    /// write-once seed leaves it as it is.
    pub fn deleted_vault_key(read: &SecretRead, version: u64, destroyed: bool) -> Self {
        let (mount, key) = (read.mount, read.key);
        let (state, help) = match destroyed {
            false => (
                "deleted",
                format!(
                    "`vault kv undelete -mount={mount} -versions={version} {key}` brings it back; or {}",
                    read.fix(true)
                ),
            ),
            true => ("destroyed", read.fix(true)),
        };
        let gap = format!("whose latest version ({version}) is {state}");
        Self::vault_gap(Code::MissingVaultKey, read, &gap, true).help(help)
    }

    pub fn missing_vault_property(read: &SecretRead, present: &[&str]) -> Self {
        let gap = match present {
            [] => "but the key has no properties".to_string(),
            _ => format!("but the key has only {}", present.join(", ")),
        };
        Self::vault_gap(Code::MissingVaultKey, read, &gap, true)
    }

    pub fn empty_vault_value(read: &SecretRead) -> Self {
        Self::vault_gap(Code::EmptyVaultValue, read, "whose value is empty", true)
    }

    pub fn vault_value_too_short(read: &SecretRead, length: usize, min: u64) -> Self {
        let gap = format!("whose value is {length} characters, below its min_length of {min}");
        let finding = Self::vault_gap(Code::VaultValueTooShort, read, &gap, true);
        let help = format!(
            "the catalog asks for at least {min} characters; {}",
            finding.help.as_deref().unwrap_or_default()
        );
        finding.help(help)
    }

    pub fn fixture_in_vault(read: &SecretRead, env: &str, leftover: Leftover) -> Self {
        let what = match leftover {
            Leftover::Fixture => "the catalog's development fixture".to_string(),
            Leftover::Placeholder(placeholder) => format!("the placeholder `{placeholder}`"),
        };
        let gap =
            format!("which holds {what} in environment `{env}`, where fixtures are not seeded");
        Self::vault_gap(Code::FixtureInVault, read, &gap, true)
    }

    pub fn unused_key(key: &str) -> Self {
        Self::new(
            Code::UnusedKey,
            format!("key `{key}` is not read by any secret"),
        )
        .help("remove it, or map it into a secret's `data`")
    }
}

/// One value a secret reads from Vault, as preflight findings name it.
pub struct SecretRead<'a> {
    pub secret: &'a str,
    /// The Secret data key; `None` for a key read whole (`extract`).
    pub data_key: Option<&'a str>,
    pub mount: &'a str,
    pub key: &'a str,
    /// `None` for a key read whole.
    pub property: Option<&'a str>,
    /// The workloads that read this data key, sorted.
    pub consumers: Vec<&'a str>,
    pub fix: GapFix<'a>,
}

/// How a preflight gap is closed, as the catalog sees the key in that environment.
pub enum GapFix<'a> {
    /// The catalog seeds the key there (`env`: the `--env` to name).
    Seed { env: Option<&'a str> },
    /// A real value must be written, from where the catalog says it comes, if it says.
    Write { origin: Option<&'a str> },
}

/// What a value left over in Vault is.
pub enum Leftover<'a> {
    /// One of the key's fixtures.
    Fixture,
    Placeholder(&'a str),
}

impl SecretRead<'_> {
    fn describe(&self) -> String {
        let (secret, mount, key) = (self.secret, self.mount, self.key);
        match (self.data_key, self.property) {
            (Some(data_key), Some(property)) => format!(
                "secret `{secret}` reads `{data_key}` from property `{property}` of Vault key `{mount}/{key}`"
            ),
            _ => format!("secret `{secret}` reads every property of Vault key `{mount}/{key}`"),
        }
    }

    /// `kv put` creates a key; `kv patch` changes one property of an existing key, keeping the rest.
    fn fix(&self, exists: bool) -> String {
        let (mount, key) = (self.mount, self.key);
        match self.fix {
            GapFix::Seed { env } => {
                let env = env.map_or(String::new(), |e| format!(" --env {e}"));
                format!(
                    "the catalog seeds this key here: run `secretcat seed{env}` (`--force {key}` rewrites an existing value)"
                )
            }
            GapFix::Write { origin } => {
                let origin = origin.map_or(String::new(), |o| format!(" from {o}"));
                let property = self.property.unwrap_or("PROPERTY");
                let verb = if exists { "patch" } else { "put" };
                format!(
                    "write the real value{origin}: `vault kv {verb} -mount={mount} {key} {property}=...`"
                )
            }
        }
    }

    fn affected(&self) -> String {
        match self.consumers.as_slice() {
            [] => "; no declared consumer requires it".to_string(),
            consumers => format!("; consumers affected: {}", consumers.join(", ")),
        }
    }
}

/// A list of names for a help line: the first 20, and how many more, so a catalog declaring
/// thousands does not print thousands with every error.
fn some_of(all: &[&str]) -> String {
    const SHOWN: usize = 20;
    match all.len() {
        n if n <= SHOWN => all.join(", "),
        n => format!("{}, and {} more", all[..SHOWN].join(", "), n - SHOWN),
    }
}

/// The help of an unknown name that has a close existing one.
fn did_you_mean(best: &str) -> String {
    format!("did you mean `{best}`?")
}

/// serde's data-model words in TOML's vocabulary.
fn toml_words(message: &str) -> String {
    [
        ("invalid type: sequence", "invalid type: array"),
        ("invalid type: map", "invalid type: table"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected a table"),
        ("expected u64", "expected a whole number of 0 or more"),
        ("expected a boolean", "expected true or false"),
        ("invalid type: floating point", "invalid type: float"),
    ]
    .iter()
    .fold(message.to_string(), |text, (serde, toml)| {
        text.replace(serde, toml)
    })
}

/// The names inside backticks of a serde "expected one of `a`, `b`" list.
fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_and_documented() {
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
        for name in &names {
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()),
                "{name}"
            );
        }
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate code name");
        assert!(Code::ALL.iter().all(|c| c.description().ends_with('.')));
    }

    #[test]
    fn unknown_field_lists_valid_fields_and_suggests_the_closest() {
        let d = Diagnostic::toml(
            "unknown field `bundel`, expected one of `bundle`, `namespace`, `owner`",
            "bundel",
        );
        assert_eq!(d.code, Code::UnknownField);
        assert_eq!(d.message, "unknown field `bundel`");
        assert_eq!(
            d.help.as_deref(),
            Some("did you mean `bundle`? valid fields: bundle, namespace, owner")
        );
    }

    #[test]
    fn type_errors_split_the_expectation_into_the_hint() {
        let d = Diagnostic::toml("invalid type: integer `5`, expected a string", "");
        assert_eq!(d.code, Code::InvalidValue);
        assert_eq!(d.message, "invalid type: integer `5`");
        assert_eq!(d.help.as_deref(), Some("expected a string"));
        let missing = Diagnostic::toml(
            "missing field `kind`",
            "[bundles.platform]\nnamespace = \"x\"",
        );
        assert_eq!(missing.code, Code::MissingField);
        assert_eq!(
            missing.message,
            "table `[bundles.platform]` is missing the required field `kind`"
        );
        assert_eq!(
            Diagnostic::toml("invalid table header\nexpected `.`, `]`", "").code,
            Code::Syntax
        );
        let sequence = Diagnostic::toml("invalid type: sequence, expected a string", "");
        assert_eq!(sequence.message, "invalid type: array");
        let duplicate = Diagnostic::toml("duplicate key", "db-url");
        assert_eq!(
            (duplicate.code, duplicate.message.as_str()),
            (
                Code::DuplicateDefinition,
                "`db-url` is defined twice in this file"
            )
        );
    }
}
