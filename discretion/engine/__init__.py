"""The engine room: one case in, one assessment out.

- ``case`` — the contract's assessment input; ``inputs`` — the case checked against its ruleset;
- ``assessment`` — :class:`~discretion.engine.assessment.Engine` and the orchestration;
  ``stages`` — the pipeline's stages in order (design.md); ``prepared`` — what every case of a
  violation type, edition and regime shares, prepared once; ``results`` — the result document;
- ``matching`` — the matcher interface; ``_durable`` — the durable_rules adapter (nothing else
  imports durable_rules); ``reference`` — the plain-Python reference evaluator;
- ``trail`` — the explanation trail as data; ``reasoning`` — its Chinese text for the case file;
- ``money``, ``amounts``, ``dates``, ``citation`` — ranges and rounding in integer yuan and
  ``Decimal``, dates, legal citations as written in Chinese law;
- ``daily`` — 按日连续处罚; ``catalog`` — the violation types on a date, searched by keyword or article;
- ``identity`` — the check characters of a party's 统一社会信用代码 and 公民身份号码, and masking (case
  data kept with a record, never assessed); ``capitals`` — amounts in Chinese capitals (大写金额);
- ``encoding`` — the result's JSON bytes, orjson's or the same from plain Python where orjson is
  missing; ``offline`` — the offline terminal's engine (Pyodide), over a set compiled to JSON.

May import: :mod:`discretion.errors`, :mod:`discretion.rulebooks` and this room (never the review
tools, or any web or database package).
"""
