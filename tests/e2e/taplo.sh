#!/usr/bin/env bash
# Editor end-to-end check: the real taplo language server (`taplo lsp stdio`, what Even Better TOML
# runs) completes and documents the catalog from generated/catalog.schema.json.
# See tests/e2e/taplo_lsp.py for the checks; extra arguments go to it (e.g. --verbose, --known-bugs).
#
# Needs taplo-cli 0.10.0 built from crates.io: the PyPI and npm taplo builds have no language
# server. Uses the one in ~/.cargo/bin or on PATH when it is that version; otherwise installs it
# with `cargo install` (several minutes on 2 cores; CI machines keep ~/.cargo/bin between runs).
# A different taplo already in ~/.cargo/bin is left alone: 0.10.0 then goes to
# ${XDG_CACHE_HOME:-$HOME/.cache}/secretcat-e2e/taplo-<version>. TAPLO_VERSION overrides the version.
set -euo pipefail

cd "$(dirname "$0")/../.."
started=$SECONDS

TAPLO_VERSION="${TAPLO_VERSION:-0.10.0}"
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/secretcat-e2e/taplo-$TAPLO_VERSION"

# The taplo at $1 if it is the wanted version and has the language server.
usable() {
  [[ -x "$1" ]] && [[ "$("$1" --version 2>/dev/null)" == "taplo $TAPLO_VERSION" ]] &&
    "$1" lsp --help >/dev/null 2>&1
}

taplo=""
for candidate in "$cargo_bin/taplo" "$(command -v taplo || true)" "$cache_root/bin/taplo"; do
  if [[ -n "$candidate" ]] && usable "$candidate"; then
    taplo="$candidate"
    break
  fi
done

if [[ -z "$taplo" ]]; then
  if [[ -e "$cargo_bin/taplo" ]]; then
    root="$cache_root" # keep the taplo someone installed; ours goes beside the other e2e tools
  else
    root="${CARGO_HOME:-$HOME/.cargo}"
  fi
  echo "== installing taplo-cli $TAPLO_VERSION with cargo into $root (takes minutes)"
  install_started=$SECONDS
  cargo install taplo-cli --version "$TAPLO_VERSION" --locked --root "$root"
  echo "== taplo-cli installed in $((SECONDS - install_started))s"
  taplo="$root/bin/taplo"
  if ! usable "$taplo"; then
    echo "taplo.sh: $taplo is not a working taplo $TAPLO_VERSION with a language server" >&2
    exit 1
  fi
fi
echo "== $("$taplo" --version) ($taplo)"

status=0
python3 tests/e2e/taplo_lsp.py --taplo "$taplo" "$@" || status=$?
echo "== e2e taplo lsp: $([[ $status -eq 0 ]] && echo passed || echo FAILED) in $((SECONDS - started))s"
exit "$status"
