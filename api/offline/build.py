"""``discretion offline build --out DIR``: the offline terminal's static bundle.

Everything is pinned and checked before it goes in: Pyodide from the npm package of
``offline/package-lock.json`` (installed with ``npm ci``, which checks the package's sha512, and each
shipped file against ``offline/pyodide.sha256``); the wheels of ``offline/requirements.txt``
(downloaded with ``pip download --require-hashes`` for Pyodide's platform, and checked again); this
project's library as a wheel built here from ``discretion/`` (reproducibly: fixed times, sorted
entries); the rulebook tree loaded as the service loads it (approval signatures verified) and
compiled to JSON. Downloads are kept in a cache (``--cache``, default the user cache directory) and
reused while their hashes match. The bundle is written to a new folder beside ``--out`` and moved
into place whole; a bundle that names a remote address anywhere in its text files is refused.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from discretion import __version__
from discretion.errors import DiscretionError
from discretion.rulebooks import jsonset, tree

from . import REPO, SOURCES

PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
# pyodide.mjs's default address for packages it does not have: never used (the page passes its own
# packageBaseUrl and loads no package by name), replaced so that the bundle names no remote address
CDN_DEFAULT = "https://cdn.jsdelivr.net/pyodide/v${U}/full/"
PLATFORM = ("--platform", "pyemscripten_2026_0_wasm32", "--platform", "any", "--python-version", "3.14",
            "--implementation", "cp", "--abi", "cp314", "--abi", "none")
WEB = ("index.html", "terminal.js", "engine.mjs", "engine-core.mjs", "node-check.mjs", "offline.css")
STYLES = REPO / "api" / "static" / "app.css"  # the service's look
RULEBOOKS = "rulebooks.json"
PREPARED = "rulebooks.pickle"  # the set of rulebooks.json as loaded in the bundle's Pyodide (_prepared)
PYCACHE = "pycache.zip"  # in wheels/: the __pycache__ of the unpacked wheels (_bytecode)
TEXT = (".html", ".js", ".mjs", ".css", ".json", ".txt", ".py")
# an address another machine answers: a scheme and a host that is not this machine's loopback, or a
# protocol-relative //host.tld in quotes
REMOTE = re.compile(
    r"(?i)\b(?:https?|wss?|ftp)://(?!(?:localhost|127\.0\.0\.1|\[::1\])(?:[:/]|$))[a-z0-9\[]"
    r"|(?<=[\"'(`])//[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b"
)
EPOCH = (1980, 1, 1, 0, 0, 0)  # the wheel's entries' time: the same bytes from the same sources


@dataclass
class BuildError(DiscretionError):
    """The bundle cannot be built as pinned (a tool missing, a download or a checksum failing)."""

    code: str = "offline_build_failed"


@dataclass
class Built:
    out: Path
    bundle_hash: str
    files: dict[str, tuple[int, str]] = field(default_factory=dict)  # path → (size, sha256)
    gzip_bytes: int = 0
    seconds: float = 0.0

    @property
    def bytes(self) -> int:
        return sum(size for size, _ in self.files.values())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def default_cache() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("DISCRETION_OFFLINE_CACHE") or user_cache_dir("discretion")) / "offline"


def build(out: Path, *, root: Path | None = None, cache: Path | None = None, log: Callable[[str], None] = print) -> Built:
    """Build the bundle into ``out`` (which must not exist, or be an earlier bundle: it is replaced)."""
    started = time.monotonic()
    out = out.resolve()
    if out.exists() and not (out / "manifest.json").is_file():
        raise BuildError(message=f"{out} 已存在且不是离线包目录，请换一个目录或先删除它", field="out")
    cache = (cache or default_cache()).resolve()
    staging = out.with_name(f".{out.name}.building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        bundle_hash = _rulebooks(staging, root, log)
        _pyodide(staging / "pyodide", cache, log)
        wheels = _wheels(staging / "wheels", cache, log)
        _bytecode(staging, wheels, cache, log)
        _prepared(staging, wheels, cache, log)
        _web(staging)
        built = _finish(staging, bundle_hash, wheels)
        _refuse_remote(staging)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    built.out = out
    built.seconds = time.monotonic() - started
    return built


# --- the parts ----------------------------------------------------------------------------------


def _rulebooks(dest: Path, root: Path | None, log: Callable[[str], None]) -> str:
    rs = tree.load(root)  # signatures verified: the terminal cannot verify them (no cryptography there)
    files = tree.source_files(root)
    source = tree.source_hash(files)
    raw = jsonset.dumps(rs, source)
    back = jsonset.loads(raw)
    (dest / RULEBOOKS).write_bytes(raw)
    left = ", ".join(f"{x['key']}（{x['status']}）" for x in back.extra["left_out"]) or "无"
    log(f"规则集：{len(back.violations)} 类违法行为，{len(back.editions)} 个已发布的裁量基准版本（未收入：{left}），"
        f"规则集哈希 {source[:16]}…，{len(raw):,} 字节")
    return source


def _pins(name: str) -> list[tuple[str, str]]:
    """(name, sha256) pairs of a pin file: ``offline/pyodide.sha256`` (sha256sum's format)."""
    out = []
    for line in (SOURCES / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            digest, file = line.split()
            out.append((file, digest))
    return out


def _pyodide(dest: Path, cache: Path, log: Callable[[str], None]) -> None:
    lock = (SOURCES / "package-lock.json").read_bytes()
    version = json.loads(lock)["packages"]["node_modules/pyodide"]["version"]
    npm_dir = cache / f"npm-{sha256(lock)[:16]}"
    pkg = npm_dir / "node_modules" / "pyodide"
    pins = _pins("pyodide.sha256")
    if not all((pkg / f).is_file() and sha256((pkg / f).read_bytes()) == d for f, d in pins):
        npm = shutil.which("npm")
        if npm is None:
            raise BuildError(message="找不到 npm：构建离线包需要 Node.js 和 npm（Debian：apt-get install nodejs npm）", field="npm")
        npm_dir.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(SOURCES / name, npm_dir / name)
        log(f"下载 Pyodide {version}（npm ci）…")
        r = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=npm_dir, capture_output=True, text=True)
        if r.returncode != 0:
            raise BuildError(message=f"npm ci 失败：{(r.stderr or r.stdout).strip()[-2000:]}", field="npm")
    dest.mkdir(parents=True)
    for f, digest in pins:
        data = (pkg / f).read_bytes()
        if sha256(data) != digest:
            raise BuildError(message=f"Pyodide 文件 {f} 的 sha256 与 offline/pyodide.sha256 不符", field="pyodide")
        if f == "pyodide.mjs":
            text = data.decode("utf-8")
            if text.count(CDN_DEFAULT) != 1:
                raise BuildError(message="pyodide.mjs 中找不到预期的默认包地址，无法替换（Pyodide 版本变了？）", field="pyodide")
            data = text.replace(CDN_DEFAULT, "./").encode("utf-8")
        (dest / f).write_bytes(data)
    log(f"Pyodide {version}：{len(pins)} 个文件，sha256 相符")


def _requirements() -> list[tuple[str, str, str]]:
    """(name, version, sha256) of each wheel pinned in ``offline/requirements.txt``."""
    out = []
    for line in (SOURCES / "requirements.txt").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==([^\s]+)\s+--hash=sha256:([0-9a-f]{64})\s*$", line)
        if m:
            out.append((m.group(1), m.group(2), m.group(3)))
    return out


def _wheel_prefix(name: str, version: str) -> str:
    return f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}-"


