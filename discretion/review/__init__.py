"""The review tools room: what legal reviewers use before an edition is published.

- ``lint`` — findings on a rulebook tree at the file and line to fix; ``diff`` — what changes
  between two editions; ``golden`` — the hand-worked golden cases a lawyer reads;
- ``replay`` — impact replay of many cases under two editions; ``casefile`` — case files in
  JSONL, CSV and XLSX; ``synth`` — seeded synthetic cases (marked synthetic); ``chart`` — charts;
- ``analytics`` — the figures of the consistency analytics (同案同罚) from counts aggregated by the
  database, and the like-case distance; ``analytics_chart`` — its charts.

May import: :mod:`discretion.errors`, :mod:`discretion.rulebooks`, :mod:`discretion.engine` and
this room (never any web or database package).
"""
