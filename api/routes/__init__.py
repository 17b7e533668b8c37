"""The JSON API v1: one router per resource (``health``, ``violations``, ``assessments``,
``daily`` penalties, ``analytics`` (同案同罚), ``admin``), with the models of ``api.schemas``.

A route imports the library (``discretion``) and ``api.deps``, ``api.schemas``, ``api.errors``,
``api.reload``, ``api.storage`` and the computations it shares with a page (``api.dailypenalty``,
``api.consistency``, ``api.consistency_files``); never ``api.main``, ``api.pages`` or another route.
"""
