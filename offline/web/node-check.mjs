// Assesses assessment inputs with the bundle's engine under Node, with no network:
//   node node-check.mjs CASES.jsonl ANSWERS.jsonl
// One answer line per input line (the engine's envelope: {"ok", "sha256", "result"} or the error),
// then a summary on standard output as JSON: cases, start-up and per-case times (the first pass, and
// a second over up to 1000 of the cases once everything is prepared), memory after a collection.
// discretion offline check runs it and compares each answer with the service's engine.
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// Nothing here may reach the network: any attempt fails loudly instead of fetching.
globalThis.fetch = () => { throw new Error("离线检查不允许访问网络（fetch）"); };
globalThis.WebSocket = class { constructor() { throw new Error("离线检查不允许访问网络（WebSocket）"); } };

if (!globalThis.crypto) globalThis.crypto = (await import("node:crypto")).webcrypto; // Node 18 (Debian 12's)

const dir = dirname(fileURLToPath(import.meta.url));
const [casesPath, outPath] = process.argv.slice(2);
const started = performance.now();
const { loadPyodide } = await import(join(dir, "pyodide", "pyodide.mjs"));
const { startEngine } = await import(join(dir, "engine-core.mjs"));
const engine = await startEngine(loadPyodide, { base: dir + "/", read: async (p) => new Uint8Array(readFileSync(join(dir, p))) });
const startup = performance.now() - started;

const lines = readFileSync(casesPath, "utf8").split("\n").filter((l) => l.trim());
const out = openSync(outPath, "w");
const times = [];
for (const line of lines) {
  const t = performance.now();
  const answer = engine.answer(line);
  times.push(performance.now() - t);
  writeSync(out, answer + "\n");
}
closeSync(out);
// the same cases again, up to 1000: every violation type and edition is prepared by now (the first
// case of each prepares what all its cases share, as on the service)
const again = [];
for (const line of lines.slice(0, 1000)) {
  const t = performance.now();
  engine.answer(line);
  again.push(performance.now() - t);
}
if (globalThis.gc) globalThis.gc();
const stats = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const pick = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0);
  return { mean: xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length), p50: pick(0.5), p99: pick(0.99), max: pick(1) };
};
process.stdout.write(JSON.stringify({
  cases: lines.length,
  node: process.version,
  pyodide: engine.manifest.pyodide,
  bundle_hash: engine.bundleHash,
  startup_ms: startup,
  times: engine.times,
  per_case_ms: stats(times),
  per_case_prepared_ms: stats(again),
  rss_bytes: process.memoryUsage().rss,
  wasm_heap_bytes: engine.pyodide._module.HEAP8.length,
}) + "\n");