def _wheels(dest: Path, cache: Path, log: Callable[[str], None]) -> list[str]:
    wheel_cache = cache / "wheels"
    wheel_cache.mkdir(parents=True, exist_ok=True)
    pins = _requirements()

    def cached(name: str, version: str, digest: str) -> Path | None:
        for p in wheel_cache.glob(_wheel_prefix(name, version) + "*.whl"):
            if sha256(p.read_bytes()) == digest:
                return p
        return None

    if not all(cached(*pin) for pin in pins):
        log(f"下载 {len(pins)} 个 wheel（pip download，Pyodide 平台 pyemscripten_2026_0_wasm32）…")
        r = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--require-hashes",
                            "--no-deps", "--only-binary=:all:", *PLATFORM, "-r", str(SOURCES / "requirements.txt"),
                            "-d", str(wheel_cache)], capture_output=True, text=True)
        if r.returncode != 0:
            raise BuildError(message=f"pip download 失败：{(r.stderr or r.stdout).strip()[-2000:]}", field="wheels")
    dest.mkdir(parents=True)
    names = []
    for name, version, digest in pins:
        p = cached(name, version, digest)
        if p is None:
            raise BuildError(message=f"{name}=={version} 的 wheel 下载后 sha256 与 offline/requirements.txt 不符", field="wheels")
        shutil.copyfile(p, dest / p.name)
        names.append(p.name)
    own, data = library_wheel()
    (dest / own).write_bytes(data)
    log(f"wheel：{', '.join(names)}，以及本项目的 {own}（{len(data):,} 字节）")
    return [*names, own]


