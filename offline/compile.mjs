// A build tool of discretion offline build (not shipped in the bundle): compiles the Python of the
// bundle to bytecode with the bundle's own Pyodide, so that a terminal imports instead of compiling
// at every start (the slowest part of starting: about two thirds of Pyodide's own start-up).
//
//   node compile.mjs PYODIDE_DIR STDLIB_OUT PYCACHE_OUT WHEEL...
//
// STDLIB_OUT: Pyodide's python_stdlib.zip with a .pyc beside each .py; PYCACHE_OUT: a zip of the
// __pycache__ files of the wheels once unpacked into site-packages (the terminal unpacks it over
// them). The .pyc are hash-based and unchecked (PEP 552): used as they are, whatever the clock.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [pyodideDir, stdlibOut, pycacheOut, ...wheels] = process.argv.slice(2);
const { loadPyodide } = await import(join(pyodideDir, "pyodide.mjs"));
const py = await loadPyodide({ indexURL: pyodideDir + "/", stdout: () => {}, stderr: (s) => process.stderr.write(s + "\n") });
py.FS.writeFile("/tmp/stdlib.zip", new Uint8Array(readFileSync(join(pyodideDir, "python_stdlib.zip"))));
const site = py.runPython("import sysconfig; sysconfig.get_paths()['purelib']");
for (const w of wheels) py.unpackArchive(new Uint8Array(readFileSync(w)), "wheel", { extractDir: site });
const summary = py.runPython(`
import importlib.util, marshal, os, sys, sysconfig, zipfile

def pyc(source, filename):
    code = compile(source, filename, "exec", dont_inherit=True)
    return importlib.util.MAGIC_NUMBER + (0b01).to_bytes(4, "little") + importlib.util.source_hash(source) + marshal.dumps(code)

def entry(name, date_time):
    zi = zipfile.ZipInfo(name, date_time)
    zi.compress_type = zipfile.ZIP_DEFLATED
    zi.external_attr = 0o644 << 16
    return zi

stdlib = next(p for p in sys.path if p.endswith(".zip"))  # where the runtime mounts python_stdlib.zip
n_std = 0
with zipfile.ZipFile("/tmp/stdlib.zip") as src, zipfile.ZipFile("/tmp/stdlib-out.zip", "w") as out:
    for info in src.infolist():
        data = src.read(info)
        out.writestr(info, data)
        if info.filename.endswith(".py"):
            try:
                out.writestr(entry(info.filename + "c", info.date_time), pyc(data, f"{stdlib}/{info.filename}"))
                n_std += 1
            except SyntaxError:  # a module written for another version (lib2to3 test data …): left as source
                pass

site = sysconfig.get_paths()["purelib"]
n_site = 0
with zipfile.ZipFile("/tmp/pycache.zip", "w") as out:
    for root, dirs, files in sorted(os.walk(site)):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(".py"):
                path = os.path.join(root, f)
                with open(path, "rb") as fh:
                    code = pyc(fh.read(), path)
                out.writestr(entry(os.path.relpath(importlib.util.cache_from_source(path), site), (1980, 1, 1, 0, 0, 0)), code)
                n_site += 1
f"{n_std} {n_site}"
`);
writeFileSync(stdlibOut, py.FS.readFile("/tmp/stdlib-out.zip"));
writeFileSync(pycacheOut, py.FS.readFile("/tmp/pycache.zip"));
process.stdout.write(summary + "\n");
