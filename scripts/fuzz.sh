#!/usr/bin/env bash
# Fuzz the whole in-memory pipeline (load -> validate -> render -> report) with cargo-fuzz.
#
# Usage: scripts/fuzz.sh [SECONDS] [LIBFUZZER_ARGS...]
#   SECONDS          how long libFuzzer runs (-max_total_time), default 300
#   LIBFUZZER_ARGS   passed on to libFuzzer after the script's own, e.g. -print_final_stats=1
#
# The target is fuzz/fuzz_targets/compile.rs: the input is split on 0xFF into at most 4 TOML
# files (secretcat.toml, fragment-1.toml, ...). Crashes land in fuzz/artifacts/compile/;
# reproduce one with `RUSTC_BOOTSTRAP=1 cargo fuzz run compile fuzz/artifacts/compile/<file>`
# and shrink it with `RUSTC_BOOTSTRAP=1 cargo fuzz tmin compile <file>`. After a long run, shrink
# the corpus (it is committed) with
#   RUSTC_BOOTSTRAP=1 cargo fuzz cmin compile -- -max_len=65536 -set_cover_merge=1 -use_counters=0
# A plain `cargo fuzz cmin compile` keeps every input that adds a hit-count bucket (thousands of
# files, several MB); set cover over edges alone keeps a few hundred with the same edge coverage.
#
# Toolchain: cargo-fuzz passes nightly-only flags to rustc (-Zsanitizer=..., -Cpasses=sancov-module,
# ...). Only stable Rust is installed here and no nightly can be, so the script exports
# RUSTC_BOOTSTRAP=1, which lets stable rustc accept them. With it the default AddressSanitizer
# build works on x86_64-unknown-linux-gnu (stable rust-std ships the ASan runtime); tested with
# rustc 1.95.0 and cargo-fuzz 0.13.2, no `--sanitizer none` needed. Where ASan is unavailable, or
# for more executions per second (the code under test is safe Rust; here about 1,500 exec/s
# instead of 300-400 with ASan), run with FUZZ_SANITIZER=none, which passes `--sanitizer none`;
# switching between the two rebuilds secretcat and the target (a few minutes).
#
# Seeds: when fuzz/corpus/compile/ is empty it is seeded from catalog/*.toml and each
# tests/cases/*/in/catalog/*.toml folder: secretcat.toml first, then the fragments, joined with
# 0xFF; since the target reads at most 4 files, a folder with more than 3 fragments gives one seed
# per group of 3 (each with secretcat.toml in front).
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-300}"
[[ $# -gt 0 ]] && shift
if ! [[ "$duration" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS] [LIBFUZZER_ARGS...]" >&2
  exit 2
fi

export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

corpus=fuzz/corpus/compile
mkdir -p "$corpus"

# Write one seed: the files given, joined with 0xFF, named by the SHA-1 of the content as
# libFuzzer names its own corpus entries.
write_seed() {
  local tmp
  tmp="$(mktemp)"
  local first=1
  for file in "$@"; do
    if [[ $first -eq 0 ]]; then
      printf '\xff' >>"$tmp"
    fi
    first=0
    cat "$file" >>"$tmp"
  done
  mv "$tmp" "$corpus/$(sha1sum "$tmp" | cut -d' ' -f1)"
}

# Seeds from one catalog folder: secretcat.toml plus up to 3 fragments per seed.
seed_folder() {
  local dir="$1"
  local root=()
  [[ -f "$dir/secretcat.toml" ]] && root=("$dir/secretcat.toml")
  local fragments=()
  local file
  for file in "$dir"/*.toml; do
    [[ -f "$file" && "$(basename "$file")" != secretcat.toml ]] && fragments+=("$file")
  done
  if [[ ${#fragments[@]} -eq 0 ]]; then
    [[ ${#root[@]} -gt 0 ]] && write_seed "${root[@]}"
    return 0
  fi
  local i
  for ((i = 0; i < ${#fragments[@]}; i += 3)); do
    write_seed "${root[@]}" "${fragments[@]:i:3}"
  done
}

if [[ -z "$(ls -A "$corpus")" ]]; then
  shopt -s nullglob
  seed_folder catalog
  for dir in tests/cases/*/in/catalog; do
    seed_folder "$dir"
  done
  echo "fuzz.sh: seeded $corpus with $(ls "$corpus" | wc -l) input(s)"
fi

sanitizer=()
if [[ -n "${FUZZ_SANITIZER:-}" ]]; then
  sanitizer=(--sanitizer "$FUZZ_SANITIZER")
fi

exec cargo fuzz run "${sanitizer[@]}" compile -- \
  -max_total_time="$duration" -max_len=65536 "$@"
