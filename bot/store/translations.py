"""The machine-translation cache: one row per (provider, languages, source text)."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa

from bot.db.schema import translation_cache

log = logging.getLogger(__name__)
t = translation_cache.c


def _key(provider: str, source: str, target: str, digest: str) -> sa.ColumnElement[bool]:
    return sa.and_(t.provider == provider, t.source_lang == source, t.target_lang == target,
                   t.source_hash == digest)


def get(engine: sa.Engine, provider: str, source: str, target: str, digest: str) -> str | None:
    """The cached translation, or None (also when the cache cannot be read)."""
    try:
        with engine.connect() as conn:
            value = conn.execute(sa.select(t.translated).where(
                _key(provider, source, target, digest))).scalar()
    except sa.exc.SQLAlchemyError as exc:
        log.warning("translation cache unreadable: %s", type(exc).__name__)
        return None
    return value if isinstance(value, str) else None


def put(engine: sa.Engine, provider: str, source: str, target: str, digest: str, text: str,
        result: str) -> None:
    """Cache a translation; a failure is logged, never raised."""
    try:
        with engine.begin() as conn:
            conn.execute(translation_cache.insert().values(
                provider=provider, source_lang=source, target_lang=target, source_hash=digest,
                source_text=text, translated=result, created_at=dt.datetime.now(dt.UTC)))
    except sa.exc.IntegrityError:
        pass  # another worker cached the same text first
    except sa.exc.SQLAlchemyError as exc:
        log.warning("translation cache not written: %s", type(exc).__name__)


def count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(translation_cache))
                   .scalar_one())
