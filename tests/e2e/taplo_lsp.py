#!/usr/bin/env python3
"""Drive the real taplo language server (`taplo lsp stdio`) as an editor would, against the catalog
and the generated JSON Schema, and check schema-driven completion, hover and validation.

What it does, as VS Code with Even Better TOML would:
1. copies the repository's catalog/ and generated/ into a temporary workspace;
2. starts `taplo lsp stdio --no-auto-config`, sends `initialize` with rootUri and workspaceFolders
   (taplo 0.10.0 may treat a file as excluded without them), answers every server -> client request
   (`workspace/configuration` with schema support on and no remote schema catalogs, the others with
   the usual empty answers);
3. opens every catalog file by file:// URI; the file's `#:schema ../generated/catalog.schema.json`
   directive associates the schema (taplo resolves the path against the document);
4. edits the open documents (full-text didChange, as an editor does while typing) and asks for
   completion on empty lines and hover on keys, comparing the answers with the schema itself.

Facts about taplo 0.10.0 this relies on (read from its source, taplo-lsp 0.8.0 / taplo-common 0.6.0):
- completion on an empty line offers the keys of the enclosing table's schema (and dotted
  sub-keys) that the table does not yet have; a key that exists only as the parent of dotted keys
  (`data.X = ...`) is a "pseudo" table and stays on offer;
- a completion item's snippet is `key = <value>`, and for an object-valued *named* property the
  value is `{ k = ..., ... }` with the `x-taplo.initKeys` followed by `required` (taplo removes only
  adjacent duplicates). Map entries (`additionalProperties`: a `[secrets.<name>]` table) are never
  offered as one item, so their initKeys are not used: a new `[secrets.<name>]` table gets the
  field list, not an inserted skeleton;
- hover on a key shows the `description` of the schemas at that path (the oneOf/anyOf branches'
  ones too); on a key whose value is an array it shows the items' description.

Each check prints one line; the last line is `taplo lsp: N passed, M failed` and the exit status is
1 on any failure (2 when taplo cannot be started). WARN lines are not counted: they report schema
details that taplo 0.10.0 does not exercise today. The remote schema catalog taplo fetches at
`initialize` (before it asks for the configuration) is sent to a closed local proxy port so the run
needs no network; --network lets it through.

Usage: taplo_lsp.py [--taplo PATH] [--repo DIR] [--file platform.toml] [--timeout SECONDS]
                    [--verbose] [--network] [--known-bugs] [--keep]
"""

import argparse
import json
import os
import pathlib
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

CONFIG_SECTION = "evenBetterToml"
# What an editor sends for the `evenBetterToml` section: schemas on, no remote catalogs, no
# taplo config file (the workspace has none; the repository's own must not leak in either).
CLIENT_CONFIG = {
    "schema": {"enabled": True, "catalogs": [], "associations": {}, "links": False},
    "taplo": {"configFile": {"enabled": False}},
    "completion": {"maxKeys": 5},
    "syntax": {"semanticTokens": False},
}


class Timeout(Exception):
    pass


class ServerGone(Exception):
    pass


