"""Delivery: everyone once, through failures, cancellations mid-fan-out."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
import uuid
from collections import Counter

import sqlalchemy as sa

from bot.db.schema import deliveries
from bot.domain import Alert, Kind, MsgType, Severity, Urgency
from tests.harness import Harness, harness


def _alert(h: Harness, **kw) -> Alert:  # type: ignore[no-untyped-def]
    values = dict(source="cli", source_id=str(uuid.uuid4()), kind=Kind.CITY_NOTICE,
                  severity=Severity.SEVERE, urgency=Urgency.IMMEDIATE,
                  wards=h.config.ward_codes, body_ja="避難所を開設しました。",
                  texts={"en": "Shelters are open."}, issued=dt.datetime.now(dt.UTC))
    values.update(kw)
    return Alert(**values)


def _line_recipients(h: Harness) -> Counter[str]:
    got: Counter[str] = Counter()
    for r in h.line.accepted:
        got.update(r.to)
    return got


def _status_counts(h: Harness, alert_id: int, channel: str | None = None) -> Counter[str]:
    query = (sa.select(deliveries.c.status, sa.func.sum(deliveries.c.recipient_count))
             .where(deliveries.c.alert_id == alert_id).group_by(deliveries.c.status))
    if channel:
        query = query.where(deliveries.c.channel == channel)
    with h.engine.connect() as conn:
        return Counter({r[0]: int(r[1]) for r in conn.execute(query)})


def test_2000_subscribers_reached_exactly_once_on_three_platforms(db_url: str) -> None:
    with harness(db_url) as h:
        seeded = h.seed(2000)
        alert_id = h.submit(_alert(h), operator="test", action="auto")
        assert h.run_until_idle()

        tg = Counter(m.chat_id for m in h.telegram.sent)
        assert set(tg) == {s.user_id for s in seeded["telegram"]}
        assert max(tg.values()) == 1
        line = _line_recipients(h)
        assert set(line) == {s.user_id for s in seeded["line"]}
        assert max(line.values()) == 1
        # LINE: batches of at most 500 users, all of one language.
        lang_of = {s.user_id: s.language for s in seeded["line"]}
        for req in h.line.accepted:
            assert len(req.to) <= 500
            assert len({lang_of[u] for u in req.to}) == 1
        # X: one post per configured language, not per subscriber.
        assert len(h.x.posts) == 2
        assert _status_counts(h, alert_id) == Counter({"sent": 2000 + 2})


def test_20_percent_failures_still_reach_everyone_once(db_url: str) -> None:
    with harness(db_url, telegram={"failure_rate": 0.2, "timeout_delay": 1.5, "seed": 7},
                 line={"failure_rate": 0.2, "seed": 8}) as h:
        seeded = h.seed(600)
        # Telegram's client gives up after 1 s; the fake hangs 1.5 s on "timeouts".
        for ch in ("telegram",):
            h.config.channels[ch].options["timeout_seconds"] = 1.0
        alert_id = h.submit(_alert(h), operator="test", action="auto")
        h.x.fail_next(1, 503)
        assert h.run_until_idle()

        assert h.telegram.injected_failures > 20 and h.telegram.timeouts > 0
        tg = Counter(m.chat_id for m in h.telegram.sent)
        assert set(tg) == {s.user_id for s in seeded["telegram"]}
        assert max(tg.values()) == 1, "a recipient got the message twice"
        line = _line_recipients(h)
        assert set(line) == {s.user_id for s in seeded["line"]}
        assert max(line.values()) == 1
        assert len(h.x.posts) == 2
        counts = _status_counts(h, alert_id)
        assert counts == Counter({"sent": 600 + 2}), counts


def test_cancellation_mid_fan_out_stops_the_rest_and_follows_up(db_url: str) -> None:
    with harness(db_url, telegram_rate=40) as h:
        seeded = h.seed(300, channels=("telegram",))
        original = h.submit(_alert(h), operator="test", action="auto")
        dispatcher = h.dispatcher()
        cancel_id: list[int] = []

        def cancel_when_some_sent() -> None:
            while len(h.telegram.sent) < 40:
                time.sleep(0.01)
            from bot.store.alerts import get_alert

            with h.engine.connect() as conn:
                orig = get_alert(conn, original)
            follow = _alert(h, msg_type=MsgType.CANCEL, references=orig.source_id,
                            body_ja="誤報でした。", texts={"en": "That was a false alarm."})
            cancel_id.append(h.submit(follow, operator="test", action="auto"))
            dispatcher.wake()

        thread = threading.Thread(target=cancel_when_some_sent)
        thread.start()

        async def go() -> None:
            try:
                await dispatcher.run(until_idle=True)
            finally:
                for st in dispatcher.states.values():
                    await st.channel.close()

        asyncio.run(go())
        thread.join()

        counts = _status_counts(h, original, "telegram")
        reached = counts["sent"]
        assert 40 <= reached < 300, counts
        assert counts["cancelled"] == 300 - reached
        first_msgs = {m.chat_id: m.message_id for m in h.telegram.sent
                      if m.reply_to_message_id is None and "誤報" not in m.text
                      and "false alarm" not in m.text}
        follow_ups = [m for m in h.telegram.sent if m.reply_to_message_id is not None]
        # Everyone reached gets the cancellation as a reply to their message; nobody else.
        assert {m.chat_id for m in follow_ups} == set(first_msgs)
        for m in follow_ups:
            assert m.reply_to_message_id == first_msgs[m.chat_id]
        assert len(follow_ups) == reached
        assert all(s.user_id for s in seeded["telegram"])
        assert _status_counts(h, cancel_id[0], "telegram") == Counter({"sent": reached})
        # X: the cancellation replies under each post that went out.
        posts = {p.id: p for p in h.x.posts}
        replies = [p for p in h.x.posts if p.in_reply_to in posts]
        assert len(replies) == len(h.x.posts) - len(replies)


def test_higher_priority_overtakes_a_backlog(db_url: str) -> None:
    with harness(db_url, telegram_rate=50) as h:
        h.seed(150, channels=("telegram",))
        notice = h.submit(_alert(h, severity=Severity.MINOR, urgency=Urgency.FUTURE,
                                         body_ja="お知らせ"), operator="t", action="auto")
        tsunami = h.submit(_alert(h, kind=Kind.TSUNAMI, severity=Severity.EXTREME,
                                          body_ja="津波警報"), operator="t", action="auto")
        assert h.run_until_idle()
        with h.engine.connect() as conn:
            rows = list(conn.execute(sa.select(deliveries.c.alert_id, deliveries.c.sent_at)
                                     .where(deliveries.c.channel == "telegram")))
        last_tsunami = max(r.sent_at for r in rows if r.alert_id == tsunami)
        first_notice = min(r.sent_at for r in rows if r.alert_id == notice)
        # Every tsunami message went out before the first of the earlier city notice.
        assert last_tsunami <= first_notice
        assert len(h.telegram.sent) == 300


def test_rejected_token_stops_only_that_channel(db_url: str) -> None:
    with harness(db_url) as h:
        seeded = h.seed(200)
        h.telegram.token = "999:another-token"  # the platform no longer accepts ours
        alert_id = h.submit(_alert(h), operator="t", action="auto")
        assert h.run_until_idle() is False  # a channel stopped: the run says so
        # LINE and X went out in full; Telegram waits for an operator, nothing lost.
        assert set(_line_recipients(h)) == {s.user_id for s in seeded["line"]}
        assert len(h.x.posts) == 2
        assert _status_counts(h, alert_id, "telegram") == Counter({"pending": 100})
        with h.engine.connect() as conn:
            errors = {r[0] for r in conn.execute(sa.select(deliveries.c.last_error).where(
                deliveries.c.channel == "telegram", deliveries.c.last_error.is_not(None)))}
        assert errors and all("token was rejected" in e for e in errors)
        assert h.telegram.sent == []
        # The operator fixes the token; the next run sends the rest.
        h.telegram.token = "555:harness-token"
        assert h.run_until_idle()
        assert {m.chat_id for m in h.telegram.sent} == {s.user_id for s in seeded["telegram"]}


def test_expired_alert_stops_sending(db_url: str) -> None:
    with harness(db_url) as h:
        h.seed(40, channels=("telegram",))
        now = dt.datetime.now(dt.UTC)
        alert_id = h.submit(
            _alert(h, issued=now - dt.timedelta(hours=2), expires=now + dt.timedelta(seconds=1)),
            operator="t", action="auto")
        time.sleep(1.5)
        assert h.run_until_idle()
        assert h.telegram.sent == []
        assert _status_counts(h, alert_id, "telegram") == Counter({"expired": 40})


def test_scheduled_alert_waits_for_send_at(db_url: str) -> None:
    with harness(db_url) as h:
        h.seed(10, channels=("telegram",))
        send_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
        alert_id = h.submit(_alert(h, send_at=send_at), operator="t", action="auto")
        assert h.run_until_idle()
        assert len(h.telegram.sent) == 10
        with h.engine.connect() as conn:
            first = conn.execute(sa.select(sa.func.min(deliveries.c.sent_at)).where(
                deliveries.c.alert_id == alert_id)).scalar_one()
        assert first >= send_at


def test_a_long_flood_wait_sends_the_waiting_rows_back_to_the_ledger(db_url: str) -> None:
    """Telegram answers 429 "retry after 3600" while most of a batch still waits for its
    turn: those rows go back to the ledger until then (attempt undone), none is held in
    flight for an hour, and `--until-idle` does not wait for it."""
    with harness(db_url, telegram_rate=20) as h:
        h.seed(200, channels=("telegram",))
        h.telegram.fail_next(1, 429, retry_after=3600)
        alert_id = h.submit(_alert(h), operator="t", action="auto")
        started = time.monotonic()
        assert h.run_until_idle()
        assert time.monotonic() - started < 30
        with h.engine.connect() as conn:
            rows = conn.execute(sa.select(deliveries).where(
                deliveries.c.alert_id == alert_id, deliveries.c.channel == "telegram")).all()
        counts = Counter(r.status for r in rows)
        assert counts["in_flight"] == 0 and counts["sent"] == len(h.telegram.sent)
        waiting = [r for r in rows if r.status == "pending"]
        assert len(waiting) >= 150  # at 20/s, most were still waiting for their turn
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3000)
        held = [r for r in waiting if "asked to wait" in (r.last_error or "")]
        untouched = [r for r in waiting if r.last_error is None]  # never claimed
        [limited] = [r for r in waiting if r not in held and r not in untouched]
        assert "Flood control exceeded" in (limited.last_error or "")
        assert held, "the batch's waiting rows went back to the ledger"
        for r in [*held, limited]:
            assert r.next_attempt_at.replace(tzinfo=dt.UTC) > soon
        assert all(r.attempts == 0 for r in [*held, *untouched])
