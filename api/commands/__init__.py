"""Sub-commands of ``discretion`` beyond the core ones in ``api.cli``, one module per command group.

Each module here defines ``register(sub, rulebooks)``: ``sub`` is the top-level sub-parser
collection, ``rulebooks`` the one under ``discretion rulebooks``. A command sets ``func`` with
``set_defaults``; ``api.cli.main`` runs it and turns the error hierarchy into exit codes.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def register_all(sub: Any, rulebooks: Any) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(sub, rulebooks)


__all__ = ["register_all"]