class Lsp:
    """A minimal LSP client over the server's stdio, answering server -> client requests at once."""

    def __init__(self, cmd, cwd, env, log_path, folders, config, verbose=False):
        self.log_file = open(log_path, "wb")
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log_file
        )
        self.folders = folders
        self.config = config
        self.verbose = verbose
        self.write_lock = threading.Lock()
        self.cond = threading.Condition()
        self.responses = {}
        self.notifications = []  # (monotonic time, method, params)
        self.server_requests = []  # (method, params, our answer)
        self.next_id = 0
        self.latencies = []  # (method, seconds)
        self.timeouts = []  # (method, params)
        self.eof = False
        threading.Thread(target=self._read_loop, daemon=True).start()

    # -- wire
    def _send(self, msg):
        body = json.dumps(msg).encode("utf-8")
        if self.verbose:
            print(f"  -> {json.dumps(msg)[:400]}")
        with self.write_lock:
            try:
                self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError) as error:
                raise ServerGone(f"cannot write to the server: {error}") from error

    def _read_loop(self):
        out = self.proc.stdout
        try:
            while True:
                headers = {}
                while True:
                    line = out.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.decode("ascii", "replace").partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                body = out.read(length)
                if len(body) < length:
                    return
                self._dispatch(json.loads(body))
        finally:
            with self.cond:
                self.eof = True
                self.cond.notify_all()

    def _dispatch(self, msg):
        if self.verbose:
            print(f"  <- {json.dumps(msg)[:400]}")
        if "method" in msg and "id" in msg:
            result, error = self._answer(msg["method"], msg.get("params"))
            reply = {"jsonrpc": "2.0", "id": msg["id"]}
            if error is None:
                reply["result"] = result
            else:
                reply["error"] = error
            with self.cond:
                self.server_requests.append((msg["method"], msg.get("params"), reply))
                self.cond.notify_all()
            try:
                self._send(reply)
            except ServerGone:
                pass
        elif "method" in msg:
            with self.cond:
                self.notifications.append((time.monotonic(), msg["method"], msg.get("params")))
                self.cond.notify_all()
        else:
            with self.cond:
                self.responses[msg.get("id")] = msg
                self.cond.notify_all()

    def _answer(self, method, params):
        """What an editor answers to the requests a language server may send it."""
        if method == "workspace/configuration":
            items = (params or {}).get("items", [])
            return [
                self.config if item.get("section") in (None, CONFIG_SECTION) else None for item in items
            ], None
        if method == "workspace/workspaceFolders":
            return self.folders, None
        if method in (
            "window/workDoneProgress/create",
            "client/registerCapability",
            "client/unregisterCapability",
            "window/showMessageRequest",
            "workspace/semanticTokens/refresh",
            "workspace/inlayHint/refresh",
            "workspace/diagnostic/refresh",
            "workspace/codeLens/refresh",
        ):
            return None, None
        if method == "workspace/applyEdit":
            return {"applied": False, "failureReason": "read-only test client"}, None
        if method == "window/showDocument":
            return {"success": False}, None
        return None, {"code": -32601, "message": f"method not supported by the test client: {method}"}

    # -- API
    def request(self, method, params, timeout):
        self.next_id += 1
        rid = self.next_id
        started = time.monotonic()
        self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        deadline = started + timeout
        with self.cond:
            while rid not in self.responses:
                if self.eof:
                    raise ServerGone(f"the server closed its output before answering {method}")
                left = deadline - time.monotonic()
                if left <= 0:
                    self.timeouts.append((method, params))
                    raise Timeout(f"no answer to {method} within {timeout:g}s")
                self.cond.wait(left)
            msg = self.responses.pop(rid)
        self.latencies.append((method, time.monotonic() - started))
        if "error" in msg:
            raise RuntimeError(f"{method} failed: {json.dumps(msg['error'])}")
        return msg.get("result")

    def notify(self, method, params):
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait_until(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate()
                if value:
                    return value
                if self.eof:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    return value
                self.cond.wait(left)

    def notes(self, method, since=0):
        return [(t, p) for t, m, p in self.notifications[since:] if m == method]

    def alive(self):
        return self.proc.poll() is None

    def close(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        self.log_file.close()


# ---------------------------------------------------------------------------------------------
# TOML text helpers (enough for the catalog's shape: headers and `key = ...` lines at column 0)

SEGMENT = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|[A-Za-z0-9_-]+')
HEADER = re.compile(r"^\[(?!\[)(.*)\]\s*(#.*)?$")
KEY_LINE = re.compile(r'^((?:"(?:[^"\\]|\\.)*"|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"(?:[^"\\]|\\.)*"|[A-Za-z0-9_-]+))*)\s*=')


def unquote(segment):
    if len(segment) >= 2 and segment[0] == segment[-1] and segment[0] in "\"'":
        return segment[1:-1]
    return segment


def segments(dotted):
    return [unquote(s) for s in SEGMENT.findall(dotted)]


def tables(lines):
    """[(header line index or -1 for the root, [segments], first line, end line)]."""
    found = [(-1, [])]
    for index, line in enumerate(lines):
        match = HEADER.match(line)
        if match:
            found.append((index, segments(match.group(1))))
    result = []
    for n, (index, segs) in enumerate(found):
        end = found[n + 1][0] if n + 1 < len(found) else len(lines)
        result.append((index, segs, index + 1, end))
    return result


def key_lines(lines, start, end):
    """[(line index, [segments])] of the `key = value` lines at column 0 of a table."""
    result = []
    for index in range(start, end):
        match = KEY_LINE.match(lines[index])
        if match:
            result.append((index, segments(match.group(1))))
    return result


def utf16_len(text):
    return len(text.encode("utf-16-le")) // 2


def position(lines, line, column):
    """LSP position (UTF-16 code units) of a Python string column on a line."""
    return {"line": line, "character": utf16_len(lines[line][:column])}


def label_head(label):
    """The first key of a completion label (`template.data` -> `template`, `'$schema'` -> `$schema`)."""
    segs = segments(label) if label.strip() else []
    return segs[0] if segs else label


def completion_items(result):
    if result is None:
        return []
    if isinstance(result, dict):
        return result.get("items", [])
    return result


def item_text(item):
    edit = item.get("textEdit") or {}
    return item.get("insertText") or edit.get("newText") or item.get("label")


def snippet_keys(snippet):
    """Keys of the inline table a snippet inserts: `x = { a = "$1", b = { $2 } }$0` -> [a, b]."""
    open_at = snippet.find("{")
    if open_at < 0:
        return None
    depth, start, parts = 0, open_at + 1, []
    for i in range(open_at, len(snippet)):
        ch = snippet[i]
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                parts.append(snippet[start:i])
                break
        elif ch == "," and depth == 1:
            parts.append(snippet[start:i])
            start = i + 1
    keys = []
    for part in parts:
        match = re.match(r"\s*([A-Za-z0-9_-]+)\s*=", part)
        if match:
            keys.append(match.group(1))
    return keys


# ---------------------------------------------------------------------------------------------
# schema helpers


def resolve(root, node):
    """Follow a local `$ref` and merge single-entry `allOf` wrappers (what schemars emits)."""
    for _ in range(32):
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target = root
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            continue
        all_of = node.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1:
            node = {**resolve(root, all_of[0]), **{k: v for k, v in node.items() if k != "allOf"}}
            continue
        return node
    return node


def schema_at(schema, segs):
    """The subschema at a key path, following `properties`, then `additionalProperties`;
    also tells whether every step was a named property."""
    node, named = resolve(schema, schema), True
    for seg in segs:
        props = node.get("properties") or {}
        if seg in props:
            node = props[seg]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
            named = False
        else:
            return None, False
        node = resolve(schema, node)
    return node, named


def entry_schema(schema, section):
    node = resolve(schema, schema["properties"][section])
    return resolve(schema, node["additionalProperties"])


def expected_hover(node):
    """What taplo shows on a key: its description, or for an array its items' description."""
    if node.get("type") == "array" and isinstance(node.get("items"), dict) and node["items"].get("description"):
        return node["items"]["description"]
    return node.get("description")


# ---------------------------------------------------------------------------------------------


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, name, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'PASS' if ok else 'FAIL'}  {name}{': ' + detail if detail else ''}", flush=True)
        return ok

    @staticmethod
    def warn(name, detail):
        print(f"WARN  {name}: {detail}", flush=True)

    @staticmethod
    def info(name, detail):
        print(f"INFO  {name}: {detail}", flush=True)


def short(items, limit=30):
    items = list(items)
    text = ", ".join(items[:limit])
    return text + (f", ... ({len(items)} in all)" if len(items) > limit else "")


class Session:
    """One language server over a temporary copy of catalog/ and generated/."""

    def __init__(self, args, report):
        self.args = args
        self.report = report
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="secretcat-taplo-lsp."))
        self.ws = self.tmp / "workspace"
        self.ws.mkdir()
        repo = pathlib.Path(args.repo)
        shutil.copytree(repo / "catalog", self.ws / "catalog")
        shutil.copytree(repo / "generated", self.ws / "generated")
        self.schema = json.loads((self.ws / "generated" / "catalog.schema.json").read_text("utf-8"))
        self.root_uri = self.ws.as_uri()
        self.folders = [{"uri": self.root_uri, "name": "secretcat"}]
        self.log_path = self.tmp / "taplo-lsp.log"
        env = dict(os.environ)
        env.setdefault("RUST_BACKTRACE", "1")
        env["NO_COLOR"] = "1"
        if not args.network:
            # taplo fetches the default remote schema catalog during `initialize`, before it asks
            # for the configuration that turns the catalogs off: send it to a closed port.
            for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
                env[name] = "http://127.0.0.1:9"
            env.pop("NO_PROXY", None)
            env.pop("no_proxy", None)
        self.lsp = Lsp(
            [args.taplo, "lsp", "--no-auto-config", "--colors", "never", "stdio"],
            cwd=str(self.ws),
            env=env,
            log_path=self.log_path,
            folders=self.folders,
            config=CLIENT_CONFIG,
            verbose=args.verbose,
        )
        self.docs = {}  # uri -> [version, text]
        self.last = "none"

    # -- documents
    def uri(self, name):
        return (self.ws / "catalog" / name).as_uri()

    def open(self, name):
        uri = self.uri(name)
        text = (self.ws / "catalog" / name).read_text("utf-8")
        self.docs[uri] = [1, text]
        self.lsp.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "toml", "version": 1, "text": text}},
        )
        return uri

    def change(self, uri, text):
        self.docs[uri][0] += 1
        self.docs[uri][1] = text
        self.lsp.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": self.docs[uri][0]},
                "contentChanges": [{"text": text}],
            },
        )

    def original(self, uri):
        return (self.ws / "catalog" / pathlib.PurePosixPath(uri).name).read_text("utf-8")

    def describe(self, what, uri, pos):
        text = self.docs.get(uri, [0, ""])[1].split("\n")
        line = text[pos["line"]] if pos["line"] < len(text) else ""
        self.last = f"{what} at {pathlib.PurePosixPath(uri).name}:{pos['line'] + 1}:{pos['character']} on {line!r}"

    def completion(self, uri, pos):
        self.describe("completion", uri, pos)
        return completion_items(
            self.lsp.request(
                "textDocument/completion",
                {"textDocument": {"uri": uri}, "position": pos, "context": {"triggerKind": 1}},
                self.args.timeout,
            )
        )

    def hover(self, uri, pos):
        self.describe("hover", uri, pos)
        result = self.lsp.request(
            "textDocument/hover", {"textDocument": {"uri": uri}, "position": pos}, self.args.timeout
        )
        if not result:
            return None
        contents = result.get("contents")
        if isinstance(contents, dict):
            return contents.get("value")
        if isinstance(contents, list):
            return "\n\n".join(c if isinstance(c, str) else c.get("value", "") for c in contents)
        return contents

    def diagnostics_after(self, uri, since, timeout):
        """The final diagnostics taplo publishes for a document after `since` notifications:
        it publishes up to three times (syntax, DOM, schema) and stops at the first non-empty."""

        def done():
            got = [p for _, p in self.lsp.notes("textDocument/publishDiagnostics", since) if p.get("uri") == uri]
            if any(p.get("diagnostics") for p in got):
                return [p for p in got if p.get("diagnostics")][-1]["diagnostics"]
            if len(got) >= 3:
                return got[-1]["diagnostics"] or "clean"
            return None

        value = self.lsp.wait_until(done, timeout)
        if value == "clean":
            return []
        return value

    def server_log_problems(self):
        text = self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""
        return [line for line in text.splitlines() if "panicked at" in line]