def library_wheel() -> tuple[str, bytes]:
    """This project's library (``discretion/`` only: no web, no database, no command line) as a
    wheel, built reproducibly: the same sources give the same bytes."""
    dist = f"discretion-{__version__}"
    info = f"{dist}.dist-info"
    entries: list[tuple[str, bytes]] = []
    for p in sorted((REPO / "discretion").rglob("*.py")):
        if "__pycache__" not in p.parts:
            entries.append((p.relative_to(REPO).as_posix(), p.read_bytes()))
    entries.append((f"{info}/METADATA", (
        f"Metadata-Version: 2.1\nName: discretion\nVersion: {__version__}\n"
        "Summary: 生态环境行政处罚裁量计算（核心库，离线终端用）\nRequires-Dist: pydantic<3,>=2.6\n").encode("utf-8")))
    entries.append((f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: discretion offline build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"))
    record = "".join(f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}\n"
                     for name, data in entries) + f"{info}/RECORD,,\n"
    entries.append((f"{info}/RECORD", record.encode("utf-8")))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            zi = zipfile.ZipInfo(name, EPOCH)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data, compresslevel=9)
    return f"{dist}-py3-none-any.whl", buf.getvalue()


def _bytecode(dest: Path, wheels: list[str], cache: Path, log: Callable[[str], None]) -> None:
    """Python's bytecode, compiled by the bundle's own Pyodide under Node (offline/compile.mjs): the
    standard library's zip with a .pyc beside each .py, and ``wheels/pycache.zip`` of the wheels'.
    Without it a terminal compiles every module it imports at each start (about two thirds of the
    start-up). Kept in the cache for the same Pyodide, wheels and compiler."""
    stdlib = dest / "pyodide" / "python_stdlib.zip"
    inputs = [stdlib.read_bytes(), (SOURCES / "compile.mjs").read_bytes(), *((dest / "wheels" / w).read_bytes() for w in wheels)]
    folder = cache / f"bytecode-{sha256(b''.join(sha256(x).encode() for x in inputs))[:16]}"
    if not (folder / "python_stdlib.zip").is_file() or not (folder / PYCACHE).is_file():
        node = shutil.which("node")
        if node is None:
            raise BuildError(message="找不到 node：构建离线包需要 Node.js（用离线包自己的 Pyodide 编译 Python 字节码）", field="node")
        log("编译 Python 字节码（Node 中的 Pyodide）…")
        work = cache / f".{folder.name}-{os.getpid()}"
        work.mkdir(parents=True, exist_ok=True)
        r = subprocess.run([node, str(SOURCES / "compile.mjs"), str(dest / "pyodide"), str(work / "python_stdlib.zip"),
                            str(work / PYCACHE), *(str(dest / "wheels" / w) for w in wheels)], capture_output=True, text=True)
        if r.returncode != 0:
            shutil.rmtree(work, ignore_errors=True)
            raise BuildError(message=f"编译 Python 字节码失败：{(r.stderr or r.stdout).strip()[-2000:]}", field="node")
        shutil.rmtree(folder, ignore_errors=True)
        work.rename(folder)
    shutil.copyfile(folder / "python_stdlib.zip", stdlib)
    shutil.copyfile(folder / PYCACHE, dest / "wheels" / PYCACHE)
    log(f"Python 字节码：标准库 {stdlib.stat().st_size:,} 字节，wheel 的 {(dest / 'wheels' / PYCACHE).stat().st_size:,} 字节")


def _prepared(dest: Path, wheels: list[str], cache: Path, log: Callable[[str], None]) -> None:
    """``rulebooks.pickle``: the set of ``rulebooks.json`` loaded, validated and cross-checked by the
    bundle's own Pyodide under Node (offline/prepare.mjs, :func:`discretion.engine.offline.prepare`),
    pickled. A terminal starts from it (checked against the manifest's sha256 like the wheels) instead
    of validating the whole JSON at each start. Kept in the cache for the same inputs."""
    inputs = [(SOURCES / "prepare.mjs").read_bytes(), (dest / RULEBOOKS).read_bytes(), (dest / "wheels" / PYCACHE).read_bytes(),
              *((dest / "pyodide" / f).read_bytes() for f in PYODIDE_FILES), *((dest / "wheels" / w).read_bytes() for w in wheels)]
    cached = cache / f"prepared-{sha256(b''.join(sha256(x).encode() for x in inputs))[:16]}.pickle"
    if not cached.is_file():
        node = shutil.which("node")
        if node is None:
            raise BuildError(message="找不到 node：构建离线包需要 Node.js（用离线包自己的 Pyodide 加载规则集）", field="node")
        work = cached.with_name(f".{cached.name}-{os.getpid()}")
        r = subprocess.run([node, str(SOURCES / "prepare.mjs"), str(dest / "pyodide"), str(dest / RULEBOOKS), str(work),
                            str(dest / "wheels" / PYCACHE), *(str(dest / "wheels" / w) for w in wheels)], capture_output=True, text=True)
        if r.returncode != 0:
            work.unlink(missing_ok=True)
            raise BuildError(message=f"在 Pyodide 中加载规则集失败：{(r.stderr or r.stdout).strip()[-2000:]}", field="node")
        work.rename(cached)
    shutil.copyfile(cached, dest / PREPARED)
    log(f"预加载的规则集：{PREPARED}，{(dest / PREPARED).stat().st_size:,} 字节")


