"""Sub-commands of ``discretion`` beyond the core ones in ``api.cli``, one module per command group.

Each module here defines ``register(sub, rulebooks)``: ``sub`` is the top-level sub-parser
collection, ``rulebooks`` the one under ``discretion rulebooks``. A command sets ``func`` with
``set_defaults``; ``api.cli.main`` runs it and turns the error hierarchy into exit codes.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

# The --database-url option's help, for every command that has it (resolved by api.settings.database_url).
DATABASE_URL_HELP = "数据库地址（默认取 DISCRETION_DATABASE_URL 或 DATABASE_URL，否则为数据目录 DISCRETION_HOME 中的 discretion.db）"


def register_all(sub: Any, rulebooks: Any) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(sub, rulebooks)


__all__ = ["DATABASE_URL_HELP", "register_all"]