def run_checks(args, report):
    try:
        s = Session(args, report)
    except (OSError, subprocess.SubprocessError) as error:
        print(f"taplo_lsp.py: cannot start {args.taplo}: {error}", file=sys.stderr)
        return None
    lsp, schema = s.lsp, s.schema
    t = args.timeout
    try:
        return _run(s, lsp, schema, report, t, args)
    except ServerGone as error:
        try:
            code = s.lsp.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = "still running"
        log = s.log_path.read_text("utf-8", "replace").splitlines() if s.log_path.exists() else []
        why = [l for l in log if "panicked" in l or "overflowed" in l or "fatal" in l]
        report.check(
            False,
            "the server stays up",
            f"{error}; last request: {s.last}; exit status {code}; log: {' / '.join(why[-3:]) or '-'}",
        )
        return s


def _run(s, lsp, schema, report, t, args):
    # ---- initialize
    try:
        init = lsp.request(
            "initialize",
            {
                "processId": os.getpid(),
                "clientInfo": {"name": "secretcat-e2e", "version": "1"},
                "rootUri": s.root_uri,
                "rootPath": str(s.ws),
                "workspaceFolders": s.folders,
                "initializationOptions": {"configurationSection": CONFIG_SECTION},
                "capabilities": {
                    "workspace": {"configuration": True, "workspaceFolders": True, "didChangeConfiguration": {}},
                    "textDocument": {
                        "synchronization": {"didSave": True},
                        "completion": {
                            "completionItem": {"snippetSupport": True, "documentationFormat": ["markdown", "plaintext"]}
                        },
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                        "publishDiagnostics": {"relatedInformation": True},
                    },
                },
            },
            max(t, 30.0),
        )
    except (Timeout, RuntimeError) as error:
        report.check(False, "initialize", str(error))
        return s
    caps = init.get("capabilities", {})
    info = init.get("serverInfo", {})
    report.check(
        bool(caps.get("completionProvider")) and bool(caps.get("hoverProvider")),
        "initialize",
        f"{info.get('name')} {info.get('version')}, completion and hover offered",
    )
    lsp.notify("initialized", {})
    asked = lsp.wait_until(
        lambda: [r for r in lsp.server_requests if r[0] == "workspace/configuration"], t
    )
    report.check(
        bool(asked),
        "server asks workspace/configuration, client answers",
        f"items {json.dumps(asked[0][1].get('items'))}" if asked else "never asked",
    )

    # ---- open every catalog file; association and validation
    names = sorted(p.name for p in (s.ws / "catalog").glob("*.toml"))
    mark = len(lsp.notifications)
    uris = {name: s.open(name) for name in names}
    schema_uri = (s.ws / "generated" / "catalog.schema.json").as_uri()

    # taplo/associatedSchema is what the Even Better TOML extension asks (its schema status item);
    # the didChangeSchemaAssociation notifications lag one document behind in taplo 0.10.0.
    wrong = []
    for name, uri in uris.items():
        try:
            got = (lsp.request("taplo/associatedSchema", {"documentUri": uri}, t) or {}).get("schema")
        except (Timeout, RuntimeError) as error:
            got = str(error)
        if not isinstance(got, dict) or got.get("url") != schema_uri or (got.get("meta") or {}).get("source") != "directive":
            wrong.append(f"{name}: {json.dumps(got)}")
    report.check(
        not wrong,
        "#:schema directive associates generated/catalog.schema.json",
        f"{len(uris)} files, taplo/associatedSchema -> {schema_uri.rsplit('/', 2)[-2]}/catalog.schema.json (source: directive)"
        if not wrong
        else "; ".join(wrong[:5]),
    )
    dirty = []
    for name, uri in uris.items():
        diags = s.diagnostics_after(uri, mark, t)
        if diags is None:
            dirty.append(f"{name}: no diagnostics published within {t:g}s")
        elif diags:
            dirty.append(f"{name}: " + "; ".join(f"{d['range']['start']['line'] + 1}: {d['message']}" for d in diags[:3]))
    report.check(not dirty, "every catalog file validates in taplo (no diagnostics)", f"{len(uris)} files" if not dirty else " | ".join(dirty[:5]))

    # ---- pick the document and tables the checks use
    target = args.file if args.file in uris else None
    if target is None:
        for name in names:
            text = s.original(uris[name])
            if "\n[secrets." in text and "\n[keys." in text:
                target = name
                break
    if target is None:
        report.check(False, "a catalog file with [keys.*] and [secrets.*] tables", "none found")
        return s
    uri = uris[target]
    text = s.original(uri)
    lines = text.split("\n")
    tabs = tables(lines)
    secret_tab = next((tb for tb in tabs if len(tb[1]) == 2 and tb[1][0] == "secrets"), None)
    key_tab = next((tb for tb in tabs if len(tb[1]) == 2 and tb[1][0] == "keys"), None)
    secret_schema = entry_schema(schema, "secrets")
    key_schema = entry_schema(schema, "keys")
    bundle_schema = entry_schema(schema, "bundles")
    secret_props = set(secret_schema["properties"])
    key_props = set(key_schema["properties"])
    print(f"INFO  completion and hover on catalog/{target}", flush=True)

    # ---- validation negative control: a misspelt field is reported
    if secret_tab:
        header_line = secret_tab[0]
        bad_lines = list(lines)
        bad_lines.insert(header_line + 1, 'bundel = "typo"')
        mark = len(lsp.notifications)
        s.change(uri, "\n".join(bad_lines))
        diags = s.diagnostics_after(uri, mark, t) or []
        hit = [d for d in diags if "bundel" in d.get("message", "")]
        report.check(
            bool(hit) and hit[0]["range"]["start"]["line"] == header_line + 1,
            "a misspelt field (`bundel`) in a secret is a diagnostic on its line",
            json.dumps(hit[0] if hit else diags)[:300],
        )

    # ---- completion: inside an existing [secrets.<name>] table
    if secret_tab:
        check_table_completion(
            s, report, uri, lines, secret_tab, secret_props,
            "completion in [secrets.%s] offers the secret fields it lacks",
            must=["namespace", "external_secret", "template", "target", "type", "refresh_interval", "environments"],
        )
    # ---- completion: top level
    check_top_completion(s, report, uri, lines, schema)
    # ---- completion: inside an existing [keys.<name>] table
    if key_tab:
        check_table_completion(
            s, report, uri, lines, key_tab, key_props,
            "completion in [keys.%s] offers the key fields it lacks",
            must=["generate", "external"],
        )

    # ---- completion: new tables typed at the end of the file
    snippets = {}
    new_cases = [
        ("secrets", "e2e-new-secret", secret_schema, ["bundle", "data", "consumers", "owner", "namespace", "external_secret", "template"]),
        ("keys", "e2e-new-key", key_schema, ["fixture", "generate", "external", "owner", "description"]),
        ("bundles", "e2e-new-bundle", bundle_schema, ["kind", "namespace", "release", "owner"]),
    ]
    for section, name, entry, must in new_cases:
        new_text = text.rstrip("\n") + f"\n\n[{section}.{name}]\n\n"
        new_lines = new_text.split("\n")
        s.change(uri, new_text)
        try:
            items = s.completion(uri, {"line": len(new_lines) - 2, "character": 0})
        except (Timeout, RuntimeError) as error:
            report.check(False, f"completion in a new [{section}.{name}] table", str(error))
            continue
        heads = {label_head(i["label"]) for i in items}
        expected = set(entry["properties"])
        init_keys = (entry.get("x-taplo") or {}).get("initKeys") or []
        required = entry.get("required") or []
        missing = (expected | set(must) | set(init_keys) | set(required)) - heads
        extra = heads - expected
        bad_snips = [
            f"{i['label']} -> {item_text(i)!r}"
            for i in items
            if not (item_text(i) or "").startswith(f"{i['label']} = ")
        ]
        report.check(
            not missing and not extra and not bad_snips,
            f"completion in a new [{section}.{name}] table offers every field, each as `field = value`",
            (f"offered {short(sorted(heads))}" if not (missing or extra or bad_snips)
             else f"missing {sorted(missing)}, unexpected {sorted(extra)}, bad snippets {bad_snips[:3]}"),
        )
        by_label = {i["label"]: item_text(i) for i in items}
        if section == "secrets":
            report.check(
                all(k in heads for k in init_keys + required),
                "new secret table: the x-taplo.initKeys and required fields are on offer",
                ", ".join(f"{k} -> {by_label.get(k)!r}" for k in dict.fromkeys(required + init_keys)),
            )
            whole = [i for i in items if set(snippet_keys(item_text(i) or "") or []) >= set(required) and required]
            report.info(
                "new secret table: taplo 0.10.0 inserts no initKeys skeleton",
                "a [secrets.<name>] entry comes from additionalProperties, which taplo never offers as one "
                f"completion item; its initKeys {init_keys} are offered field by field "
                f"({'an item inserting them all: ' + item_text(whole[0]) if whole else 'no item inserts them together'})",
            )
        for i in items:
            snippets[(section, i["label"])] = item_text(i)

    # ---- typing the header itself: `[secr|]` (the editor closed the bracket). taplo offers the
    # top-level tables' names, replacing the header's key; it never proposes entry names.
    header_text = text.rstrip("\n") + "\n\n[secr]\n"
    header_line = header_text.count("\n") - 1
    s.change(uri, header_text)
    name = "completion in a header being typed (`[secr|]`) offers the top-level tables"
    try:
        items = s.completion(uri, {"line": header_line, "character": len("[secr")})
        labels = {i["label"] for i in items}
        tables_ = {k for k, v in schema["properties"].items() if resolve(schema, v).get("type") == "object"}
        edits = {json.dumps((i.get("textEdit") or {}).get("range")) for i in items}
        report.check(
            {"keys", "secrets", "bundles"} <= labels and labels <= tables_ | {""},
            name,
            f"offered {short(sorted(labels))}; each replaces the header key, range {short(edits, 1)}",
        )
    except (Timeout, RuntimeError) as error:
        report.check(False, name, str(error))

    # ---- where taplo does insert required/initKeys: named object fields (keys.generate, store)
    s.change(uri, text)
    top_items = []
    insert_at = 1
    top_lines = lines[:insert_at] + [""] + lines[insert_at:]
    s.change(uri, "\n".join(top_lines))
    try:
        top_items = s.completion(uri, {"line": insert_at, "character": 0})
    except (Timeout, RuntimeError):
        pass
    for i in top_items:
        snippets[("", i["label"])] = item_text(i)
    skeletons, wrong = [], []
    for (section, label), snip in sorted(snippets.items()):
        path = ([section, "x"] if section else []) + segments(label)
        node, named = schema_at(schema, path)
        if node is None or node.get("type") != "object":
            continue
        wanted = list(dict.fromkeys(((node.get("x-taplo") or {}).get("initKeys") or []) + (node.get("required") or [])))
        if not wanted:
            continue
        keys = snippet_keys(snip) or []
        where = "[" + ".".join(path[: -len(segments(label))]).replace(".x", ".<name>") + "]" if section else "top level"
        skeletons.append(f"{where}: {snip}")
        if keys != wanted:
            wrong.append(f"{label}: {snip!r}, expected keys {wanted}")
    report.check(
        bool(skeletons) and not wrong,
        "named object fields complete to a skeleton of their initKeys/required fields",
        "; ".join(skeletons) if not wrong else "; ".join(wrong),
    )
    # The entry schemas' initKeys as taplo would insert them, were an entry ever offered whole:
    # taplo appends `required` to `initKeys` and drops only adjacent duplicates.
    for section in ("secrets", "keys", "bundles"):
        entry = entry_schema(schema, section)
        init_keys = (entry.get("x-taplo") or {}).get("initKeys") or []
        required = entry.get("required") or []
        combined = init_keys + required
        deduped = [k for n, k in enumerate(combined) if n == 0 or combined[n - 1] != k]
        repeated = sorted({k for k in deduped if deduped.count(k) > 1})
        if repeated:
            Report.warn(
                f"{section}.<name> x-taplo.initKeys repeat required keys {repeated}",
                f"taplo 0.10.0 would insert {{ {', '.join(k + ' = ...' for k in deduped)} }} (duplicate keys, invalid TOML) "
                "wherever it uses initKeys; list only the keys not in `required` (taplo adds those itself)",
            )

    # ---- hover
    s.change(uri, text)
    if secret_tab:
        check_hover_field(s, report, uri, lines, secret_tab, "bundle", secret_schema)
    if key_tab:
        fixture_tab = next(
            (tb for tb in tabs if len(tb[1]) == 2 and tb[1][0] == "keys" and any(k[1][0] == "fixture" for k in key_lines(lines, tb[2], tb[3]))),
            key_tab,
        )
        check_hover_field(s, report, uri, lines, fixture_tab, "fixture", key_schema)
    check_hover_everywhere(s, report, uris, schema)

    # ---- the server is still there and answered everything in time (the --known-bugs probes
    # run afterwards in a server of their own: their panics must not fail this one)
    slowest = max(lsp.latencies, key=lambda x: x[1]) if lsp.latencies else ("-", 0.0)
    report.check(
        not lsp.timeouts,
        f"every request answered within {t:g}s",
        f"{len(lsp.latencies)} requests, slowest {slowest[0]} {slowest[1] * 1000:.0f} ms"
        if not lsp.timeouts
        else f"unanswered: {', '.join(m for m, _ in lsp.timeouts)}",
    )
    panics = s.server_log_problems()
    report.check(lsp.alive() and not panics, "the server is alive and logged no panic", "; ".join(panics[:3]))
    try:
        lsp.request("shutdown", None, t)
        lsp.notify("exit", None)
        code = lsp.proc.wait(timeout=t)
        report.check(code == 0, "shutdown and exit", f"exit status {code}")
    except (Timeout, RuntimeError, ServerGone, subprocess.TimeoutExpired) as error:
        report.check(False, "shutdown and exit", str(error))
    return s


