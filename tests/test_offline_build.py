"""api.offline.build: the offline bundle is self-contained, pinned, checksummed and names no remote address."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from api.offline import SOURCES
from api.offline.build import CDN_DEFAULT, REMOTE, _pins, _requirements, default_cache, library_wheel, remote_addresses
from discretion.rulebooks import jsonset, tree

ROOT = Path(__file__).resolve().parent.parent
# Strings the address check must catch, and strings it must let pass (a template, loopback, prose).
REMOTE_SAMPLES = ["https://cdn.jsdelivr.net/pyodide/", "fetch('http://example.org/x')", "wss://push.example.com",
                  'src="//cdn.example.com/a.js"', "ftp://files.example.net/a", "http://10.0.0.1/api"]
LOCAL_SAMPLES = ["new URL(`https://${t}`)", "http://localhost:8000/", "http://127.0.0.1/x", "http://[::1]:80/",
                 "// a comment with a.b", "见 《中华人民共和国水污染防治法》"]


@pytest.mark.parametrize("text", REMOTE_SAMPLES)
def test_the_address_check_catches_remote_addresses(text: str) -> None:
    """A scheme with a host other than this machine's loopback, or //host.tld in quotes, is an address."""
    assert REMOTE.search(text), text


@pytest.mark.parametrize("text", LOCAL_SAMPLES)
def test_the_address_check_lets_loopback_and_templates_pass(text: str) -> None:
    """Loopback addresses, a scheme before a template placeholder and ordinary text are not remote addresses."""
    assert not REMOTE.search(text), text


def test_no_file_of_the_bundle_names_a_remote_address(offline_bundle: Path) -> None:
    """Every text file of the bundle (page, scripts, styles, Pyodide's loader, the manifest and the
    compiled rulebooks, whose only addresses are the cited sources of modelled figures) is searched."""
    assert remote_addresses(offline_bundle) == []
    mjs = (offline_bundle / "pyodide" / "pyodide.mjs").read_text(encoding="utf-8")
    assert CDN_DEFAULT not in mjs  # Pyodide's unused default package address was replaced
    texts = [p for p in offline_bundle.rglob("*") if p.suffix in (".html", ".js", ".mjs", ".css", ".json")]
    assert {p.name for p in texts} >= {"index.html", "terminal.js", "engine.mjs", "sw.js", "manifest.json", "rulebooks.json"}


def test_a_remote_address_in_a_bundle_is_found(tmp_path: Path) -> None:
    """The check finds an address in a script, and in the compiled rulebooks outside a modelled figure's source."""
    (tmp_path / "a.js").write_text("fetch('https://example.com/x')", encoding="utf-8")
    (tmp_path / "rulebooks.json").write_text(json.dumps({"editions": [{"data": {
        "modelled": {"source": "https://example.org/notice"}, "title": "见 https://example.net/t"}}]}), encoding="utf-8")
    found = remote_addresses(tmp_path)
    assert found == ["a.js: https://example.com/x')", "rulebooks.json: https://example.net/t"]


