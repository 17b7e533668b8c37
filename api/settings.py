"""Service settings: embedded defaults (the shipped rulebooks, SQLite), overridable by environment."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISCRETION_", extra="ignore")

    rulebooks: Path | None = None  # DISCRETION_RULEBOOKS; None: the shipped rulebooks
    database_url: str = "sqlite:///var/discretion.db"  # DISCRETION_DATABASE_URL (or DATABASE_URL)
    max_body_bytes: int = 64 * 1024
    matcher: str = "durable"
    # DISCRETION_STORAGE=off: POST /v1/assessments answers without keeping a record. For the
    # storage benchmark only (benchmarks/test_storage.py): a service without records breaks the
    # full-process record the seed plan requires.
    storage: bool = True
    auth: bool = False  # DISCRETION_AUTH=1: API tokens and web login required; needed off loopback
    secure_cookies: bool = False  # DISCRETION_SECURE_COOKIES=1 behind an HTTPS proxy


def load_settings() -> Settings:
    import os

    s = Settings()
    if "DISCRETION_DATABASE_URL" not in os.environ and os.environ.get("DATABASE_URL"):
        s = s.model_copy(update={"database_url": os.environ["DATABASE_URL"]})
    return s
