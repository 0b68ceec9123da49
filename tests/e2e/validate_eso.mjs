#!/usr/bin/env node
// Validate rendered ESO objects with the schema models of @kubernetes-models/external-secrets.
//
// Usage: node validate_eso.mjs --modules NODE_MODULES_DIR MANIFEST.yaml...
//
// Reads every YAML document of every manifest (as Kubernetes does: YAML 1.1), constructs each
// external-secrets.io/v1 ExternalSecret, ClusterSecretStore and SecretStore as the package's
// model class and calls `.validate()`. Three broken copies of the first ExternalSecret must be
// rejected (negative controls: the validator is really checking). Prints one line per failure,
// then `eso: N passed, M failed`; exits 1 on any failure, 2 on bad usage.
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const at = args.indexOf("--modules");
if (at < 0 || !args[at + 1]) {
  console.error("usage: validate_eso.mjs --modules NODE_MODULES_DIR MANIFEST.yaml...");
  process.exit(2);
}
const modules = args[at + 1];
const manifests = args.filter((_, i) => i !== at && i !== at + 1);
if (manifests.length === 0) {
  console.error("validate_eso.mjs: no manifests given");
  process.exit(2);
}

// Import a package entry point by resolving its `exports` map (the package is ESM only, and
// bare specifiers would resolve next to this script, not in the cache).
async function importExport(pkg, subpath) {
  const dir = join(modules, ...pkg.split("/"));
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const entry = manifest.exports?.[subpath];
  const target = typeof entry === "string" ? entry : entry?.import ?? entry?.default;
  if (!target) throw new Error(`${pkg} exports no ${subpath} (has: ${Object.keys(manifest.exports ?? {}).join(", ")})`);
  const file = join(dir, target);
  if (!existsSync(file)) throw new Error(`${pkg} export ${subpath} -> ${target} does not exist`);
  return { module: await import(pathToFileURL(file).href), version: manifest.version };
}

const { module: v1, version } = await importExport("@kubernetes-models/external-secrets", "./external-secrets.io/v1");
const YAML = createRequire(join(modules, "package.json"))("yaml");
const models = { ExternalSecret: v1.ExternalSecret, ClusterSecretStore: v1.ClusterSecretStore, SecretStore: v1.SecretStore };
for (const [kind, cls] of Object.entries(models)) {
  if (typeof cls !== "function" || typeof cls.prototype.validate !== "function") {
    console.error(`validate_eso.mjs: @kubernetes-models/external-secrets has no v1 ${kind} model with validate()`);
    process.exit(2);
  }
}
const yamlVersion = JSON.parse(readFileSync(join(modules, "yaml", "package.json"), "utf8")).version;
console.log(`== @kubernetes-models/external-secrets ${version}, yaml ${yamlVersion}`);

let passed = 0;
const failures = [];
const counts = {};

function explain(err) {
  if (Array.isArray(err?.errors)) {
    return err.errors.map((e) => `${e.instancePath || "/"} ${e.message ?? e.keyword} ${JSON.stringify(e.params ?? {})}`).join("; ");
  }
  return String(err?.message ?? err);
}

let firstExternalSecret = null;
for (const file of manifests) {
  const docs = YAML.parseAllDocuments(readFileSync(file, "utf8"), { version: "1.1" });
  for (const [index, doc] of docs.entries()) {
    const where = `${file}#${index}`;
    if (doc.errors.length > 0) {
      failures.push(`FAIL ${where}: YAML error: ${doc.errors.map((e) => e.message).join("; ")}`);
      continue;
    }
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue;
    if (obj.apiVersion !== "external-secrets.io/v1" || !(obj.kind in models)) continue;
    const name = `${obj.kind} ${obj.metadata?.namespace ?? "-"}/${obj.metadata?.name}`;
    try {
      new models[obj.kind](obj).validate();
      passed++;
      counts[obj.kind] = (counts[obj.kind] ?? 0) + 1;
      if (obj.kind === "ExternalSecret" && firstExternalSecret === null) firstExternalSecret = obj;
    } catch (err) {
      failures.push(`FAIL ${where} ${name}: ${explain(err)}`);
    }
  }
}

// Negative controls: the models must reject these.
if (firstExternalSecret === null) {
  failures.push("FAIL no ExternalSecret found in the manifests");
} else {
  const broken = {
    "decodingStrategy outside its enum": (es) => { es.spec.data[0].remoteRef.decodingStrategy = "Bogus"; },
    "remoteRef without key": (es) => { delete es.spec.data[0].remoteRef.key; },
    "secretKey outside ESO's pattern": (es) => { es.spec.data[0].secretKey = "not a key"; },
  };
  for (const [what, breakIt] of Object.entries(broken)) {
    const copy = structuredClone(firstExternalSecret);
    breakIt(copy);
    try {
      new v1.ExternalSecret(copy).validate();
      failures.push(`FAIL negative control accepted: ${what}`);
    } catch {
      passed++;
    }
  }
}

for (const line of failures) console.log(line);
const summary = Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(", ");
console.log(`== validated ${summary || "nothing"} from ${manifests.length} manifest(s), plus 3 negative controls`);
console.log(`eso: ${passed} passed, ${failures.length} failed`);
process.exit(failures.length === 0 ? 0 : 1);
