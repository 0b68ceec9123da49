//! The command line: arguments, the console the commands print to, and the single place where a
//! run's result becomes an exit code. Nothing here knows the catalog format.

mod commands;
#[cfg(feature = "vault")]
mod vault;

use std::io::Write;
use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::diagnostics::{Diagnostic, Severity};
use crate::graph::GraphFormat;
use crate::inventory::{ListFormat, ListKind};
use crate::report::{Format, Palette};
use crate::terminal::Net;

/// Compile a TOML catalog of Vault keys and Kubernetes secrets into the files a GitOps platform
/// keeps in sync: the Vault key map, ESO ExternalSecret values, the bootstrap fixture map, the
/// integration-test secrets, a JSON Schema and SECRETS.md.
#[derive(Debug, Parser)]
#[command(name = "secretcat", version, max_term_width = 100)]
#[command(
    after_help = "Exit codes: 0 clean, 1 drift or findings, 2 bad input or usage.\n\n\
Examples:\n  secretcat generate                 write every output from ./catalog\n  \
secretcat check                    fail if generated/ drifted or a guardrail broke\n  \
secretcat explain platform-db-url  follow one key to its secrets and consumers"
)]
pub struct Args {
    /// Folder holding secretcat.toml and the fragments [default: ROOT/catalog, or ./catalog]
    #[arg(long, global = true, value_name = "DIR")]
    pub catalog: Option<PathBuf>,
    /// Repository root the outputs are written below [default: the catalog's parent]
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// When to colour output; `auto` colours terminals unless NO_COLOR is set
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: ColorChoice,
    /// Print only errors and findings: no warnings, summaries, diffs or file lists
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also list unchanged and up-to-date files
    #[arg(long, short, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile the catalog and write every output; reports written, unchanged and removed files.
    #[command(
        after_help = "Nothing is written unless the whole catalog validates.\n\n\
Examples:\n  secretcat generate\n  secretcat generate --catalog deploy/catalog --root deploy"
    )]
    Generate,
    /// Compare the outputs on disk with the catalog (changed, missing, orphaned) and report every finding.
    #[command(
        after_help = "Exit 1 on drift or findings, 2 when the catalog does not compile.\n\n\
Examples:\n  secretcat check\n  secretcat check --format github   annotations for GitHub Actions\n  \
secretcat check --format json     versioned report for other tools\n  \
secretcat check --env production   only the files production deploys"
    )]
    Check {
        /// Report format
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Compare only the files of one environment: the shared ones and its own folder
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
    },
    /// Write catalog fragments from existing ExternalSecret manifests, values files, a key map and
    /// a fixture map; reports every field the catalog cannot express.
    #[command(
        after_help = "Writes new files only, into --catalog (default ./catalog); nothing is written when any input cannot be read.\n\n\
Examples:\n  secretcat import infra/values/platform/ --catalog catalog\n  \
kubectl get externalsecrets -A -o yaml | secretcat import -"
    )]
    Import {
        /// Files or folders of YAML; `-` reads stdin
        #[arg(required = true, value_name = "PATH")]
        inputs: Vec<std::path::PathBuf>,
    },
    /// Check rendered manifests (helm template output) against the catalog: every Secret a workload
    /// reads must be one the catalog produces, in that namespace, with that key; no inline secrets.
    #[command(
        after_help = "Exit 1 on findings, 2 when the catalog does not compile or a manifest cannot be read.\n\n\
Examples:\n  helm template platform charts/platform | secretcat verify -\n  \
secretcat verify rendered/ --env production --format github\n  \
secretcat verify out.yaml --value-path auth.existingSecret"
    )]
    Verify {
        /// Manifest files or folders; `-` reads stdin
        #[arg(required = true, value_name = "MANIFEST")]
        manifests: Vec<std::path::PathBuf>,
        /// The environment the manifests were rendered for (default: any)
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        /// A values path that names existing Secrets (repeatable; default: existingSecret, existingSecrets, extraSecretRefs)
        #[arg(long = "value-path", value_name = "PATH")]
        value_paths: Vec<String>,
        /// Report format
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Write an environment's fixtures and generated values into Vault KV v2, write-once: a key
    /// that already exists is kept as it is.
    #[cfg(feature = "vault")]
    #[command(
        after_help = "Only in environments that seed fixtures. The token is never printed.\n\n\
Examples:\n  VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=... secretcat seed --env local\n  \
secretcat seed --env dev --dry-run                   what would be written, no values\n  \
secretcat seed --env dev --force platform-db-url     rewrite one key on purpose"
    )]
    Seed {
        /// The environment to seed; it must have `fixtures = true`
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        /// Overwrite this key although it exists in Vault (repeatable)
        #[arg(long, value_name = "KEY")]
        force: Vec<String>,
        /// List what would be created, kept and overwritten (reads key metadata); write nothing
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        vault: VaultArgs,
    },
    /// Check that every Vault value the secrets installed in an environment read exists, is not
    /// empty, meets min_length and, where fixtures are not seeded, is no fixture or placeholder.
    #[cfg(feature = "vault")]
    #[command(
        after_help = "Exit 1 on any gap, 2 when Vault cannot be read (unreachable, sealed, denied, not KV v2).\n\n\
Examples:\n  secretcat preflight --env production\n  \
secretcat preflight --env staging --format github --token-file /var/run/secrets/vault-token"
    )]
    Preflight {
        /// The environment whose installed secrets are checked
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        /// Report format
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        #[command(flatten)]
        vault: VaultArgs,
    },
    /// Print the catalog's JSON Schema (draft-07).
    #[command(after_help = "Example:\n  secretcat schema > catalog.schema.json")]
    Schema,
    /// List the compiled inventory.
    #[command(after_help = "Examples:\n  secretcat list secrets\n  \
