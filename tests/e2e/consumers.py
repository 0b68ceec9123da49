#!/usr/bin/env python3
"""Prove secretcat's outputs against the real tools that consume them.

Steps (each prints failures, then `NAME: N passed, M failed`):

  helm       `helm lint --strict` and `helm template` of tests/e2e/chart with every generated bundle
             values file, the key map and the fixture map; each render must hold exactly the
             objects its values ask for (one ExternalSecret per entry, one store, one ConfigMap).
  eso        every rendered ExternalSecret and store validated by @kubernetes-models/external-secrets
             (tests/e2e/validate_eso.mjs), plus negative controls.
  catalog    the rendered ExternalSecrets against `secretcat list secrets --format json`: one per
             catalog secret, in its namespace, target name, data keys, Vault keys, properties,
             decoding strategies, refresh interval, type, store and bundle; equal counts.
  keymap     the key map against `secretcat list keys --format json`: alias -> Vault key for every
             key, and each key's `secrets` equals the ExternalSecrets that read it.
  fixtures   the fixture map as rendered into a ConfigMap: every key in it is read by some
             ExternalSecret and has the catalog's value or generator; every Vault key an
             ExternalSecret reads is in it or external.
  yamllint   yamllint, default configuration, on every generated/**/*.yaml (errors fail; warnings
             are printed).
  schema     check-jsonschema: every catalog/**/*.toml validates against
             generated/catalog.schema.json; a copy of platform.toml with `bundel` is rejected.
  precommit  `pre-commit validate-manifest .pre-commit-hooks.yaml`; in a scratch git repo holding the
             catalog and generated/, a local hook built from the manifest's secretcat-check passes
             `pre-commit run --all-files`, and fails with the drift message after a hand edit.

helm, eso, catalog, keymap and fixtures run once per environment of the catalog (`helm:production`),
on the files that environment deploys: the shared ones and its own folder (generated/<env>/), against
`secretcat list ... --env <env>`; a non-seeding environment's fixture map must be empty.

Ends with `tools: N passed, M failed` and exits 1 on any failure (2 on bad usage).
"""

import argparse
import collections
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import traceback
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHART = HERE / "chart"
TIMEOUT = 180


class Step:
    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failures = []

    def ok(self, condition, message):
        if condition:
            self.passed += 1
        else:
            self.failures.append(message)
        return condition

    def report(self):
        for line in self.failures:
            print(f"FAIL [{self.name}] {line}")
        print(f"{self.name}: {self.passed} passed, {len(self.failures)} failed", flush=True)


def run(cmd, **kwargs):
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", TIMEOUT)
    return subprocess.run([str(c) for c in cmd], **kwargs)


def tail(text, lines=15):
    parts = text.strip().splitlines()
    cut = parts[-lines:]
    return ("\n    ".join(([f"... ({len(parts) - lines} lines cut)"] if len(parts) > lines else []) + cut)) or "(no output)"


def rel(path):
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------------
# Inputs


def environments():
    """(name, seeds fixtures) of every environment in catalog/secretcat.toml; one unnamed
    environment when it declares none."""
    settings = tomllib.loads((ROOT / "catalog" / "secretcat.toml").read_text(encoding="utf-8"))
    envs = settings.get("environments") or {}
    if not envs:
        return [(None, True)]
    return [(name, bool(env.get("fixtures", False))) for name, env in sorted(envs.items())]


def environment_files(env, all_envs):
    """The generated YAML files `env` deploys: the shared ones and those in its own folder."""
    generated = ROOT / "generated"
    folders = {name for name, _ in all_envs if name}
    files = []
    for path in sorted(generated.rglob("*.yaml")):
        first = path.relative_to(generated).parts[0]
        if first == env or (first not in folders):
            files.append(path)
    return files


def secretcat_json(binary, what, env=None):
    proc = run([binary, "list", what, "--format", "json", *(["--env", env] if env else [])], cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"consumers.py: `secretcat list {what} --format json` exited {proc.returncode}:\n{proc.stderr}")
    return json.loads(proc.stdout)


