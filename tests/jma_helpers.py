"""Reading the JMA sample documents in tests."""

from __future__ import annotations

import gzip
from datetime import timedelta, timezone
from pathlib import Path

from bot.domain import Alert
from bot.ingest.jma import parse_jma
from bot.ingest.jurisdiction import Jurisdiction

JMA = Path(__file__).resolve().parent / "fixtures" / "jma"
JST = timezone(timedelta(hours=9))
ALL_WARDS = ("43101", "43102", "43103", "43104", "43105")


def load(name: str) -> bytes:
    plain = JMA / name
    if plain.exists():
        return plain.read_bytes()
    return gzip.decompress((JMA / f"{name}.gz").read_bytes())


def one(name: str, jur: Jurisdiction) -> Alert:
    alerts = parse_jma(load(name), jur)
    assert len(alerts) == 1
    return alerts[0]