def test_every_file_is_in_the_manifest_with_its_sha256(offline_bundle: Path) -> None:
    """manifest.json lists every other file with its size and sha256, the rulebook set's hash and the wheels."""
    manifest = json.loads((offline_bundle / "manifest.json").read_bytes())
    files = {p.relative_to(offline_bundle).as_posix() for p in offline_bundle.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == files
    for name, f in manifest["files"].items():
        data = (offline_bundle / name).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (f["size"], f["sha256"]), name
    assert manifest["bundle_hash"] == tree.source_hash(tree.source_files())
    assert manifest["pyodide"] == json.loads((SOURCES / "package-lock.json").read_bytes())["packages"]["node_modules/pyodide"]["version"]
    assert all(w in manifest["files"] for w in manifest["wheels"])


def test_shipped_files_are_the_pinned_ones(offline_bundle: Path) -> None:
    """Pyodide's files are the published ones of the pinned version (pyodide.mjs with its one address
    replaced; the standard library's zip with its published members unchanged, a .pyc added beside
    each .py), and each wheel has the sha256 of offline/requirements.txt."""
    published = next(default_cache().glob("npm-*/node_modules/pyodide"))  # npm ci's copy, as the build checked it
    for name, digest in _pins("pyodide.sha256"):
        data = (offline_bundle / "pyodide" / name).read_bytes()
        if name == "pyodide.mjs":
            data = data.replace(b"??`./`", b"??`" + CDN_DEFAULT.encode() + b"`", 1)
        if name == "python_stdlib.zip":
            assert hashlib.sha256((published / name).read_bytes()).hexdigest() == digest
            upstream = zipfile.ZipFile(published / name)
            shipped = zipfile.ZipFile(io.BytesIO(data))
            added = set(shipped.namelist()) - set(upstream.namelist())
            assert all(upstream.read(n) == shipped.read(n) for n in upstream.namelist())
            assert added and all(n.endswith(".pyc") and n[:-1] in upstream.namelist() for n in added)
            continue
        assert hashlib.sha256(data).hexdigest() == digest, name
    wheels = {hashlib.sha256(p.read_bytes()).hexdigest() for p in (offline_bundle / "wheels").glob("*.whl")}
    assert {digest for _, _, digest in _requirements()} <= wheels


def test_the_rulebooks_are_the_published_set_compiled_to_json(offline_bundle: Path, rulebooks: object) -> None:
    """rulebooks.json loads as the set the service loads, its published editions only."""
    rs = jsonset.loads((offline_bundle / "rulebooks.json").read_bytes())
    assert rs.sha256 == rulebooks.sha256  # type: ignore[attr-defined]
    assert all(le.model.status == "published" for le in rs.editions.values())


def test_the_prepared_set_is_the_set_of_rulebooks_json(offline_bundle: Path) -> None:
    """rulebooks.pickle, which a terminal starts from, holds exactly the set rulebooks.json loads as (loaded in
    the bundle's Pyodide at build time), is named in the manifest with its sha256, and carries the bundle's hash."""
    manifest = json.loads((offline_bundle / "manifest.json").read_bytes())
    assert manifest["prepared"] == "rulebooks.pickle" and "rulebooks.pickle" in manifest["files"]
    prepared = pickle.loads((offline_bundle / "rulebooks.pickle").read_bytes())
    assert prepared == jsonset.loads((offline_bundle / "rulebooks.json").read_bytes())
    assert prepared.extra["source"] == manifest["bundle_hash"]


def test_the_prepared_set_is_the_same_bytes_when_made_again(offline_bundle: Path, tmp_path: Path) -> None:
    """offline/prepare.mjs run again on the bundle's own files (fixed hash seed) writes rulebooks.pickle byte for byte."""
    manifest = json.loads((offline_bundle / "manifest.json").read_bytes())
    out = tmp_path / "again.pickle"
    r = subprocess.run(["node", str(SOURCES / "prepare.mjs"), str(offline_bundle / "pyodide"), str(offline_bundle / "rulebooks.json"),
                        str(out), str(offline_bundle / manifest["pycache"]), *(str(offline_bundle / w) for w in manifest["wheels"])],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == (offline_bundle / "rulebooks.pickle").read_bytes()


def test_the_pins_follow_constraints_txt() -> None:
    """The wheels are pinned at the versions the service runs (constraints.txt), and Pyodide exactly."""
    pinned = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", line)
        if m:
            pinned[m.group(1).lower()] = m.group(2)
    for name, version, _ in _requirements():
        assert pinned.get(name.lower()) == version, name
    assert {n for n, _, _ in _requirements()} == {"pydantic", "pydantic-core", "typing-extensions", "annotated-types", "typing-inspection"}
    package = json.loads((SOURCES / "package.json").read_bytes())
    lock = json.loads((SOURCES / "package-lock.json").read_bytes())
    assert package["dependencies"]["pyodide"] == lock["packages"]["node_modules/pyodide"]["version"]  # exact, no range
    assert all(p.get("integrity", "").startswith("sha512-") for k, p in lock["packages"].items() if k)


def test_the_bytecode_covers_every_module_of_the_wheels(offline_bundle: Path) -> None:
    """wheels/pycache.zip holds a hash-based, unchecked .pyc (PEP 552) in __pycache__ for each module of every wheel."""
    manifest = json.loads((offline_bundle / "manifest.json").read_bytes())
    cache = zipfile.ZipFile(offline_bundle / manifest["pycache"])
    modules = {n for w in manifest["wheels"] for n in zipfile.ZipFile(offline_bundle / w).namelist() if n.endswith(".py")}
    want = {f"{m.rpartition('/')[0]}/__pycache__/{m.rpartition('/')[2][:-3]}.cpython-314.pyc".lstrip("/") for m in modules}
    assert set(cache.namelist()) == want
    pyc = cache.read("discretion/engine/__pycache__/offline.cpython-314.pyc")
    assert int.from_bytes(pyc[4:8], "little") == 0b01  # hash-based, not checked against the source


def test_the_library_wheel_holds_only_the_core_and_is_reproducible() -> None:
    """The project's wheel is discretion/ and its metadata, nothing of api/, the same bytes every time."""
    name, data = library_wheel()
    assert name.startswith("discretion-") and name.endswith("-py3-none-any.whl")
    assert library_wheel()[1] == data
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert all(n.startswith(("discretion/", "discretion-")) for n in names)
    assert "discretion/engine/offline.py" in names and "discretion/rulebooks/jsonset.py" in names
    assert not any("__pycache__" in n for n in names)
