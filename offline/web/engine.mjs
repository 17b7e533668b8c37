// The page's engine worker: Pyodide runs here, off the page's thread. The page sends
// {id, method, args} and gets {id, ok, value} or {id, ok: false, error} back.
import { loadPyodide } from "./pyodide/pyodide.mjs";
import { startEngine } from "./engine-core.mjs";

const base = new URL("./", import.meta.url).href;
const read = async (path) => {
  const response = await fetch(new URL(path, base));
  if (!response.ok) throw new Error(`无法读取离线包文件 ${path}（${response.status}）`);
  return new Uint8Array(await response.arrayBuffer());
};
const started = performance.now();
const ready = startEngine(loadPyodide, { base, read }).then((engine) => {
  engine.times.total_ms = performance.now() - started;
  return engine;
});

self.onmessage = async (event) => {
  const { id, method, args } = event.data;
  try {
    const engine = await ready;
    let value;
    if (method === "ready") {
      value = { bundleHash: engine.bundleHash, times: engine.times, version: engine.manifest.version, pyodide: engine.manifest.pyodide,
                wasmHeapBytes: engine.pyodide._module.HEAP8.length };
    } else if (method === "answer" || method === "violations" || method === "form") {
      const t = performance.now();
      value = { text: engine[method](...args), ms: performance.now() - t };
    } else {
      throw new Error(`未知的调用：${method}`);
    }
    self.postMessage({ id, ok: true, value });
  } catch (error) {
    self.postMessage({ id, ok: false, error: String((error && error.message) || error) });
  }
};
