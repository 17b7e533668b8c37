"""The functional core stays pure: discretion/ imports no web, database or shell code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

FORBIDDEN = ("api", "fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "jinja2", "httpx", "psycopg", "sqlite3")
CORE = Path(__file__).resolve().parent.parent / "discretion"


def test_core_modules_import_nothing_from_the_shell() -> None:
    """No module of discretion/ names a web or database package in an import statement."""
    bad = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for n in names:
                if n.split(".")[0] in FORBIDDEN:
                    bad.append(f"{path.relative_to(CORE)}: {n}")
    assert not bad, bad


def test_importing_every_core_module_loads_no_shell_package() -> None:
    """Importing all of discretion/ (and running an assessment) leaves web and database packages unloaded."""
    code = (
        "import sys, importlib, pkgutil, discretion, datetime as dt\n"
        "for m in pkgutil.walk_packages(discretion.__path__, 'discretion.'): importlib.import_module(m.name)\n"
        "from discretion.rulebooks import tree\n"
        "from discretion.engine.assessment import Engine\n"
        "from discretion.engine.case import Case\n"
        "Engine(tree.load()).assess(Case(violation='water_over_standard', violation_date=dt.date(2025,1,1), decision_date=dt.date(2025,2,1)))\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=CORE.parent)
    assert r.returncode == 0, r.stdout + r.stderr


# --- the rooms and the direction of imports --------------------------------------------------------

ROOT = CORE.parent
# The library's rooms, lowest first: a module may import from its own room and the rooms below it.
ROOMS = ("discretion.errors", "discretion.rulebooks", "discretion.engine", "discretion.review")


def _modules(package: str) -> dict[str, Path]:
    """Every module of ``package`` (a top-level folder), by dotted name; a package by its ``__init__``."""
    out = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, int]]:
    """The first-party modules ``name`` imports, with the line: every import statement counts,
    inside functions and ``if TYPE_CHECKING:`` blocks too."""
    is_pkg = path.name == "__init__.py"
    here = name.split(".") if is_pkg else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            mod = ".".join(base + (node.module.split(".") if node.module else []))
            # ``from pkg import sub``: the submodule, where there is one; else the module itself
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in known else mod for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:  # ``import a.b.c`` of a module: the nearest known one
                t = t.rpartition(".")[0]
            if t and t != name:
                found.append((t, node.lineno))
    return found


def _graph() -> tuple[dict[str, list[tuple[str, int]]], dict[str, Path]]:
    known = {**_modules("discretion"), **_modules("api")}
    return {n: _imports(n, p, known) for n, p in known.items()}, known


def _room(module: str) -> int | None:
    for i, room in enumerate(ROOMS):
        if module == room or module.startswith(room + "."):
            return i
    return None


def test_library_imports_run_one_way_review_engine_rulebooks_errors() -> None:
    """No module of a lower room (rulebooks < engine < review) imports from a higher one."""
    graph, known = _graph()
    bad = []
    for src, edges in graph.items():
        here = _room(src)
        if here is None:
            continue
        for dst, line in edges:
            there = _room(dst)
            if there is not None and there > here:
                bad.append(f"{known[src].relative_to(ROOT)}:{line}: {src} → {dst}")
    assert not bad, "\n".join(bad)


def test_every_library_module_lives_in_a_room() -> None:
    """Besides the package itself, every module of discretion/ belongs to one of the rooms."""
    loose = [m for m in _modules("discretion") if m != "discretion" and _room(m) is None]
    assert not loose, loose


def test_no_import_circle_in_the_library_or_the_shell() -> None:
    """The import graph of discretion/ and api/ has no cycle, counting deferred and type-only imports."""
    graph, known = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w, _ in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, cycles


def test_the_graph_sees_deferred_and_type_only_imports() -> None:
    """The checker itself: an import inside a function and one under TYPE_CHECKING are both edges."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "m.py"
        p.write_text(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from discretion.engine import trail\n"
            "def f():\n    from discretion.rulebooks.models import Fine\n",
            encoding="utf-8",
        )
        known = {"discretion.engine.trail": p, "discretion.rulebooks.models": p, "discretion.engine.x": p}
        got = {t for t, _ in _imports("discretion.engine.x", p, known)}
    assert got == {"discretion.engine.trail", "discretion.rulebooks.models"}


def test_every_room_is_a_package_that_says_what_it_holds_and_may_import() -> None:
    """Each folder of discretion/ and api/ with Python files has an ``__init__.py``; each room's says
    what lives there and what it may import."""
    missing = [
        str(d.relative_to(ROOT))
        for top in ("discretion", "api")
        for d in [ROOT / top, *(p for p in (ROOT / top).rglob("*") if p.is_dir())]
        if "__pycache__" not in d.parts and any(d.glob("*.py")) and not (d / "__init__.py").is_file()
    ]
    assert not missing, missing
    for room in ROOMS[1:]:
        doc = ast.get_docstring(ast.parse((ROOT / room.replace(".", "/") / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "May import" in doc, room
