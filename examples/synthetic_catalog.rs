//! Writes a deterministic synthetic catalog of N secrets (see `secretcat::synthetic`):
//! `cargo run --release --example synthetic_catalog -- 10000 /tmp/big/catalog`.

// A developer tool's usage line and I/O error go to stderr like any command line's.
#[allow(clippy::print_stderr)]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(secrets), Some(dir)) = (
        args.first()
            .and_then(|n| n.replace('_', "").parse::<usize>().ok()),
        args.get(1),
    ) else {
        eprintln!("usage: synthetic_catalog SECRETS DIR");
        std::process::exit(2);
    };
    if let Err(error) = secretcat::synthetic::write(std::path::Path::new(dir), secrets) {
        eprintln!("synthetic_catalog: cannot write {dir}: {error}");
        std::process::exit(2);
    }
}
