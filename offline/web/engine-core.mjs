// The offline terminal's engine, started from the bundle's own files: Pyodide, the pinned wheels,
// this project's library and the rulebook set compiled to JSON. Shared by the page's worker
// (engine.mjs, in the browser) and node-check.mjs (under Node): only how a file is read differs.
//
// Every wheel and the rulebook set are checked against the sha256 in manifest.json before Python
// sees them; the wheels are unpacked into site-packages (no package is looked up anywhere else). The
// rulebook set is the one the build loaded from rulebooks.json in this Pyodide, pickled
// (rulebooks.pickle: discretion.engine.offline.prepare); its content address must be the manifest's.

const decoder = new TextDecoder();

async function sha256(bytes) {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// loadPyodide: the function of pyodide/pyodide.mjs; base: the bundle's folder (a URL in the browser,
// a path ending in "/" under Node); read(path): the bytes of a file of the bundle (Uint8Array).
export async function startEngine(loadPyodide, { base, read }) {
  const times = {};
  const started = performance.now();
  let t = started;
  const manifest = JSON.parse(decoder.decode(await read("manifest.json")));
  const verified = async (path) => {
    const bytes = await read(path);
    const want = manifest.files[path] && manifest.files[path].sha256;
    const got = await sha256(bytes);
    if (got !== want) throw new Error(`离线包文件 ${path} 的校验值不符（应为 ${want}，实为 ${got}），请重新安装离线包`);
    return bytes;
  };
  // the wheels, their bytecode and the prepared rulebook set are read and checked while Pyodide
  // starts (nothing of them needs it); a failure surfaces below, where they are awaited
  const files = Promise.all([...manifest.wheels.map(verified), verified(manifest.pycache), verified(manifest.prepared)])
    .then((bytes) => { times.files_read_ms = performance.now() - started; return bytes; });
  files.catch(() => {});
  const pyodide = await loadPyodide({ indexURL: base + "pyodide/", packageBaseUrl: base + "pyodide/", stdout: () => {}, stderr: () => {} });
  times.pyodide_ms = performance.now() - t;
  t = performance.now();
  const bytes = await files;
  times.files_wait_ms = performance.now() - t;
  t = performance.now();
  // no pydantic plugins exist here: skip their search through every installed distribution
  const site = pyodide.runPython("import os, sysconfig; os.environ['PYDANTIC_DISABLE_PLUGINS'] = '__all__'; sysconfig.get_paths()['purelib']");
  manifest.wheels.forEach((wheel, i) => pyodide.unpackArchive(bytes[i], "wheel", { extractDir: site }));
  // their bytecode, compiled when the bundle was built (hash-based .pyc: imported without compiling)
  pyodide.unpackArchive(bytes[manifest.wheels.length], "zip", { extractDir: site });
  pyodide.FS.writeFile("/tmp/rulebooks.pickle", bytes[manifest.wheels.length + 1]);
  times.files_ms = performance.now() - t;
  t = performance.now();
  pyodide.runPython("import discretion.engine.offline");
  times.imports_ms = performance.now() - t;
  t = performance.now();
  // the rulebook set as the build loaded it from rulebooks.json in this same Pyodide (validated and
  // cross-checked there): discretion.engine.offline.prepare
  const terminal = pyodide.runPython(
    "from discretion.engine.offline import Terminal\n" +
    "with open('/tmp/rulebooks.pickle', 'rb') as f:\n    terminal = Terminal.prepared(f.read())\nterminal"
  );
  times.rulebooks_ms = performance.now() - t;
  times.wasm_heap_bytes = pyodide._module.HEAP8.length;
  if (terminal.bundle_hash !== manifest.bundle_hash) {
    throw new Error(`规则集哈希与离线包清单不符（${terminal.bundle_hash} ≠ ${manifest.bundle_hash}）`);
  }
  // the bound methods, taken once: each attribute access would make a new proxy to release
  const answer = terminal.answer;
  const violations = terminal.violations_json;
  const form = terminal.form_json;
  return {
    manifest,
    times,
    pyodide,
    bundleHash: manifest.bundle_hash,
    // the assessment input (JSON text of POST /v1/assessments) → {"ok", "sha256", "result"} or {"ok": false, "error"} as text
    answer: (request) => answer(request),
    violations: (on, q) => violations(on, q || null),
    form: (code, on, jurisdiction) => form(code, on, jurisdiction || "yunnan"),
  };
}
