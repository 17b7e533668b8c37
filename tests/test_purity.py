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
    for path in CORE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for n in names:
                if n.split(".")[0] in FORBIDDEN:
                    bad.append(f"{path.name}: {n}")
    assert not bad, bad


def test_importing_every_core_module_loads_no_shell_package() -> None:
    """Importing all of discretion/ (and running an assessment) leaves web and database packages unloaded."""
    code = (
        "import sys, importlib, pkgutil, discretion, datetime as dt\n"
        "for m in pkgutil.iter_modules(discretion.__path__): importlib.import_module('discretion.' + m.name)\n"
        "from discretion import rulebook\n"
        "from discretion.assessment import Engine\n"
        "from discretion.case import Case\n"
        "Engine(rulebook.load()).assess(Case(violation='water_over_standard', violation_date=dt.date(2025,1,1), decision_date=dt.date(2025,2,1)))\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=CORE.parent)
    assert r.returncode == 0, r.stdout + r.stderr
