"""The JSON API v1: one router per resource (``health``, ``violations``, ``assessments``,
``daily`` penalties, ``admin``), with the models of ``api.schemas``.

A route imports the library (``discretion``) and ``api.deps``, ``api.schemas``, ``api.errors``,
``api.reload`` and ``api.storage``; never ``api.main``, ``api.pages`` or another route.
"""
