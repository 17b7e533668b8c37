"""The imperative shell: command line, web service, storage.

- ``main.py`` builds the FastAPI application (``create_app``) from ``settings.py``;
  ``server.py`` runs it under uvicorn (``discretion serve``).
- ``routes/``: the JSON API v1, one router per resource; ``schemas.py`` its request and answer models.
- ``pages/``: the HTML pages (the handler's form and results, login, the reviewers' pages),
  rendered from ``templates/`` with ``static/``.
- ``cli.py`` and ``commands/``: the command line, one module per command group.
- ``storage/``: the records on their hash chain, rulebook snapshots, and the schema migrations.
- ``casedata.py``: the case's identity (案号, party, address, place), checked the same way for the
  API, the form and the command line; ``documents/``: the case file's .docx documents (告知书,
  决定书, 说理) in the GB/T 9704 layout, from a stored record.
- ``deps.py`` (the shared state, callers and roles), ``auth.py`` (tokens, logins, CSRF),
  ``throttle.py`` (failed-login counts in the database), ``keyfile.py`` (the session secret's
  owner-only key file), ``errors.py`` (errors as JSON), ``limits.py`` (input limits),
  ``security.py`` (security headers, HTTPS detection), ``reload.py`` (rulebook reload).

Imports run one way: ``cli`` → ``commands`` → ``server`` → ``main`` → ``routes``, ``pages`` →
``auth``, ``deps``, ``reload`` … → ``storage`` → the library (``discretion``); never back.
"""