def check_table_completion(s, report, uri, lines, tab, props, title, must):
    header_line, segs, start, end = tab
    present_direct, present_dotted = set(), set()
    for _, ksegs in key_lines(lines, start, end):
        (present_dotted if len(ksegs) > 1 else present_direct).add(ksegs[0])
    new_lines = lines[: header_line + 1] + [""] + lines[header_line + 1:]
    s.change(uri, "\n".join(new_lines))
    name = title % segs[1]
    try:
        items = s.completion(uri, {"line": header_line + 1, "character": 0})
    except (Timeout, RuntimeError) as error:
        report.check(False, name, str(error))
        return
    heads = {label_head(i["label"]) for i in items}
    # taplo drops keys the table has; a key that only heads dotted keys (data.X = ...) stays.
    expected = props - present_direct
    missing = (expected | (set(must) - present_direct)) - heads
    unexpected = heads - expected
    report.check(
        not missing and not unexpected,
        name,
        f"offered {short(sorted(heads))}; present and not offered: {short(sorted(present_direct))}"
        + (f"; missing {sorted(missing)}" if missing else "")
        + (f"; offered though present or unknown {sorted(unexpected)}" if unexpected else ""),
    )


def check_top_completion(s, report, uri, lines, schema):
    props = set(schema["properties"])
    tabs = tables(lines)
    root = tabs[0]
    present_direct = {k[1][0] for k in key_lines(lines, root[2], root[3])}
    present_direct |= {tb[1][0] for tb in tabs[1:] if len(tb[1]) == 1}
    insert_at = 1
    new_lines = lines[:insert_at] + [""] + lines[insert_at:]
    s.change(uri, "\n".join(new_lines))
    name = "completion at the top level offers the top-level tables"
    try:
        items = s.completion(uri, {"line": insert_at, "character": 0})
    except (Timeout, RuntimeError) as error:
        report.check(False, name, str(error))
        return
    heads = {label_head(i["label"]) for i in items}
    expected = props - present_direct
    must = {"keys", "secrets", "bundles"} - present_direct
    missing = (expected | must) - heads
    unexpected = heads - expected
    report.check(
        not missing and not unexpected,
        name,
        f"offered {short(sorted(heads))}"
        + (f"; missing {sorted(missing)}" if missing else "")
        + (f"; unexpected {sorted(unexpected)}" if unexpected else ""),
    )


