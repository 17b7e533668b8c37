"""Every module the code and the tests import is the standard library's, the project's own, or comes
from a distribution pyproject.toml declares directly (so a fresh virtual environment has it)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("discretion", "api", "tests", "benchmarks")


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    """The distributions pyproject.toml names in its dependencies and its [test] extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    return {normalise(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", r.strip()).group()) for r in requirements}  # type: ignore[union-attr]


def first_party() -> set[str]:
    """The project's own top-level names: its packages, and the modules beside the tests and benchmarks."""
    names = set(SOURCES)
    for folder in ("tests", "benchmarks"):
        names |= {p.stem for p in (ROOT / folder).rglob("*.py")}
        names |= {p.parent.name for p in (ROOT / folder).rglob("__init__.py")}
    return names


def imports() -> list[tuple[str, int, str]]:
    """(file, line, top-level module) of every absolute import in the sources, those inside functions too."""
    found = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                found += [(str(path.relative_to(ROOT)), node.lineno, n.split(".")[0]) for n in names]
    return found


def test_every_imported_module_comes_from_a_declared_distribution() -> None:
    """Each third-party import in discretion/, api/, tests/ and benchmarks/ is installed from a distribution pyproject.toml declares."""
    own, wanted, provided = first_party(), declared(), packages_distributions()
    problems = []
    for file, line, module in imports():
        if module in sys.stdlib_module_names or module in own:
            continue
        dists = provided.get(module)
        if not dists:
            problems.append(f"{file}:{line}: {module} is not installed (declare its distribution in pyproject.toml)")
        elif not {normalise(d) for d in dists} & wanted:
            problems.append(f"{file}:{line}: {module} comes from {', '.join(sorted(set(dists)))}, not declared in pyproject.toml")
    assert not problems, "\n".join(problems)


def test_the_import_scan_sees_imports_inside_functions() -> None:
    """The scan finds an import placed inside a function body, where lazy imports live."""
    assert any(file == "api/commands/db.py" and module == "sqlalchemy" for file, _, module in imports())
