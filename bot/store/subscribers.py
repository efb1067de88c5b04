"""Subscribers and the wards they follow."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from bot.db.schema import subscriber_wards, subscribers, utcnow
from bot.domain import Subscriber, kinds_from_mask, kinds_mask


def upsert(conn: sa.Connection, sub: Subscriber) -> int:
    """Create or replace the subscriber (channel, user_id); returns its id."""
    now = utcnow()
    values = {
        "language": sub.language,
        "kinds_mask": kinds_mask(list(sub.kinds)),
        "min_severity": int(sub.min_severity),
        "test": sub.test,
        "active": sub.active,
        "updated_at": now,
    }
    existing = conn.execute(
        sa.select(subscribers.c.id).where(
            subscribers.c.channel == sub.channel, subscribers.c.user_id == sub.user_id
        )
    ).scalar()
    if existing is None:
        sub_id = int(conn.execute(
            sa.insert(subscribers).values(channel=sub.channel, user_id=sub.user_id,
                                          created_at=now, **values)
            .returning(subscribers.c.id)
        ).scalar_one())
    else:
        sub_id = int(existing)
        conn.execute(sa.update(subscribers).where(subscribers.c.id == sub_id).values(**values))
        conn.execute(sa.delete(subscriber_wards).where(subscriber_wards.c.subscriber_id == sub_id))
    if sub.wards:
        conn.execute(sa.insert(subscriber_wards),
                     [{"subscriber_id": sub_id, "ward": w} for w in sorted(set(sub.wards))])
    return sub_id


def import_batch(conn: sa.Connection, subs: Sequence[Subscriber]) -> tuple[int, int]:
    """Insert or update many subscribers with a few statements; returns (created, updated)."""
    if not subs:
        return 0, 0
    by_key = {(s.channel, s.user_id): s for s in subs}  # last row for a key wins
    now = utcnow()
    existing: dict[tuple[str, str], int] = {}
    keys = list(by_key)
    for channel in {c for c, _ in keys}:
        ids = [u for c, u in keys if c == channel]
        for i in range(0, len(ids), 5000):
            rows = conn.execute(sa.select(subscribers.c.id, subscribers.c.user_id).where(
                subscribers.c.channel == channel, subscribers.c.user_id.in_(ids[i:i + 5000])))
            existing.update({(channel, r.user_id): r.id for r in rows})

    def values(s: Subscriber) -> dict[str, Any]:
        return {"language": s.language, "kinds_mask": kinds_mask(list(s.kinds)),
                "min_severity": int(s.min_severity), "test": s.test, "active": s.active,
                "updated_at": now}

    new_keys = {k for k in by_key if k not in existing}
    new = [s for k, s in by_key.items() if k in new_keys]  # ids in the file's order
    if new:
        conn.execute(sa.insert(subscribers), [
            {"channel": s.channel, "user_id": s.user_id, "created_at": now, **values(s)}
            for s in new])
        for channel in {s.channel for s in new}:
            ids = [s.user_id for s in new if s.channel == channel]
            for i in range(0, len(ids), 5000):
                rows = conn.execute(sa.select(subscribers.c.id, subscribers.c.user_id).where(
                    subscribers.c.channel == channel, subscribers.c.user_id.in_(ids[i:i + 5000])))
                existing.update({(channel, r.user_id): r.id for r in rows})
    old = [s for k, s in by_key.items() if k not in new_keys]
    if old:
        conn.execute(
            sa.update(subscribers).where(subscribers.c.id == sa.bindparam("sid")).values(
                language=sa.bindparam("language"), kinds_mask=sa.bindparam("kinds_mask"),
                min_severity=sa.bindparam("min_severity"), test=sa.bindparam("test"),
                active=sa.bindparam("active"), updated_at=sa.bindparam("updated_at")),
            [{"sid": existing[(s.channel, s.user_id)], **values(s)} for s in old])
    all_ids = [existing[k] for k in by_key]
    for i in range(0, len(all_ids), 5000):
        conn.execute(sa.delete(subscriber_wards).where(
            subscriber_wards.c.subscriber_id.in_(all_ids[i:i + 5000])))
    ward_rows = [{"subscriber_id": existing[k], "ward": w}
                 for k, s in by_key.items() for w in sorted(set(s.wards))]
    for i in range(0, len(ward_rows), 20000):
        conn.execute(sa.insert(subscriber_wards), ward_rows[i:i + 20000])
    return len(new), len(old)


def _wards_of(conn: sa.Connection, ids: Iterable[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    id_list = list(ids)
    for i in range(0, len(id_list), 5000):
        rows = conn.execute(sa.select(subscriber_wards).where(
            subscriber_wards.c.subscriber_id.in_(id_list[i:i + 5000]))
            .order_by(subscriber_wards.c.ward))
        for r in rows:
            out.setdefault(r.subscriber_id, []).append(r.ward)
    return out


def _to_subscriber(row: Any, wards: list[str]) -> Subscriber:
    return Subscriber(id=row.id, channel=row.channel, user_id=row.user_id, language=row.language,
                      wards=tuple(wards), kinds=kinds_from_mask(row.kinds_mask),
                      min_severity=row.min_severity, test=row.test, active=row.active)


def get(conn: sa.Connection, channel: str, user_id: str) -> Subscriber | None:
    row = conn.execute(sa.select(subscribers).where(
        subscribers.c.channel == channel, subscribers.c.user_id == user_id)).first()
    if row is None:
        return None
    return _to_subscriber(row, _wards_of(conn, [row.id]).get(row.id, []))


def iter_all(conn: sa.Connection, *, active: bool | None = None,
             batch: int = 1000) -> Iterator[Subscriber]:
    last = 0
    while True:
        query = sa.select(subscribers).where(subscribers.c.id > last).order_by(
            subscribers.c.id).limit(batch)
        if active is not None:
            query = query.where(subscribers.c.active == active)
        rows = list(conn.execute(query))
        if not rows:
            return
        wards = _wards_of(conn, [r.id for r in rows])
        for r in rows:
            yield _to_subscriber(r, wards.get(r.id, []))
        last = rows[-1].id


def set_active(conn: sa.Connection, channel: str, user_ids: Iterable[str], active: bool) -> int:
    ids = list(user_ids)
    if not ids:
        return 0
    result = conn.execute(sa.update(subscribers).where(
        subscribers.c.channel == channel, subscribers.c.user_id.in_(ids)).values(
        active=active, updated_at=utcnow()))
    return int(result.rowcount or 0)


def erase(conn: sa.Connection, channel: str, user_id: str) -> bool:
    """Delete the subscriber; their delivery rows keep an anonymous record only."""
    row = conn.execute(sa.select(subscribers.c.id).where(
        subscribers.c.channel == channel, subscribers.c.user_id == user_id)).first()
    if row is None:
        return False
    from bot.store.deliveries import anonymise
    from bot.store.safety import erase_subscriber

    anonymise(conn, channel, user_id)
    erase_subscriber(conn, row.id)
    conn.execute(sa.delete(subscriber_wards).where(subscriber_wards.c.subscriber_id == row.id))
    conn.execute(sa.delete(subscribers).where(subscribers.c.id == row.id))
    return True


def stats(conn: sa.Connection) -> dict[str, Any]:
    by = {}
    for col in ("channel", "language"):
        c = subscribers.c[col]
        rows = conn.execute(
            sa.select(c, sa.func.sum(sa.case((subscribers.c.active, 1), else_=0)),
                      sa.func.sum(sa.case((subscribers.c.active, 0), else_=1))).group_by(c))
        by[col] = {r[0]: {"active": int(r[1] or 0), "inactive": int(r[2] or 0)} for r in rows}
    wards = {r[0]: int(r[1]) for r in conn.execute(
        sa.select(subscriber_wards.c.ward, sa.func.count()).select_from(
            subscriber_wards.join(subscribers)).where(subscribers.c.active).group_by(
            subscriber_wards.c.ward))}
    total = conn.execute(sa.select(sa.func.count()).select_from(subscribers)).scalar_one()
    active = conn.execute(sa.select(sa.func.count()).select_from(subscribers).where(
        subscribers.c.active)).scalar_one()
    return {"total": int(total), "active": int(active), "inactive": int(total) - int(active),
            "by_channel": by["channel"], "by_language": by["language"], "by_ward": wards}


def active_among(conn: sa.Connection, channel: str, user_ids: Iterable[str]) -> set[str]:
    """Which of ``user_ids`` are active subscribers of ``channel``."""
    ids = sorted(set(user_ids))
    out: set[str] = set()
    for i in range(0, len(ids), 5000):
        out.update(str(u) for (u,) in conn.execute(sa.select(subscribers.c.user_id).where(
            subscribers.c.channel == channel, subscribers.c.active,
            subscribers.c.user_id.in_(ids[i:i + 5000]))))
    return out
