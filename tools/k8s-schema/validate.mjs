// Reads [{file, index, doc}] (JSON, stdin) and validates each document
// against the Kubernetes OpenAPI schema of its apiVersion and kind, with
// the validators kubernetes-models generates from that schema.  Prints one
// line per document and "N passed, N failed"; exit 1 on a failure.
import { readFileSync } from "node:fs";

const docs = JSON.parse(readFileSync(0, "utf8"));
// not API objects: kustomize's own file
const NOT_API = new Set(["kustomize.config.k8s.io/v1beta1/Kustomization"]);
let passed = 0, failed = 0;

for (const { file, index, doc } of docs) {
    const where = `${file}[${index}] ${doc.kind}/${doc.metadata?.name ?? "-"}`;
    const av = String(doc.apiVersion || "");
    if (NOT_API.has(`${av}/${doc.kind}`)) {
        console.log(`  skip ${where}: not a Kubernetes API object`);
        continue;
    }
    // "v1" -> v1/Kind, "apps/v1" -> apps/v1/Kind
    const path = `kubernetes-models/${av}/${doc.kind}`;
    let Model;
    try {
        Model = (await import(path))[doc.kind];
    } catch (e) {
        failed++;
        console.log(`  FAIL ${where}: no schema for ${av} ${doc.kind}`);
        continue;
    }
    try {
        new Model(doc).validate();
        passed++;
        console.log(`  ok   ${where}`);
    } catch (e) {
        failed++;
        console.log(`  FAIL ${where}: ${String(e.message).split("\n")[0]}`);
    }
}
console.log(`check-manifests-schema: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
