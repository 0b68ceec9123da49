//! The floor `scripts/bench-peers.sh` measures secretcat against: read every `*.toml` file of a
//! catalog folder and parse it with the toml crate alone, one file after another on one thread,
//! into a plain `toml::Table` (no spans, no validation, nothing rendered):
//! `cargo run --release --example toml_floor -- DIR`.

// A developer tool's usage line and errors go to stderr like any command line's.
#[allow(clippy::print_stderr, clippy::print_stdout)]
fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: toml_floor DIR");
        std::process::exit(2);
    };
    let mut paths: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
            .collect(),
        Err(error) => {
            eprintln!("toml_floor: cannot read {dir}: {error}");
            std::process::exit(2);
        }
    };
    paths.sort();
    let mut tables = 0;
    for path in &paths {
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| text.parse::<toml::Table>().map_err(|e| e.to_string()));
        match parsed {
            Ok(table) => tables += table.len(),
            Err(error) => {
                eprintln!("toml_floor: {}: {error}", path.display());
                std::process::exit(2);
            }
        }
    }
    println!("{} files, {tables} top-level tables", paths.len());
}