def _web(dest: Path) -> None:
    for name in WEB:
        shutil.copyfile(SOURCES / "web" / name, dest / name)
    shutil.copyfile(STYLES, dest / "app.css")


def _finish(dest: Path, bundle_hash: str, wheels: list[str]) -> Built:
    """The service worker (caching every file) and the manifest (every file's size and sha256)."""
    files = _listing(dest)
    version = sha256("".join(f"{p}\0{d}\n" for p, (_, d) in sorted(files.items())).encode())[:16]
    cached = ["./", *sorted(files), "manifest.json"]
    sw = (SOURCES / "web" / "sw.js").read_text(encoding="utf-8")
    sw = sw.replace("__VERSION__", version).replace("__FILES__", json.dumps(cached, ensure_ascii=False, indent=1))
    (dest / "sw.js").write_text(sw, encoding="utf-8")
    files = _listing(dest)
    lock = json.loads((SOURCES / "package-lock.json").read_bytes())
    manifest = {
        "format": "discretion/offline-bundle/1",
        "discretion": __version__,
        "bundle_hash": bundle_hash,
        "version": version,
        "pyodide": lock["packages"]["node_modules/pyodide"]["version"],
        "rulebooks": RULEBOOKS,
        "prepared": PREPARED,
        "wheels": [f"wheels/{w}" for w in wheels],
        "pycache": f"wheels/{PYCACHE}",
        # the files of the npm package as published (pyodide.sha256), before the build changed them
        "pyodide_changed": {"pyodide/pyodide.mjs": "its unused default package address replaced by ./",
                            "pyodide/python_stdlib.zip": "a .pyc compiled by this Pyodide beside each .py"},
        "files": {p: {"size": s, "sha256": d} for p, (s, d) in sorted(files.items())},
    }
    (dest / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    built = Built(out=dest, bundle_hash=bundle_hash, files=_listing(dest))
    built.gzip_bytes = sum(len(gzip.compress((dest / p).read_bytes(), 9, mtime=0)) for p in built.files)
    return built


def _listing(dest: Path) -> dict[str, tuple[int, str]]:
    out = {}
    for p in sorted(dest.rglob("*")):
        if p.is_file() and p.name != "manifest.json":
            data = p.read_bytes()
            out[p.relative_to(dest).as_posix()] = (len(data), sha256(data))
    return out


def remote_addresses(folder: Path) -> list[str]:
    """``file: address`` for every remote address named in the bundle's text files (none is allowed).

    One kind of text is not an address the bundle uses: the ``modelled.source`` of a benchmark
    edition, which says where a modelled figure comes from (a citation, part of the approved and
    signed content, never fetched and never shown by the terminal). In ``rulebooks.json`` every
    other string is searched like the other files."""
    found = []
    for p in sorted(folder.rglob("*")):
        if not (p.is_file() and p.suffix in TEXT):
            continue
        name = p.relative_to(folder).as_posix()
        if name == RULEBOOKS:
            texts = list(_strings(json.loads(p.read_bytes()), ()))
        else:
            texts = [p.read_text(encoding="utf-8", errors="replace")]
        for text in texts:
            for m in REMOTE.finditer(text):
                found.append(f"{name}: {text[m.start():m.start() + 60].splitlines()[0]}")
    return found


def _strings(x: object, path: tuple[str, ...]) -> Iterator[str]:
    """Every key and string of a JSON document except the sources of modelled figures."""
    if isinstance(x, dict):
        for k, v in x.items():
            yield k
            yield from _strings(v, (*path, k))
    elif isinstance(x, list):
        for v in x:
            yield from _strings(v, path)
    elif isinstance(x, str) and path[-2:] != ("modelled", "source"):
        yield x


def _refuse_remote(folder: Path) -> None:
    found = remote_addresses(folder)
    if found:
        raise BuildError(message="离线包的文件引用了远程地址：" + "；".join(found[:10]), field="out")
