"""Feed state (validators, back-off, last outcome) and the documents already seen."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from bot.db.schema import feed_documents, feed_state, utcnow


def state(engine: sa.Engine, name: str, url: str) -> dict[str, Any]:
    """The feed's state, created on first use; validators are forgotten when the
    feed's URL changed."""
    with engine.begin() as conn:
        row = conn.execute(sa.select(feed_state).where(feed_state.c.name == name)).first()
        if row is None:
            conn.execute(sa.insert(feed_state).values(name=name, url=url, documents_seen=0,
                                                      consecutive_failures=0))
            return {"etag": None, "last_modified": None, "next_poll_at": None,
                    "consecutive_failures": 0, "url": url}
        out = dict(row._mapping)
        if out["url"] != url:
            out |= {"etag": None, "last_modified": None}
        return out


def update(engine: sa.Engine, name: str, *, documents_added: int = 0, **values: Any) -> None:
    if documents_added:
        values["documents_seen"] = feed_state.c.documents_seen + documents_added
    with engine.begin() as conn:
        conn.execute(sa.update(feed_state).where(feed_state.c.name == name).values(**values))


def seen(engine: sa.Engine, feed: str, key: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(sa.select(feed_documents.c.doc_key).where(
            feed_documents.c.feed == feed, feed_documents.c.doc_key == key[:500])).first() \
            is not None


def remember(engine: sa.Engine, feed: str, key: str, outcome: str) -> None:
    with engine.begin() as conn:
        try:
            with conn.begin_nested():
                conn.execute(sa.insert(feed_documents).values(
                    feed=feed, doc_key=key[:500], seen_at=utcnow(), outcome=outcome[:200]))
        except sa.exc.IntegrityError:
            pass


def rejections(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    """Per feed: how many documents were refused and the newest refusal's reason."""
    refused = feed_documents.c.outcome.like("rejected: %")
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for feed, count in conn.execute(sa.select(feed_documents.c.feed, sa.func.count())
                                        .where(refused).group_by(feed_documents.c.feed)):
            out[feed] = {"rejected": int(count), "last_rejected": None}
        for feed in out:
            row = conn.execute(sa.select(feed_documents.c.doc_key, feed_documents.c.outcome)
                               .where(refused, feed_documents.c.feed == feed)
                               .order_by(feed_documents.c.seen_at.desc()).limit(1)).first()
            if row is not None:
                out[feed]["last_rejected"] = f"{row.doc_key}: {row.outcome}"
    return out


def status(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(feed_state).order_by(feed_state.c.name))]