def check_hover_field(s, report, uri, lines, tab, field, entry):
    header_line, segs, start, end = tab
    hit = next((k for k in key_lines(lines, start, end) if k[1][0] == field), None)
    name = f"hover on `{field}` in [{'.'.join(segs)}] shows its schema description"
    if hit is None:
        report.check(False, name, f"no `{field}` line in the table")
        return
    want = resolve(s.schema, entry["properties"][field]).get("description")
    column = lines[hit[0]].index(field) + 1
    try:
        got = s.hover(uri, position(lines, hit[0], column))
    except (Timeout, RuntimeError) as error:
        report.check(False, name, str(error))
        return
    report.check(bool(want) and got is not None and want in got, name, json.dumps(got))


def check_hover_everywhere(s, report, uris, schema):
    """One hover per distinct schema path of every key and header segment used in the catalog."""
    seen, failures, count = set(), [], 0
    for name, uri in uris.items():
        text = s.original(uri)
        if s.docs[uri][1] != text:
            s.change(uri, text)
        lines = text.split("\n")
        for header_line, segs, start, end in tables(lines):
            targets = []
            if header_line >= 0:
                # header segments: [secrets.<name>] -> `secrets`, and the name (the entry schema)
                header = lines[header_line]
                pos = 1
                for n, seg in enumerate(segs):
                    raw = SEGMENT.search(header, pos)
                    if not raw:
                        break
                    pos = raw.end()
                    if raw.group(0)[0] in "\"'":
                        continue  # quoted names: hover on the bare ones is enough
                    targets.append((header_line, raw.start() + 1, segs[: n + 1], True))
            for line_index, ksegs in key_lines(lines, start, end):
                col = 0
                for n, seg in enumerate(ksegs):
                    raw = SEGMENT.search(lines[line_index], col)
                    col = raw.end()
                    targets.append((line_index, raw.start() + 1, segs + ksegs[: n + 1], False))
            for line_index, column, path, is_header in targets:
                node, _ = schema_at(schema, path)
                parent, _ = schema_at(schema, path[:-1])
                named = path[-1] in (parent or {}).get("properties", {})
                if node is None:
                    failures.append(f"{name}:{line_index + 1}: {'.'.join(path)} is not in the schema")
                    continue
                # Map entries other than table headers (data.X, template.data.X) show the merged
                # descriptions of their anyOf branches; skip them, and look at each schema once.
                generic = tuple("*" if p not in (schema_at(schema, path[:i])[0] or {}).get("properties", {}) else p for i, p in enumerate(path))
                if not named and not is_header or generic in seen:
                    continue
                seen.add(generic)
                want = expected_hover(node)
                count += 1
                try:
                    got = s.hover(uri, position(lines, line_index, column))
                except (Timeout, RuntimeError) as error:
                    failures.append(f"{name}:{line_index + 1}: {'.'.join(generic)}: {error}")
                    continue
                if not want:
                    failures.append(f"{name}:{line_index + 1}: {'.'.join(generic)} has no description in the schema")
                elif got is None or want not in got:
                    hint = ""
                    if node.get("type") == "array" and not (node.get("items") or {}).get("description"):
                        hint = " (on an array-valued key taplo shows the items' description, and `items` has none)"
                    failures.append(f"{name}:{line_index + 1}: {'.'.join(generic)}: hover {json.dumps(got)}, want {json.dumps(want)}{hint}")
    report.check(
        not failures and count > 0,
        "hover shows the schema description of every field and table the catalog uses",
        f"{count} distinct schema paths: {short(sorted('.'.join(g) for g in seen), 80)}" if not failures else " | ".join(failures[:6]) + (f" ... ({len(failures)} in all)" if len(failures) > 6 else ""),
    )


