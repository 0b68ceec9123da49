#!/usr/bin/env python3
"""Check the hostile values against two YAML 1.1 readers: PyYAML and Helm.

`cargo test --test hostile` with SECRETCAT_HOSTILE_DIR=DIR writes the rendered outputs to DIR
and DIR/expected.json: {file: [[path, expected string], ...]}, a path being the keys and list
indexes that lead to the string. For each file this script

1. loads it with PyYAML `yaml.safe_load` and looks every expected string up;
2. runs `helm template rt CHART -f FILE`, where CHART renders `.Values` as JSON into a
   ConfigMap, reads the manifest back with PyYAML and `json.loads`, and looks them up again.

It prints one line per failure, then `hostile values: N passed, M failed`, and exits 1 on any
failure (2 on bad usage).

Usage: hostile_readers.py DIR --helm /path/to/helm [--chart tests/e2e/roundtrip-chart]
"""

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys

import yaml

MISSING = object()


def lookup(node, path):
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or not 0 <= step < len(node):
                return MISSING
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                return MISSING
            node = node[step]
    return node


def shown(value, limit=160):
    text = repr(value)
    if len(text) > limit:
        size = len(value.encode("utf-8")) if isinstance(value, str) else len(text)
        text = f"{text[:limit]}... ({size} bytes)"
    return text


def describe_miss(node, path):
    """Where a lookup went wrong: the deepest step that still resolved, and what was there."""
    for depth in range(len(path)):
        parent = lookup(node, path[:depth])
        step = path[depth]
        if lookup(node, path[: depth + 1]) is MISSING:
            if isinstance(parent, dict):
                near = [k for k in parent if not isinstance(k, str) or str(k).lower() == str(step).lower()]
                extra = f"; non-string or look-alike keys there: {shown(near)}" if near else ""
                return f"no key {shown(step)} at {json.dumps(path[:depth])}{extra}"
            return f"no {shown(step)} at {json.dumps(path[:depth])} (found {type(parent).__name__})"
    return "nothing"


def check(reader, name, doc, expectations, failures):
    passed = 0
    for path, expected in expectations:
        found = lookup(doc, path)
        if isinstance(found, str) and found == expected:
            passed += 1
            continue
        if found is MISSING:
            got = describe_miss(doc, path)
        else:
            got = f"{type(found).__name__} {shown(found)}"
        failures.append(f"FAIL [{reader}] {name} {json.dumps(path)}: expected {shown(expected)}, got {got}")
    return passed


def pyyaml_doc(path):
    with open(path, "rb") as handle:  # bytes: no newline translation before PyYAML sees them
        return yaml.safe_load(handle.read())


def helm_doc(helm, chart, path):
    """What Helm read from the values file, as the chart renders it back in JSON."""
    result = subprocess.run(
        [helm, "template", "rt", chart, "-f", path],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"helm template exited {result.returncode}: {result.stderr.decode(errors='replace').strip()}")
    for manifest in yaml.safe_load_all(result.stdout):
        if isinstance(manifest, dict) and manifest.get("kind") == "ConfigMap":
            return json.loads(manifest["data"]["values.json"])
    raise RuntimeError("helm rendered no ConfigMap")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", help="folder holding expected.json and the rendered files")
    parser.add_argument("--helm", required=True, help="the helm binary")
    parser.add_argument("--chart", default=os.path.join(os.path.dirname(__file__), "roundtrip-chart"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    with open(os.path.join(args.dir, "expected.json"), encoding="utf-8") as handle:
        expected = json.load(handle)
    if not expected:
        print("expected.json lists no files", file=sys.stderr)
        return 2

    failures = []
    passed = {"pyyaml": 0, "helm": 0}
    total = sum(len(e) for e in expected.values())

    def run(reader, load, name):
        try:
            doc = load(os.path.join(args.dir, name))
        except Exception as error:  # any reader error fails every expectation of the file
            message = str(error).replace("\n", " | ")
            reason = f"got no document ({shown(message, 600)})"
            return 0, [
                f"FAIL [{reader}] {name} {json.dumps(path)}: expected {shown(value)}, {reason}"
                for path, value in expected[name]
            ]
        local = []
        return check(reader, name, doc, expected[name], local), local

    def helm(path):
        return helm_doc(args.helm, args.chart, path)

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        helm_runs = {name: pool.submit(run, "helm", helm, name) for name in expected}
        for name in expected:  # PyYAML is pure Python: run it here while helm runs in the pool
            count, local = run("pyyaml", pyyaml_doc, name)
            passed["pyyaml"] += count
            failures.extend(local)
        for name, future in helm_runs.items():
            count, local = future.result()
            passed["helm"] += count
            failures.extend(local)

    for line in failures:
        print(line)
    for reader, count in passed.items():
        print(f"{reader}: {count} of {total} locations in {len(expected)} files read back byte-identical")
    print(f"hostile values: {sum(passed.values())} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
