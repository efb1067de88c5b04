"""Shared fixtures. The database is SQLite by default; set BOUSAI_TEST_DATABASE_URL
to a PostgreSQL URL to run the same suite there (each test gets its own schema)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from bot.db import make_engine, upgrade

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_URL = os.environ.get("BOUSAI_TEST_DATABASE_URL", "")


def _is_pg() -> bool:
    return PG_URL.startswith("postgresql")


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for this test."""
    if not _is_pg():
        yield f"sqlite:///{tmp_path / 'bousai.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> dict[str, str]:
    """A clean environment for the service: this test's database, no secrets."""
    for var in list(os.environ):
        if var.startswith(("TELEGRAM_", "LINE_", "X_API", "X_ACCESS", "BOUSAI_")):
            monkeypatch.delenv(var, raising=False)
    values = {"BOUSAI_DATABASE_URL": db_url, "BOUSAI_OPERATOR": "tester",
              "XDG_DATA_HOME": str(tmp_path / "data")}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values
