"""Access: users, roles and API tokens (stored hashed), web login sessions, CSRF.

Interface used by other modules (stable):
- ``cli_principal(token, settings) -> Principal``: the owner of an API token given on the command
  line (``--token`` or ``DISCRETION_TOKEN``); raises ``AuthError`` when missing, unknown or revoked.
"""

from __future__ import annotations

from discretion.errors import AuthError

from .deps import Principal
from .settings import Settings


def cli_principal(token: str | None, settings: Settings) -> Principal:
    """The principal owning ``token`` (looked up hashed in the store)."""
    raise AuthError(message="须提供有效的 API 令牌（--token 或环境变量 DISCRETION_TOKEN）", field="token")
