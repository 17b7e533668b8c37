// Assesses assessment inputs with the bundle's engine under Node, with no network:
//   node node-check.mjs CASES.jsonl ANSWERS.jsonl
// One answer line per input line (the engine's envelope: {"ok", "sha256", "result"} or the error),
// then a summary on standard output as JSON: cases, start-up and per-case times, memory.
// discretion offline check runs it and compares each answer with the service's engine.
import { readFileSync, writeFileSync } from "node:fs";
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
const answers = [];
const times = [];
for (const line of lines) {
  const t = performance.now();
  answers.push(engine.answer(line));
  times.push(performance.now() - t);
}
writeFileSync(outPath, answers.join("\n") + "\n");
const sorted = [...times].sort((a, b) => a - b);
const pick = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0);
process.stdout.write(JSON.stringify({
  cases: lines.length,
  node: process.version,
  pyodide: engine.manifest.pyodide,
  bundle_hash: engine.bundleHash,
  startup_ms: startup,
  times: engine.times,
  per_case_ms: { mean: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length), p50: pick(0.5), p99: pick(0.99), max: pick(1) },
  rss_bytes: process.memoryUsage().rss,
  wasm_heap_bytes: engine.pyodide._module.HEAP8.length,
}) + "\n");
