"""Rulebook lint: what a legal reviewer must see before an edition is published.

:func:`lint` runs over a rulebook tree and returns :class:`Finding` objects, each naming a
stable check id, a severity (``error`` / ``warning``), file, line, rule id and a Chinese
message. It never raises for a broken tree: the loader's refusals become findings (with the
loader's file and line), and the semantic checks run on every file that still parses.

The checks (``CHECKS``; docs/rulebooks.md, section "Lint", explains each with an example), by module:

* ``refusals`` – ``load-error`` (the loader refuses a file: YAML, schema, cross-reference,
  approval) and ``unknown-name`` (a condition or a list names an unknown fact, circumstance or
  violation), with the other loader refusals sorted under the checks below;
* ``ids`` – ``duplicate-id``: two rules, factors, entries, facts or circumstances share an id;
* ``basis`` – ``missing-basis``: a rule without legal basis, or a quoted text that quotes nothing;
* ``firing`` – ``never-fires`` (a condition that can never hold: alone, with its enclosing rule,
  for the violation types an entry lists, or after an earlier first-match rule; a duty breached
  that no provision of its regime reaches), ``missing-basis`` for a provision whose case selects
  no duty breached, and ``exclusive-overlap`` (two rules of which only one may apply can apply together);
* ``levels`` – ``level-gap`` / ``level-overlap``: the levels of one factor leave values
  unassigned or assign one value to two levels;
* ``bands`` – ``band-outside-range``: an amount the edition produces (band bounds, extreme amounts
  after its rounding, the 减轻 floor) outside the statutory range, under every regime the edition
  is applied with;
* ``periods`` – ``edition-overlap`` / ``edition-gap``: effective periods of one jurisdiction's editions;
* ``prefecture`` – ``prefecture-widens``: a prefecture edition that is wider than its provincial edition.

Shared by the checks: ``findings`` (:class:`Finding`, ``CHECKS``), ``space`` (the condition analysis:
conditions are analysed exactly, not sampled, as unions of boxes of value sets over the facts'
domains, :class:`Dom` and :class:`Space`), ``tree`` (what loads, even when the loader refuses the
set) and ``scope`` (which names a condition may read). ``run`` holds :func:`lint` and the order of
the checks.

Imports: ``discretion.rulebooks``, ``discretion.engine`` (money, trail labels) and ``discretion.errors``;
the modules here import their siblings directly, never this package.
"""

from .findings import CHECKS, ERROR, WARNING, Finding, errors, warnings
from .refusals import classify
from .run import lint
from .space import Dom, Space
from .tree import Tree

__all__ = ["CHECKS", "ERROR", "WARNING", "Dom", "Finding", "Space", "Tree", "classify", "errors", "lint", "warnings"]
