"""Shared service state: the rulebooks, the engine and the store, built once per process."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from discretion.assessment import Engine
from discretion.rulebook import RulebookSet

from .settings import Settings
from .storage import Store


@dataclass
class State:
    settings: Settings
    rulebooks: RulebookSet
    engine: Engine
    store: Store


async def state(request: Request) -> State:  # async: a sync dependency would hop to a thread pool per request
    return request.app.state.discretion  # type: ignore[no-any-return]
