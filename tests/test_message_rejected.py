"""A message the platform refuses (too long, bad entities) fails its rows as
``rejected``: the recipients stay subscribed, the channel goes on, the operator
sees an ERROR. Through the dispatcher, the real python-telegram-bot client and
the fake Bot API, which answers 400 "Bad Request: message is too long" as
Telegram does."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import uuid

import pytest
import sqlalchemy as sa

from bot.db.schema import deliveries, subscribers
from bot.dispatcher import Dispatcher
from bot.domain import Alert, Kind, Severity, Subscriber, Urgency
from bot.store import subscribers as sub_store
from channels import registry
from tests.harness import Harness, harness

CHATS = ("1001", "1002", "1003")


def _alert(body_ja: str) -> Alert:
    return Alert(source="cli", source_id=str(uuid.uuid4()), kind=Kind.CITY_NOTICE,
                 severity=Severity.SEVERE, urgency=Urgency.IMMEDIATE, wards=("43101",),
                 body_ja=body_ja, issued=dt.datetime.now(dt.UTC))


def _rows(h: Harness, alert_id: int) -> dict[str, tuple[str, str | None]]:
    with h.engine.connect() as conn:
        return {r.recipients[0]: (r.status, r.last_error) for r in conn.execute(
            sa.select(deliveries.c.recipients, deliveries.c.status, deliveries.c.last_error)
            .where(deliveries.c.alert_id == alert_id, deliveries.c.channel == "telegram"))}


def _run_telegram(h: Harness) -> bool:
    channel = registry.build("telegram", h.settings, h.config.channels["telegram"].options)
    dispatcher = Dispatcher(h.engine, {"telegram": channel}, delivery=h.config.delivery,
                            lease_ttl=2.0, poll_interval=0.05)

    async def run() -> bool:
        try:
            return await dispatcher.run(until_idle=True)
        finally:
            await channel.close()

    return asyncio.run(run())


def test_an_oversize_rendering_fails_as_rejected_and_keeps_everyone_subscribed(
        db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with harness(db_url) as h:
        with h.engine.begin() as conn:
            sub_store.import_batch(conn, [Subscriber(channel="telegram", user_id=c,
                                                     language="ja", wards=("43101",))
                                          for c in CHATS])
        for other in ("line", "x"):  # Telegram's refusal only (X would refuse at issue)
            h.service.plans.pop(other, None)
        # A renderer handed the wrong limit: one part of about 6000 characters.
        plan = h.service.plans["telegram"]
        h.service.plans["telegram"] = dataclasses.replace(
            plan, limits=dataclasses.replace(plan.limits, text_limit=100_000))
        oversize = h.submit(_alert("熊本市中央区で断水しています。" * 400),
                                    operator="t", action="auto")
        h.service.plans["telegram"] = plan
        fine = h.submit(_alert("給水所は中央区役所です。"), operator="t", action="auto")

        with caplog.at_level(logging.ERROR, logger="bot.dispatcher"):
            assert _run_telegram(h)  # the channel did not stop

        rows = _rows(h, oversize)
        assert set(rows) == set(CHATS)
        for status, error in rows.values():
            assert status == "failed"
            assert error is not None and error.startswith("rejected: ")
            assert "message is too long" in error.lower()
        with h.engine.connect() as conn:
            active = dict(conn.execute(sa.select(subscribers.c.user_id, subscribers.c.active)
                                       .where(subscribers.c.channel == "telegram")).all())
        assert active == dict.fromkeys(CHATS, True)
        # the channel went on: the next alert reached the same three chats
        assert {chat: status for chat, (status, _) in _rows(h, fine).items()} == \
            dict.fromkeys(CHATS, "sent")
        assert sorted(m.chat_id for m in h.telegram.sent) == sorted(CHATS)
        # the operator sees it once at ERROR (once per alert, language and reason)
        errors = [r for r in caplog.records
                  if r.levelno == logging.ERROR and "rejected" in r.getMessage()]
        assert len(errors) == 1 and f"alert {oversize}" in errors[0].getMessage()


def test_a_chat_that_is_gone_is_still_a_recipient_error(db_url: str) -> None:
    with harness(db_url) as h:
        with h.engine.begin() as conn:
            sub_store.import_batch(conn, [Subscriber(channel="telegram", user_id=c,
                                                     language="ja", wards=("43101",))
                                          for c in CHATS])
        h.telegram.fail_next(1, 400, description="Bad Request: chat not found")
        alert_id = h.submit(_alert("給水所は中央区役所です。"), operator="t",
                                    action="auto")
        assert _run_telegram(h)
        rows = _rows(h, alert_id)
        failed = [chat for chat, (status, _) in rows.items() if status == "failed"]
        assert len(failed) == 1 and "chat not found" in (rows[failed[0]][1] or "").lower()
        with h.engine.connect() as conn:
            inactive = [u for (u,) in conn.execute(sa.select(subscribers.c.user_id).where(
                subscribers.c.active.is_(False)))]
        assert inactive == failed
