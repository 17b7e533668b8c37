"""The HTML pages, server-rendered from ``api/templates`` (Jinja2), no JavaScript framework.

``form`` (the handler's search and case form), ``results`` (a stored result, its decision, print
and Word versions, the handler's recent cases), ``login``, and the reviewers' ``review`` (editions
and their diff), ``replay`` (impact replay), ``consistency`` (同案同罚: the supervisors' and the
handler's consistency pages, like cases) and ``daily`` (按日连续处罚); ``rendering`` holds the templates, their filters
and the labels the pages share.

A page imports the library (``discretion``), ``api.deps``, ``api.auth``, ``api.limits``, ``api.security``,
``api.storage``, the computations it shares with a route (``api.dailypenalty``, ``api.consistency``,
``api.consistency_files``) and ``rendering``; never ``api.main``, ``api.routes`` or another page.
"""