secretcat list keys --format json | jq '.[] | select(.source.kind == \"external\")'")]
    List {
        /// What to list
        #[arg(value_enum)]
        what: ListKind,
        /// Output format
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
        /// The inventory as one environment sees it: its secrets, namespaces, store and key sources
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
    },
    /// Follow one key or secret end to end: Vault key -> ExternalSecret -> Secret -> consumers.
    #[command(
        after_help = "Examples:\n  secretcat explain platform-db-url\n  secretcat explain platform-db-credentials"
    )]
    Explain {
        /// A key path or a secret name
        name: String,
    },
    /// Print the graph store -> bundles -> secrets -> consumers, or one key's or secret's part of it.
    #[command(after_help = "Examples:\n  secretcat graph > secrets.mmd\n  \
secretcat graph --format dot platform-db-url | dot -Tsvg > platform-db-url.svg")]
    Graph {
        /// A key path or secret name to draw alone
        name: Option<String>,
        /// Mermaid (GitHub renders it in Markdown) or Graphviz DOT
        #[arg(long, value_enum, default_value = "mermaid")]
        format: GraphFormat,
    },
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  secretcat completions bash > /etc/bash_completion.d/secretcat\n  \
secretcat completions zsh > \"${fpath[1]}/_secretcat\""
    )]
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(after_help = "Example:\n  secretcat man > /usr/local/share/man/man1/secretcat.1")]
    Man,
}

/// Where `seed` and `preflight` reach Vault.
#[cfg(feature = "vault")]
#[derive(Debug, clap::Args)]
pub struct VaultArgs {
    /// Vault (or OpenBao) address [default: $VAULT_ADDR, else $BAO_ADDR]
    #[arg(long, value_name = "URL")]
    pub addr: Option<String>,
    /// File holding the token [default: $VAULT_TOKEN, else $BAO_TOKEN, else ~/.vault-token]
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Vault namespace to work in, sent as X-Vault-Namespace [default: $VAULT_NAMESPACE, else $BAO_NAMESPACE]
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Seconds to wait for a connection, and for each answer
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub timeout: u64,
}

/// The result of a run. Exit-code contract: 0 clean; 1 drift or guardrail findings (the catalog
/// compiled); 2 bad input or usage (nothing was written). Drift and error never mix: an error wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    Drift,
    Error,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Drift => 1,
            Outcome::Error => 2,
        }
    }

    fn from_severities(diagnostics: &[Diagnostic], drifted: bool) -> Outcome {
        if diagnostics.iter().any(|d| d.severity == Severity::Error) {
            Outcome::Error
        } else if drifted || diagnostics.iter().any(|d| d.severity == Severity::Finding) {
            Outcome::Drift
        } else {
            Outcome::Clean
        }
    }
}

