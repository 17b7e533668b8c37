"""The sub-commands of ``discretion``, one module per command group; ``api.cli`` builds the parser
from them and runs the chosen command.

The core commands come first, in the order ``discretion --help`` lists them: ``assess``,
``violations``, ``daily`` (``daily-penalty``), ``serve``, then ``rulebooks`` (check, schema, test),
whose ``register(sub)`` returns the ``discretion rulebooks`` sub-parser collection. Every other
module defines ``register(sub, rulebooks)``: ``sub`` is the top-level sub-parser collection,
``rulebooks`` the one under ``discretion rulebooks``; they are added by module name. A command
sets ``func`` with ``set_defaults``; ``api.cli.main`` runs it and turns the error hierarchy into
exit codes. Modules whose name starts with ``_`` are helpers, not command groups.

A command module imports the library (``discretion``) and the shell's modules below it (``api.server``,
``api.storage``, ``api.auth``, ``api.settings`` …), never ``api.cli``.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

CORE = ("assess", "violations", "daily", "serve", "rulebooks")


def register_all(sub: Any) -> None:
    from . import assess, daily, rulebooks, serve, violations

    for core in (assess, violations, daily, serve):
        core.register(sub)
    group = rulebooks.register(sub)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name not in CORE and not info.name.startswith("_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            module.register(sub, group)


__all__ = ["register_all"]
