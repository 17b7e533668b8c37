"""The rulebooks room: reading, validating, cross-checking, approving and compiling the YAML tree.

- ``models`` — the pydantic models of every rulebook file (``extra="forbid"``); ``conditions`` —
  the whitelisted condition language;
- ``loading`` — the only code that opens rulebook files: safe YAML with a line for every node;
- ``loaded`` — the loaded tree as data; ``checks`` — cross-checks of the law layer;
  ``editions`` — benchmark editions: cross-checks, prefecture narrowing, the edition in force;
  ``approval`` — content hashes, approval and publication; ``signing`` — reviewers' Ed25519
  signatures of approvals and the registry of their public keys (``reviewers.yaml``); ``tree`` —
  ``load()``: the whole tree, all or nothing;
- ``compiler`` — rulesets for the matchers, compiled from the loaded tree; ``jsonset`` — a loaded
  set as one JSON document (published editions) and back, for the offline terminal, which has no YAML.

May import: :mod:`discretion.errors` and this room only (never the engine, the review tools, or any
web or database package). Kept free of side effects: importing this package imports nothing.
"""