def classify_generated(files):
    """Generated YAML files, by what their values hold."""
    bundles, keymaps, fixture_maps, releases, other = [], [], [], [], []
    for path in files:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and "releases" in doc:
            releases.append((path, doc))
        elif isinstance(doc, dict) and "externalSecrets" in doc:
            bundles.append((path, doc))
        elif isinstance(doc, dict) and "store" in doc and "keys" in doc:
            keymaps.append((path, doc))
        elif isinstance(doc, dict) and "fixtures" in doc:
            fixture_maps.append((path, doc))
        else:
            other.append(path)
    return bundles, keymaps, fixture_maps, releases, other


def load_docs(path):
    return [d for d in yaml.safe_load_all(Path(path).read_text(encoding="utf-8")) if d is not None]


# ---------------------------------------------------------------------------------------------
# helm


def helm_step(name, helm, out, files, bundles, keymaps, fixture_maps, other):
    step = Step(name)
    step.ok(not other, f"generated YAML files that are neither a bundle, a key map, a fixture map nor releases: {[rel(p) for p in other]}")
    for wanted in ("vault-secrets.base.yaml", "foundation-vault-bootstrap.fixtures.yaml", "integration-secrets.yaml", "15-secrets.values.yaml"):
        step.ok(any(p.name == wanted for p in files), f"no {wanted} among {[rel(p) for p in files]}")
    step.ok(len(keymaps) == 1, f"expected one key map, found {[rel(p) for p, _ in keymaps]}")
    step.ok(len(fixture_maps) == 1, f"expected one fixture map, found {[rel(p) for p, _ in fixture_maps]}")

    jobs = []  # (values path, release, namespace, kind, doc)
    for path, doc in bundles:
        bundle = doc.get("bundle") or {}
        jobs.append((path, bundle.get("release") or bundle.get("name") or path.stem, bundle.get("namespace") or "default", "bundle", doc))
    for path, doc in keymaps:
        jobs.append((path, "vault-store", "external-secrets", "keymap", doc))
    for path, doc in fixture_maps:
        jobs.append((path, "foundation-vault-bootstrap", "vault", "fixtures", doc))

    def one(job):
        path, release, namespace, kind, doc = job
        results = []
        lint = run([helm, "lint", "--strict", CHART, "-f", path])
        results.append((lint.returncode == 0, f"helm lint --strict -f {rel(path)} exited {lint.returncode}:\n    {tail(lint.stdout + lint.stderr)}"))
        rendered = out / "rendered" / name / (rel(path).replace("/", "__"))
        tpl = run([helm, "template", release, CHART, "-f", path, "--namespace", namespace])
        if not results_append_ok(results, tpl.returncode == 0, f"helm template {release} -f {rel(path)} exited {tpl.returncode}:\n    {tail(tpl.stderr)}"):
            return job, None, results
        rendered.write_text(tpl.stdout, encoding="utf-8")
        docs = load_docs(rendered)
        kinds = collections.Counter(d.get("kind") for d in docs)
        if kind == "bundle":
            want = {"ExternalSecret": len(doc.get("externalSecrets") or [])}
            want = {k: v for k, v in want.items() if v}
        elif kind == "keymap":
            want = {(doc.get("store") or {}).get("kind") or "ClusterSecretStore": 1}
        else:
            want = {"ConfigMap": 1} if doc.get("fixtures") or doc.get("required") else {}
        results.append((dict(kinds) == want, f"helm template -f {rel(path)} rendered {dict(kinds)}, expected {want}"))
        return job, rendered, results

    rendered_files = {}
    # Default values: the chart alone lints and renders nothing.
    lint = run([helm, "lint", "--strict", CHART])
    step.ok(lint.returncode == 0, f"helm lint --strict (default values) exited {lint.returncode}:\n    {tail(lint.stdout + lint.stderr)}")
    empty = run([helm, "template", "empty", CHART])
    step.ok(empty.returncode == 0 and not load_docs_text(empty.stdout), f"helm template (default values) should render nothing: rc {empty.returncode}, {tail(empty.stdout + empty.stderr)}")

    (out / "rendered" / name).mkdir(parents=True, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for job, rendered, results in pool.map(one, jobs):
            for good, message in results:
                step.ok(good, message)
            if rendered is not None:
                rendered_files[job[0]] = (rendered, job[3], job[4])
    print(f"== helm: linted and rendered {len(jobs)} values files ({len(bundles)} bundles, {len(keymaps)} key map, {len(fixture_maps)} fixture map) with {rel(CHART)}")
    step.report()
    return step, rendered_files


def results_append_ok(results, good, message):
    results.append((good, message))
    return good


def load_docs_text(text):
    return [d for d in yaml.safe_load_all(text) if d is not None]


# ---------------------------------------------------------------------------------------------
# eso


def eso_step(name, node, node_modules, rendered_files):
    step = Step(name)
    manifests = [str(r) for r, kind, _ in rendered_files.values() if kind in ("bundle", "keymap")]
    if not step.ok(bool(manifests), "no rendered manifests to validate"):
        step.report()
        return step
    proc = run([node, HERE / "validate_eso.mjs", "--modules", node_modules, *manifests])
    print("\n".join(line for line in proc.stdout.splitlines() if not re.match(r"^eso: \d+ passed, \d+ failed$", line)))
    match = re.search(r"^eso: (\d+) passed, (\d+) failed$", proc.stdout, re.M)
    if match:
        step.passed += int(match.group(1))
        step.failures += [f"(see above) validate_eso.mjs failure {i + 1}" for i in range(int(match.group(2)))]
    if proc.returncode != 0 and (not match or match.group(2) == "0"):
        step.failures.append(f"validate_eso.mjs exited {proc.returncode}:\n    {tail(proc.stdout + proc.stderr)}")
    step.report()
    return step


# ---------------------------------------------------------------------------------------------
# catalog and keymap


def rendered_objects(rendered_files):
    """ExternalSecrets (with the bundle whose values file rendered them), stores, ConfigMaps."""
    external_secrets, stores, configmaps = [], [], []
    for values_path, (rendered, kind, values) in rendered_files.items():
        for doc in load_docs(rendered):
            if doc.get("kind") == "ExternalSecret":
                external_secrets.append({"doc": doc, "bundle": (values.get("bundle") or {}).get("name"), "file": rel(values_path)})
            elif doc.get("kind") in ("ClusterSecretStore", "SecretStore"):
                stores.append(doc)
            elif doc.get("kind") == "ConfigMap":
                configmaps.append(doc)
    return external_secrets, stores, configmaps


def data_rows(spec):
    return sorted(
        (
            entry.get("secretKey"),
            (entry.get("remoteRef") or {}).get("key"),
            (entry.get("remoteRef") or {}).get("property"),
            (entry.get("remoteRef") or {}).get("decodingStrategy"),
        )
        for entry in spec.get("data") or []
    )


def catalog_step(name, secrets, keys, external_secrets, stores):
    step = Step(name)
    by_id = collections.defaultdict(list)
    for es in external_secrets:
        meta = es["doc"].get("metadata") or {}
        by_id[(meta.get("namespace"), meta.get("name"))].append(es)
    key_names = {k["name"] for k in keys}
    store = stores[0] if len(stores) == 1 else None
    step.ok(store is not None, f"expected one rendered store, found {len(stores)}")
    store_ref = {"kind": store["kind"], "name": store["metadata"]["name"]} if store else None

    step.ok(len(external_secrets) == len(secrets), f"{len(external_secrets)} ExternalSecrets rendered, catalog has {len(secrets)} secrets")
    seen = set()
    for secret in secrets:
        ident = (secret["namespace"], secret["external_secret"])
        seen.add(ident)
        found = by_id.get(ident, [])
        where = f"secret {secret['name']} (ExternalSecret {ident[0]}/{ident[1]})"
        if not step.ok(len(found) == 1, f"{where}: rendered {len(found)} times {[es['file'] for es in found]}, expected once"):
            continue
        es = found[0]
        spec = es["doc"].get("spec") or {}
        problems = []
        target = spec.get("target") or {}
        if target.get("name") != secret["target"]:
            problems.append(f"target.name {target.get('name')!r}, catalog target {secret['target']!r}")
        want_rows = sorted((d["data_key"], d["key"], d["property"], d["decoding_strategy"]) for d in secret["data"])
        got_rows = data_rows(spec)
        if got_rows != want_rows:
            problems.append(f"data (secretKey, key, property, decodingStrategy) {got_rows} != catalog {want_rows}")
        data_keys = [row[0] for row in got_rows]
        if len(set(data_keys)) != len(data_keys):
            problems.append(f"duplicate secretKeys {sorted(k for k, n in collections.Counter(data_keys).items() if n > 1)}")
        unknown = sorted({row[1] for row in got_rows} - key_names)
        if unknown:
            problems.append(f"reads Vault keys the catalog does not define: {unknown}")
        if spec.get("refreshInterval") != secret["refresh_interval"]:
            problems.append(f"refreshInterval {spec.get('refreshInterval')!r} != catalog {secret['refresh_interval']!r}")
        rendered_type = (target.get("template") or {}).get("type")
        if rendered_type != secret.get("type"):
            problems.append(f"target.template.type {rendered_type!r} != catalog type {secret.get('type')!r}")
        if store_ref and spec.get("secretStoreRef") != store_ref:
            problems.append(f"secretStoreRef {spec.get('secretStoreRef')} != rendered store {store_ref}")
        if es["bundle"] != secret["bundle"]:
            problems.append(f"rendered from bundle {es['bundle']!r} ({es['file']}), catalog bundle {secret['bundle']!r}")
        step.ok(not problems, f"{where}: " + "; ".join(problems))
    for ident, found in sorted(by_id.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        if ident not in seen:
            step.ok(False, f"ExternalSecret {ident[0]}/{ident[1]} ({[es['file'] for es in found]}) is no catalog secret")
    print(f"== catalog: {len(secrets)} secrets, {len(external_secrets)} rendered ExternalSecrets, {sum(len(s['data']) for s in secrets)} data entries")
    step.report()
    return step


def keymap_step(name, keys, secrets, keymap_doc, external_secrets):
    step = Step(name)
    key_map = (keymap_doc or {}).get("keys") or {}
    step.ok(len(key_map) == len(keys), f"key map has {len(key_map)} aliases, catalog has {len(keys)} keys")
    # Which catalog secret each rendered ExternalSecret is, by namespace and name.
    secret_of = {(s["namespace"], s["external_secret"]): s["name"] for s in secrets}
    readers = collections.defaultdict(set)
    for es in external_secrets:
        meta = es["doc"].get("metadata") or {}
        name = secret_of.get((meta.get("namespace"), meta.get("name")), f"(not in catalog) {meta.get('namespace')}/{meta.get('name')}")
        for entry in (es["doc"].get("spec") or {}).get("data") or []:
            readers[(entry.get("remoteRef") or {}).get("key")].add(name)
    for key in keys:
        problems = []
        if key_map.get(key["alias"]) != key["name"]:
            problems.append(f"key map {key['alias']!r} -> {key_map.get(key['alias'])!r}, expected {key['name']!r}")
        rendered = sorted(readers.get(key["name"], set()))
        if rendered != sorted(key["secrets"]):
            problems.append(f"list keys says secrets {sorted(key['secrets'])} read it, the rendered ExternalSecrets of {rendered} do")
        step.ok(not problems, f"key {key['name']}: " + "; ".join(problems))
    extra = sorted(set(key_map) - {k["alias"] for k in keys})
    step.ok(not extra, f"key map aliases that are no catalog key: {extra}")
    print(f"== keymap: {len(key_map)} aliases, {len(keys)} catalog keys")
    step.report()
    return step


# ---------------------------------------------------------------------------------------------
# fixtures


def fixtures_step(name, seeds, keys, external_secrets, configmaps):
    step = Step(name)
    # A fixture map with nothing to seed or require renders no ConfigMap.
    if not step.ok(len(configmaps) == 1 or (not seeds and not configmaps), f"expected one fixture ConfigMap, found {len(configmaps)}"):
        step.report()
        return step
    data = configmaps[0].get("data") or {} if configmaps else {}
    fixtures = json.loads(data.get("fixtures.json", "{}"))
    generate = json.loads(data.get("generate.json", "{}"))
    read = set()
    for es in external_secrets:
        for entry in (es["doc"].get("spec") or {}).get("data") or []:
            read.add((entry.get("remoteRef") or {}).get("key"))
    catalog = {k["name"]: k for k in keys}
    external = {name for name, k in catalog.items() if k["source"]["kind"] == "external"}

    for name in sorted(fixtures):
        value = fixtures[name]
        problems = []
        if name not in read:
            problems.append("no ExternalSecret reads it")
        key = catalog.get(name)
        if key is None:
            problems.append("not a catalog key")
        else:
            source = key["source"]
            if source["kind"] == "fixture" and value != source["value"]:
                problems.append(f"value {value!r} ({type(value).__name__}) != catalog fixture {source['value']!r}")
            elif source["kind"] == "generate":
                if value != "__generate__":
                    problems.append(f"value {value!r}, expected __generate__")
                want = {"length": source["length"], "charset": source["charset"]}
                if generate.get(name) != want:
                    problems.append(f"generate entry {generate.get(name)!r} != catalog {want!r}")
            elif source["kind"] == "external":
                problems.append("external key in the fixture map")
        step.ok(not problems, f"fixture {name!r}: " + "; ".join(problems))
    for name in sorted(read, key=str):
        step.ok(name in fixtures or name in external, f"Vault key {name!r} is read by an ExternalSecret but neither in the fixture map nor external")
    seeded = sorted(n for n, k in catalog.items() if k["source"]["kind"] in ("fixture", "generate"))
    if not seeds:
        # An environment that does not seed fixtures gets none, and reads only external keys.
        step.ok(not fixtures and not generate, f"fixture map of an environment that does not seed fixtures is not empty: {sorted(fixtures)}")
        seeded = []
    missing = sorted(set(seeded) - set(fixtures))
    step.ok(not missing, f"catalog keys with a fixture or generator missing from the fixture map: {missing}")
    stray = sorted(set(generate) - {n for n, v in fixtures.items() if v == "__generate__"})
    step.ok(not stray, f"generate entries without a __generate__ fixture: {stray}")
    print(f"== fixtures: {len(fixtures)} seeded keys ({sum(v == '__generate__' for v in fixtures.values())} generated), {len(read)} Vault keys read, {len(external & read)} of them external")
    step.report()
    return step


# ---------------------------------------------------------------------------------------------
# yamllint


def yamllint_step(bindir):
    step = Step("yamllint")
    files = sorted((ROOT / "generated").rglob("*.yaml"))
    version = run([bindir / "yamllint", "--version"]).stdout.strip()
    print(f"== {version}, default configuration, {len(files)} files")
    # Without -c/-d a .yamllint in the tree or the user's config would apply: force the default.
    proc = run([bindir / "yamllint", "-d", "{extends: default}", "-f", "parsable", *files], cwd=ROOT)
    messages = collections.defaultdict(list)
    for line in proc.stdout.splitlines():
        match = re.match(r"^(.*?):(\d+):(\d+): \[(error|warning)\] (.*)$", line)
        if match:
            messages[str(Path(match.group(1)).resolve())].append((match.group(4), f"{rel(match.group(1))}:{match.group(2)}:{match.group(3)}: [{match.group(4)}] {match.group(5)}"))
        elif line.strip():
            messages["?"].append(("error", line))
    warnings = 0
    for path in files:
        found = messages.get(str(path.resolve()), [])
        errors = [m for level, m in found if level == "error"]
        for level, m in found:
            if level == "warning":
                warnings += 1
                print(f"warning [yamllint] {m}")
        step.ok(not errors, "\n    ".join([f"{rel(path)}: {len(errors)} error(s)"] + errors))
    for level, m in messages.get("?", []):
        step.ok(False, f"unparsed yamllint output: {m}")
    if proc.returncode not in (0, 1):
        step.ok(False, f"yamllint exited {proc.returncode}: {tail(proc.stderr)}")
    print(f"== yamllint: {warnings} warning(s)")
    step.report()
    return step


# ---------------------------------------------------------------------------------------------
# schema


def schema_step(bindir, scratch):
    step = Step("schema")
    schema = ROOT / "generated" / "catalog.schema.json"
    files = sorted(p for p in (ROOT / "catalog").rglob("*.toml") if not any(part.startswith(".") for part in p.relative_to(ROOT / "catalog").parts))
    version = run([bindir / "check-jsonschema", "--version"]).stdout.strip()
    print(f"== {version}: {len(files)} catalog files against {rel(schema)}")
    proc = run([bindir / "check-jsonschema", "-o", "JSON", "--schemafile", schema, *files], cwd=ROOT)
    try:
        result = json.loads(proc.stdout)
    except json.JSONDecodeError:
        step.ok(False, f"check-jsonschema exited {proc.returncode} without JSON output: {tail(proc.stdout + proc.stderr)}")
        step.report()
        return step
    bad = collections.defaultdict(list)
    for err in result.get("errors", []) + result.get("parse_errors", []):
        bad[str(Path(err.get("filename", "?")).resolve())].append(f"{err.get('path', '')}: {err.get('message', err)}")
    for path in files:
        errs = bad.pop(str(path.resolve()), [])
        step.ok(not errs, "\n    ".join([f"{rel(path)} rejected by the schema:"] + errs))
    for name, errs in bad.items():
        step.ok(False, f"{name}: {errs}")
    step.ok(proc.returncode == (0 if result.get("status") == "ok" else 1), f"check-jsonschema exit code {proc.returncode} with status {result.get('status')}")

    # A misspelt field must be rejected.
    broken = scratch / "schema-negative" / "platform.toml"
    broken.parent.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "catalog" / "platform.toml").read_text(encoding="utf-8")
    misspelt, count = re.subn(r"(?m)^bundle(\s*=)", r"bundel\1", text, count=1)
    if step.ok(count == 1, "catalog/platform.toml has no `bundle = ` line to misspell"):
        broken.write_text(misspelt, encoding="utf-8")
        neg = run([bindir / "check-jsonschema", "-o", "JSON", "--schemafile", schema, broken])
        try:
            errors = json.loads(neg.stdout).get("errors", [])
        except json.JSONDecodeError:
            errors = []
        step.ok(neg.returncode == 1 and any("bundel" in e.get("message", "") for e in errors),
                f"check-jsonschema accepted platform.toml with `bundel` (exit {neg.returncode}): {tail(neg.stdout + neg.stderr)}")
    step.report()
    return step


# ---------------------------------------------------------------------------------------------
# pre-commit


def precommit_step(bindir, secretcat, scratch, cache):
    step = Step("precommit")
    pre_commit = bindir / "pre-commit"
    print(f"== {run([pre_commit, '--version']).stdout.strip()}")
    env = dict(os.environ, PRE_COMMIT_HOME=str(cache / "pre-commit-home"), PRE_COMMIT_COLOR="never", NO_COLOR="1")
    env.pop("SKIP", None)
    manifest = ROOT / ".pre-commit-hooks.yaml"
    if not step.ok(manifest.is_file(), f"{manifest} is missing"):
        step.report()
        return step
    proc = run([pre_commit, "validate-manifest", manifest], env=env)
    step.ok(proc.returncode == 0, f"pre-commit validate-manifest .pre-commit-hooks.yaml exited {proc.returncode}: {tail(proc.stdout + proc.stderr)}")

    hooks = yaml.safe_load(manifest.read_text(encoding="utf-8")) or []
    hook = next((h for h in hooks if isinstance(h, dict) and h.get("id") == "secretcat-check"), None)
    if not step.ok(hook is not None, ".pre-commit-hooks.yaml has no secretcat-check hook"):
        step.report()
        return step
    entry = str(hook.get("entry", ""))
    step.ok(entry.split()[:1] == ["secretcat"], f"secretcat-check entry {entry!r} does not run `secretcat`")
    local = {
        "id": hook["id"],
        "name": hook.get("name", hook["id"]),
        "entry": " ".join([str(secretcat)] + entry.split()[1:]),
        "language": "system",
        "pass_filenames": hook.get("pass_filenames", True),
    }
    for field in ("files", "exclude", "types", "types_or", "always_run", "stages"):
        if field in hook:
            local[field] = hook[field]

    repo = scratch / "precommit-repo"
    repo.mkdir(parents=True)
    for folder in ("catalog", "generated", "templates"):
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, repo / folder)
    (repo / ".pre-commit-config.yaml").write_text(
        yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]}, sort_keys=False), encoding="utf-8")
    git_env = dict(env, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"]):
        proc = run(cmd, cwd=repo, env=git_env)
        if not step.ok(proc.returncode == 0, f"{' '.join(cmd)} failed: {proc.stderr}"):
            step.report()
            return step

    clean = run([pre_commit, "run", "--all-files", "--hook-stage", "pre-commit"], cwd=repo, env=git_env)
    out = clean.stdout + clean.stderr
    step.ok(clean.returncode == 0 and re.search(r"secretcat check\.*Passed", out) is not None,
            f"pre-commit run --all-files on the clean copy exited {clean.returncode}, expected Passed:\n    {tail(out)}")

    edited = sorted((repo / "generated").rglob("vault-secrets-platform.yaml"))[0]
    edited_rel = edited.relative_to(repo).as_posix()
    text = edited.read_text(encoding="utf-8")
    changed = text.replace("refreshInterval: 1h", "refreshInterval: 2h", 1)
    step.ok(changed != text, f"found no `refreshInterval: 1h` to hand-edit in {edited_rel}")
    edited.write_text(changed, encoding="utf-8")
    drift = run([pre_commit, "run", "--all-files"], cwd=repo, env=git_env)
    out = drift.stdout + drift.stderr
    expected = [
        r"secretcat check\.*Failed",
        rf"changed: {re.escape(edited_rel)} differs from the catalog",
        r"secretcat: 1 file\(s\) drifted from the catalog: run `secretcat generate`",
    ]
    missing = [p for p in expected if not re.search(p, out)]
    step.ok(drift.returncode == 1 and not missing,
            f"pre-commit run --all-files after a hand edit exited {drift.returncode} (expected 1); missing {missing}:\n    {tail(out, 25)}")
    step.report()
    return step


# ---------------------------------------------------------------------------------------------


def main():
    global ROOT
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--secretcat", required=True, type=Path)
    parser.add_argument("--helm", required=True, type=Path)
    parser.add_argument("--node", default="node")
    parser.add_argument("--node-modules", required=True, type=Path)
    parser.add_argument("--bin", required=True, type=Path, help="folder with yamllint, check-jsonschema and pre-commit")
    parser.add_argument("--cache", required=True, type=Path)
    parser.add_argument("--out", type=Path, help="keep rendered files here (default: a temporary folder)")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root holding catalog/ and generated/ (default: this one)")
    args = parser.parse_args()
    ROOT = args.root.resolve()
    secretcat = args.secretcat.resolve()

    out = args.out or Path(tempfile.mkdtemp(prefix="secretcat-consumers."))
    out.mkdir(parents=True, exist_ok=True)
    print(f"== rendered files: {out}")

    steps = []

    def guarded(name, func, *fargs):
        try:
            return func(*fargs)
        except Exception:  # a crash is a failure of that step, and the other steps still run
            step = Step(name)
            step.failures.append("crashed:\n" + traceback.format_exc())
            step.report()
            return step

    all_envs = environments()
    for env, seeds in all_envs:
        tag = f":{env}" if env else ""
        secrets = secretcat_json(secretcat, "secrets", env)
        keys = secretcat_json(secretcat, "keys", env)
        files = environment_files(env, all_envs)
        bundles, keymaps, fixture_maps, _releases, other = classify_generated(files)
        helm = guarded(f"helm{tag}", helm_step, f"helm{tag}", args.helm, out, files, bundles, keymaps, fixture_maps, other)
        rendered_files = {}
        if isinstance(helm, tuple):
            helm, rendered_files = helm
        steps.append(helm)
        steps.append(guarded(f"eso{tag}", eso_step, f"eso{tag}", args.node, args.node_modules, rendered_files))
        external_secrets, stores, configmaps = rendered_objects(rendered_files)
        steps.append(guarded(f"catalog{tag}", catalog_step, f"catalog{tag}", secrets, keys, external_secrets, stores))
        keymap = keymaps[0][1] if keymaps else None
        steps.append(guarded(f"keymap{tag}", keymap_step, f"keymap{tag}", keys, secrets, keymap, external_secrets))
        steps.append(guarded(f"fixtures{tag}", fixtures_step, f"fixtures{tag}", seeds, keys, external_secrets, configmaps))
    steps.append(guarded("yamllint", yamllint_step, args.bin))
    steps.append(guarded("schema", schema_step, args.bin, out))
    steps.append(guarded("precommit", precommit_step, args.bin, secretcat, out, args.cache))

    passed = sum(s.passed for s in steps)
    failed = sum(len(s.failures) for s in steps)
    if failed == 0 and not args.out and not os.environ.get("SECRETCAT_E2E_KEEP"):
        shutil.rmtree(out, ignore_errors=True)
    else:
        print(f"== rendered files kept in {out}")
    print("== failed steps: " + (", ".join(s.name for s in steps if s.failures) or "none"))
    print(f"tools: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
