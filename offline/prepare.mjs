// A build tool of discretion offline build (not shipped in the bundle): loads the bundle's
// rulebooks.json in the bundle's own Pyodide, as a terminal would (discretion.engine.offline.prepare:
// every document validated, the set cross-checked), and writes the loaded set pickled, so that a
// terminal starts from it instead of validating the whole set again at every start.
//
//   node prepare.mjs PYODIDE_DIR RULEBOOKS_JSON PICKLE_OUT PYCACHE_ZIP WHEEL...
//
// PYTHONHASHSEED is fixed: the pickle of the same sources is the same bytes (a set's order follows
// the hash seed).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [pyodideDir, rulebooks, out, pycache, ...wheels] = process.argv.slice(2);
const { loadPyodide } = await import(join(pyodideDir, "pyodide.mjs"));
const py = await loadPyodide({ indexURL: pyodideDir + "/", env: { PYTHONHASHSEED: "0" }, stdout: () => {},
                               stderr: (s) => process.stderr.write(s + "\n") });
const site = py.runPython("import os, sysconfig; os.environ['PYDANTIC_DISABLE_PLUGINS'] = '__all__'; sysconfig.get_paths()['purelib']");
for (const w of wheels) py.unpackArchive(new Uint8Array(readFileSync(w)), "wheel", { extractDir: site });
py.unpackArchive(new Uint8Array(readFileSync(pycache)), "zip", { extractDir: site });
py.FS.writeFile("/tmp/rulebooks.json", new Uint8Array(readFileSync(rulebooks)));
py.runPython(`
import sys
assert sys.flags.hash_randomization == 0, "PYTHONHASHSEED=0 not applied"
from discretion.engine.offline import Terminal, prepare
with open("/tmp/rulebooks.json", "rb") as f:
    raw = f.read()
pickled = prepare(raw)
assert Terminal.prepared(pickled).rulebooks == Terminal(raw).rulebooks, "the pickled set is not the set of rulebooks.json"
with open("/tmp/rulebooks.pickle", "wb") as f:
    f.write(pickled)
`);
writeFileSync(out, py.FS.readFile("/tmp/rulebooks.pickle"));
