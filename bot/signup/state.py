"""Where a subscriber is in the sign-up conversation: ``subscribers.signup_state``.

The :class:`~bot.domain.Subscriber` domain object does not carry the state (it is
a detail of the conversation, not of delivery), so it is read and written here,
beside :mod:`bot.store.subscribers`, on the same connection and transaction.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import sqlalchemy as sa

from bot.db.schema import subscribers, utcnow
from bot.domain import Subscriber
from bot.store import subscribers as store


class State(enum.StrEnum):
    LANGUAGE = "language"  # signing up: waits for a language
    WARDS = "wards"  # signing up: waits for an area
    DONE = "done"  # subscribed
    STOPPED = "stopped"  # /stop, or unfollowed on LINE


SIGNING_UP = frozenset({State.LANGUAGE, State.WARDS})


@dataclass(frozen=True)
class Record:
    sub: Subscriber
    state: State | None


def load(conn: sa.Connection, channel: str, user_id: str, *, lock: bool = False
         ) -> Record | None:
    """The subscriber and their conversation state; ``lock`` takes a row lock
    (PostgreSQL) so that two quick taps are applied one after the other."""
    query = sa.select(subscribers.c.signup_state).where(
        subscribers.c.channel == channel, subscribers.c.user_id == user_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        return None
    sub = store.get(conn, channel, user_id)
    if sub is None:  # pragma: no cover - deleted between the two reads, in this transaction
        return None
    try:
        state = State(row.signup_state) if row.signup_state else None
    except ValueError:
        state = None
    return Record(sub=sub, state=state)


def save(conn: sa.Connection, sub: Subscriber, state: State | None) -> None:
    store.upsert(conn, sub)
    set_state(conn, sub.channel, sub.user_id, state)


def set_state(conn: sa.Connection, channel: str, user_id: str, state: State | None) -> None:
    conn.execute(sa.update(subscribers).where(
        subscribers.c.channel == channel, subscribers.c.user_id == user_id).values(
        signup_state=state.value if state else None, updated_at=utcnow()))
