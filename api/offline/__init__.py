"""The offline terminal's bundle: building it (``build``) and proving it answers as the service does
(``check``), behind ``discretion offline build|check`` (api/commands/offline.py).

The bundle is static files: Pyodide (the npm package pinned in ``offline/package-lock.json``), the
wheels pinned with their sha256 in ``offline/requirements.txt``, this project's library as a wheel
(``discretion/`` only), the rulebook set compiled to JSON (:mod:`discretion.rulebooks.jsonset`), the
front end in ``offline/web/`` with the service's stylesheet, a service worker that caches every file,
and ``manifest.json`` with the sha256 of each. README “Offline terminals”.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
SOURCES = REPO / "offline"  # the pins and the front end's sources (in the repository, beside rulebooks/)