/// Which of the two streams are terminals, as the binary sees them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Terminals {
    pub stdout: bool,
    pub stderr: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Where commands print, and how. Both streams escape control and bidi characters (see
/// `terminal::Net`): text from a catalog, a manifest or Vault cannot drive the terminal. Text
/// `report` made, which is escaped already and may carry our own colours, goes through `raw()`.
struct Console<'a> {
    stdout: Net<'a>,
    stderr: Net<'a>,
    out_palette: Palette,
    err_palette: Palette,
    verbosity: Verbosity,
}

impl Console<'_> {
    /// Text `report` made (escaped already, maybe coloured) on stderr, as it is.
    fn report_err(&mut self, text: &str) {
        if let Ok(raw) = self.stderr.raw() {
            let _ = raw.write_all(text.as_bytes());
        }
    }

    /// Text `report` made on stdout, as it is.
    fn report_out(&mut self, text: &str) {
        if let Ok(raw) = self.stdout.raw() {
            let _ = raw.write_all(text.as_bytes());
        }
    }

    /// The closing line of a command, on stderr; `--quiet` drops it.
    fn summary(&mut self, text: &str) {
        if self.verbosity != Verbosity::Quiet {
            let _ = writeln!(self.stderr, "{text}");
        }
    }
}

fn palette(choice: ColorChoice, terminal: bool) -> Palette {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let enabled = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && !no_color,
    };
    Palette { enabled }
}

/// Run one command. Everything the user sees goes to `stdout` / `stderr`. Meant to be a process's
/// last work: `check` and `generate` leave the memory of the compiled catalog to its exit.
pub fn run(
    args: &Args,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    terminals: Terminals,
) -> Outcome {
    let verbosity = match (args.quiet, args.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, true) => Verbosity::Verbose,
        (false, false) => Verbosity::Normal,
    };
    let mut console = Console {
        stdout: Net::new(stdout),
        stderr: Net::new(stderr),
        out_palette: palette(args.color, terminals.stdout),
        err_palette: palette(args.color, terminals.stderr),
        verbosity,
    };
    let (catalog_dir, root) = commands::locations(args);
    let console = &mut console;
    match &args.command {
        Command::Schema => {
            let _ = console
                .stdout
                .write_all(crate::render::schema::render().as_bytes());
            Outcome::Clean
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                *shell,
                &mut Args::command(),
                "secretcat",
                &mut console.stdout,
            );
            Outcome::Clean
        }
        Command::Man => match clap_mangen::Man::new(Args::command()).render(&mut console.stdout) {
            Ok(()) => Outcome::Clean,
            // A closed pipe (`secretcat man | head`) is the reader's choice, not a failure.
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Outcome::Clean,
            Err(error) => {
                let _ = writeln!(
                    console.stderr,
                    "secretcat: cannot write the man page: {error}"
                );
                Outcome::Error
            }
        },
        Command::Generate => commands::generate(&catalog_dir, &root, console),
        Command::Import { inputs } => commands::import(&catalog_dir, inputs, console),
        Command::Verify {
            manifests,
            env,
            value_paths,
            format,
        } => commands::verify(
            &catalog_dir,
            &root,
            manifests,
            env.as_deref(),
            value_paths,
            *format,
            console,
        ),
        #[cfg(feature = "vault")]
        Command::Seed {
            env,
            force,
            dry_run,
            vault,
        } => vault::seed(
            &catalog_dir,
            &root,
            env.as_deref(),
            force,
            *dry_run,
            vault,
            console,
        ),
        #[cfg(feature = "vault")]
        Command::Preflight { env, format, vault } => {
            vault::preflight(&catalog_dir, &root, env.as_deref(), *format, vault, console)
        }
        Command::Check { format, env } => {
            commands::check(&catalog_dir, &root, *format, env.as_deref(), console)
        }
        Command::List { what, format, env } => {
            commands::list(&catalog_dir, &root, *what, *format, env.as_deref(), console)
        }
        Command::Explain { name } => commands::explain(&catalog_dir, &root, name, console),
        Command::Graph { name, format } => {
            commands::graph(&catalog_dir, &root, name.as_deref(), *format, console)
        }
    }
}