def probe_known_bugs(args):
    """Requests that taplo 0.10.0 never answers (a panic inside the request's task, logged as
    `panicked at .../taplo-0.14.0/src/util/mod.rs:169`); independent of the schema. Not counted."""
    report = Report()
    s = Session(args, report)
    try:
        s.lsp.request("initialize", {"processId": os.getpid(), "rootUri": s.root_uri, "workspaceFolders": s.folders, "capabilities": {"workspace": {"configuration": True}}}, max(args.timeout, 30.0))
        s.lsp.notify("initialized", {})
        s.lsp.wait_until(lambda: s.lsp.server_requests, args.timeout)
        name = "platform.toml" if (s.ws / "catalog" / "platform.toml").exists() else sorted(p.name for p in (s.ws / "catalog").glob("*.toml"))[0]
        uri = s.open(name)
        text = s.original(uri).rstrip("\n")
        n = text.count("\n") + 2
        for what, tail, line, col in [
            ("`[` typed on a new line", "\n\n[\n", n, 1),
            ("cursor right after `]` of a new header", "\n\n[secrets.new-one]\n", n, len("[secrets.new-one]")),
            ("cursor at the end of an unclosed header", "\n\n[secrets.new-one\n", n, len("[secrets.new-one")),
        ]:
            s.change(uri, text + tail)
            try:
                items = s.completion(uri, {"line": line, "character": col})
                Report.info(f"known taplo bug: completion with {what}", f"answered now ({len(items)} items): fixed upstream?")
            except Timeout:
                Report.info(f"known taplo bug: completion with {what}", "still no answer (task panicked)")
        panics = s.server_log_problems()
        Report.info("known taplo bugs: server log", "; ".join(sorted(set(panics))) or "no panic logged")
    finally:
        s.lsp.close()
        if not args.keep:
            shutil.rmtree(s.tmp, ignore_errors=True)


def main():
    here = pathlib.Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taplo", default=shutil.which("taplo") or str(pathlib.Path.home() / ".cargo/bin/taplo"))
    parser.add_argument("--repo", default=str(here.parent.parent), help="repository root (catalog/ and generated/)")
    parser.add_argument("--file", default="platform.toml", help="catalog file the completion and hover checks edit")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each answer")
    parser.add_argument("--verbose", "-v", action="store_true", help="print the LSP traffic")
    parser.add_argument("--network", action="store_true", help="let taplo fetch its default remote schema catalog")
    parser.add_argument("--known-bugs", action="store_true", help="also probe the known taplo 0.10.0 completion bugs (not counted)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace and the server log")
    args = parser.parse_args()

    try:
        version = subprocess.run([args.taplo, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError) as error:
        print(f"taplo_lsp.py: cannot run {args.taplo}: {error}", file=sys.stderr)
        return 2
    print(f"INFO  {version} ({args.taplo}); catalog from {args.repo}", flush=True)

    report = Report()
    s = run_checks(args, report)
    if s is None:
        return 2
    s.lsp.close()
    if report.failed:
        log = s.log_path.read_text("utf-8", "replace").splitlines() if s.log_path.exists() else []
        interesting = [
            l for l in log
            if any(w in l for w in ("ERROR", "WARN", "panicked")) and "catalog" not in l
        ]
        if interesting:
            print("---- taplo's log: errors and warnings (the refused schema-catalog fetch left out)")
            print("\n".join(interesting[-20:]))
    if args.keep or report.failed:
        print(f"INFO  workspace and server log kept in {s.tmp}")
    else:
        shutil.rmtree(s.tmp, ignore_errors=True)
    if args.known_bugs:
        probe_known_bugs(args)
    print(f"taplo lsp: {report.passed} passed, {report.failed} failed", flush=True)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
