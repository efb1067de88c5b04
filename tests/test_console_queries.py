"""The console's read side (bot/console/queries.py) against a real database: alerts
submitted through the lifecycle, sent by the real dispatcher to the fake
platforms, and every number checked against what was seeded and what arrived."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa

from bot.db.schema import deliveries, subscribers
from bot.domain import Alert, Kind, MsgType, Severity, Subscriber, Urgency
from bot.domain import payloads as pl
from bot.errors import AlertNotFound
from bot.leases import try_acquire
from bot.shelters import shelters_for
from bot.store import console as q
from bot.store import feeds as feed_store
from bot.store import subscribers as sub_store
from tests.harness import Harness, harness

WARDS = ("43101", "43102")  # 中央区, 東区


def _alert(h: Harness, **kw: Any) -> Alert:
    values: dict[str, Any] = dict(
        source="cli", source_id=str(uuid.uuid4()), kind=Kind.CITY_NOTICE,
        severity=Severity.SEVERE, urgency=Urgency.IMMEDIATE, wards=WARDS,
        headline_ja="お知らせ", body_ja="避難所を開設しました。",
        texts={"en": "Shelters are open."}, issued=dt.datetime.now(dt.UTC))
    values.update(kw)
    return Alert(**values)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _ward_of(seeded: dict[str, list[Subscriber]]) -> dict[tuple[str, str], str]:
    return {(ch, s.user_id): s.wards[0] for ch, subs in seeded.items() for s in subs}


def test_now_page_alert_page_and_ward_progress_follow_a_real_send(db_url: str) -> None:
    with harness(db_url, x_options={"price_per_post": 0.01, "daily_budget": 1.0}) as h:
        seeded = h.seed(200)
        ward_of = _ward_of(seeded)
        in_wards = {ch: [s for s in subs if s.wards[0] in WARDS] for ch, subs in seeded.items()}
        blocked = in_wards["telegram"][0].user_id
        h.telegram.block(blocked)
        h.telegram.fail_next(1, 429, retry_after=3600)  # one row waits an hour
        evacuation = _alert(h, kind=Kind.EVACUATION,
                            payload=pl.Evacuation(level=pl.EvacuationLevel(4)))
        waiting_id = h.submit(evacuation, operator="alice", action="auto",
                              require_approval=True)
        held_id = h.submit(_alert(h), operator="feed", action="hold")
        alert_id = h.submit(_alert(h), operator="alice", action="auto")
        expected = (len(in_wards["telegram"]) + len(in_wards["line"]) + 2)  # + 2 X posts

        with h.engine.connect() as conn:
            before = q.now_page(conn, now=_now())
            wp_before = q.ward_progress(conn, alert_id, config=h.config)
        assert [a.id for a in before.waiting] == [held_id, waiting_id]
        assert before.waiting[1].level == 4 and before.waiting[1].kind == "evacuation"
        assert before.waiting[1].status == "pending_approval"
        assert before.waiting[0].status == "held" and before.waiting[0].level is None
        assert before.waiting[1].progress is None
        [queued] = before.active
        assert queued.id == alert_id and queued.created_by == "alice"
        assert queued.wards == WARDS and queued.severity == "severe"
        assert queued.progress is not None
        assert (queued.progress.pending, queued.progress.sent) == (expected, 0)
        assert queued.progress.percent_done == 0.0
        assert queued.progress.eta_seconds is None  # nothing sent yet: no rate
        assert wp_before == {w: 0.0 for w in WARDS}

        assert h.run_until_idle()
        now = _now()
        with h.engine.connect() as conn:
            page = q.now_page(conn, now=now)
            detail = q.alert_page(conn, alert_id, now=now)
            failed = q.alert_page(conn, alert_id, status="failed")
            limited = q.alert_page(conn, alert_id, error="Flood control")
            paged = q.alert_page(conn, alert_id, channel="telegram", limit=5, offset=3)
            wp = q.ward_progress(conn, alert_id, config=h.config)
            multicasts = conn.execute(sa.select(sa.func.count()).select_from(deliveries).where(
                deliveries.c.channel == "line", deliveries.c.recipient_count > 1)).scalar_one()

    # What arrived at the fake platforms.
    tg_sent = Counter(m.chat_id for m in h.telegram.sent)
    line_sent = Counter(u for r in h.line.accepted for u in r.to)
    assert len(h.x.posts) == 2 and multicasts > 0
    assert set(tg_sent) == {s.user_id for s in in_wards["telegram"]} - {blocked} - {
        r.recipient for r in limited.deliveries}
    assert set(line_sent) == {s.user_id for s in in_wards["line"]}

    [active] = [a for a in page.active if a.id == alert_id]
    p = active.progress
    assert p is not None
    assert p.sent == len(tg_sent) + len(line_sent) + len(h.x.posts)
    assert (p.pending, p.failed, p.cancelled) == (1, 1, 0)
    assert p.sent + p.pending + p.failed == expected
    assert p.percent_done == pytest.approx(100.0 * (expected - 1) / expected)
    assert p.rate == pytest.approx(p.sent / q.RATE_WINDOW)  # all sent within the minute
    by_channel: Counter[str] = Counter()
    for row in p.rows:
        by_channel[row.channel] += row.sent
        if row.pending:
            assert row.eta_seconds == (row.pending / row.rate if row.rate else None)
    assert by_channel == {"telegram": len(tg_sent), "line": len(line_sent), "x": 2}

    # The alert's page: its renderings, ledger rows, filters and audit trail.
    assert detail.alert.progress == p
    assert {(r.language, r.channel) for r in detail.renderings} >= {
        ("ja", "telegram"), ("en", "x"), ("ja", "line")}
    assert all(r.parts for r in detail.renderings)
    assert detail.matching == len(detail.deliveries)
    assert sum(r.recipient_count for r in detail.deliveries) == expected
    assert detail.filters.statuses == ("failed", "pending", "sent")
    assert detail.filters.channels == ("line", "telegram", "x")
    assert {r.recipient for r in detail.deliveries if r.channel == "x"} == {"timeline"}
    assert [e.action for e in detail.audit][:1] == ["issue"]
    assert detail.audit[0].operator == "alice"
    [fail_row] = failed.deliveries
    assert (fail_row.recipient, fail_row.status, failed.matching) == (blocked, "failed", 1)
    [wait_row] = limited.deliveries
    assert wait_row.status == "pending" and "Retry in" in (wait_row.last_error or "")
    tg_rows = sum(1 for r in detail.deliveries if r.channel == "telegram")
    assert paged.matching == tg_rows and len(paged.deliveries) == 5
    assert [r.id for r in paged.deliveries] == [
        r.id for r in detail.deliveries if r.channel == "telegram"][3:8]

    # Per ward: sent among all; the blocked chat and the waiting row each lower one ward.
    late = {("telegram", blocked): "failed", ("telegram", wait_row.recipient): "pending"}
    for ward in WARDS:
        live = sum(1 for s in in_wards["telegram"] + in_wards["line"] if s.wards[0] == ward) + 2
        short = sum(1 for key in late if ward_of[(key[0], str(key[1]))] == ward)
        assert wp[ward] == pytest.approx((live - short) / live)
    assert set(wp) == set(WARDS)


def test_follow_ups_and_cancelled_rows_on_the_alert_page(db_url: str) -> None:
    with harness(db_url) as h:
        h.seed(30, channels=("telegram",))
        h.telegram.fail_next(1, 429, retry_after=3600)
        alert_id = h.submit(_alert(h, wards=()), operator="alice", action="auto")
        assert h.run_until_idle()
        prepared = h.service.lifecycle.follow_up(alert_id, MsgType.UPDATE,
                                                 text_ja="場所を訂正します。",
                                                 texts={"en": "Corrected place."})
        update_id = h.service.lifecycle.submit(prepared, operator="bob").id
        assert h.run_until_idle()
        with h.engine.connect() as conn:
            page = q.alert_page(conn, alert_id)
            with pytest.raises(AlertNotFound):
                q.alert_page(conn, 999_999)
    p = page.alert.progress
    assert p is not None
    # the row that waited for its retry was stopped by the correction
    assert (p.sent, p.pending, p.cancelled) == (29 + 2, 0, 1)
    assert p.percent_done == 100.0
    [follow] = page.follow_ups
    assert (follow.id, follow.msg_type, follow.created_by) == (update_id, "update", "bob")
    assert follow.progress is not None
    # the correction goes where the original went: 29 chats and the 2 X posts
    assert (follow.progress.sent, follow.progress.pending) == (29 + 2, 0)
    assert len(h.telegram.sent) == 29 * 2


def test_ward_progress_of_a_city_wide_alert_counts_whole_city_subscribers_everywhere(
        db_url: str) -> None:
    with harness(db_url) as h:
        seeded = h.seed(20, channels=("telegram",))
        with h.engine.begin() as conn:
            for uid in ("900001", "900002"):  # no ward: the whole city
                sub_store.upsert(conn, Subscriber(channel="telegram", user_id=uid,
                                                  language="ja"))
        h.telegram.block("900002")
        alert_id = h.submit(_alert(h, wards=()), operator="alice", action="auto")
        assert h.run_until_idle()
        with h.engine.connect() as conn:
            wp = q.ward_progress(conn, alert_id, config=h.config)
            shares = q.ward_shares(conn, h.config)
    per_ward = Counter(s.wards[0] for s in seeded["telegram"])
    assert set(wp) == set(h.config.ward_codes)
    for ward in h.config.ward_codes:
        live = per_ward[ward] + 2 + 2  # its chats, the whole city's two, the X posts
        assert wp[ward] == pytest.approx((live - 1) / live)
    # the blocked subscriber is inactive now: 21 active, one of them city-wide
    assert shares == {w: pytest.approx((per_ward[w] + 1) / 21) for w in h.config.ward_codes}


def test_subscribers_page_counts_and_days(db_url: str) -> None:
    with harness(db_url) as h:
        seeded = h.seed(40)
        with h.engine.begin() as conn:
            sub_store.upsert(conn, Subscriber(channel="line", user_id="U-city", language="en",
                                              kinds=(Kind.EARTHQUAKE, Kind.TSUNAMI)))
            sub_store.upsert(conn, Subscriber(channel="telegram", user_id="777", language="ja",
                                              wards=WARDS, kinds=(Kind.EARTHQUAKE,),
                                              test=True))
            stopped = [s.user_id for s in seeded["telegram"][:3]]
            sub_store.set_active(conn, "telegram", stopped, False)
        now = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)
        day = dt.timedelta(days=1)
        s = subscribers
        with h.engine.begin() as conn:
            # history: everyone signed up 5 days ago, 10 of them 2 days ago; the three
            # who stopped did so yesterday; the city-wide one signed up today
            conn.execute(sa.update(s).values(created_at=now - 5 * day,
                                             updated_at=now - 5 * day))
            ten = [x.user_id for x in seeded["line"][:10]]
            conn.execute(sa.update(s).where(s.c.user_id.in_(ten)).values(
                created_at=now - 2 * day, updated_at=now - 2 * day))
            conn.execute(sa.update(s).where(s.c.user_id.in_(stopped)).values(
                updated_at=now - day))
            conn.execute(sa.update(s).where(s.c.user_id == "U-city").values(
                created_at=now - dt.timedelta(hours=1)))
        with h.engine.connect() as conn:
            page = q.subscribers_page(conn, now=now, days=7)
            shares = q.ward_shares(conn, h.config)

    active_tg = [x for x in seeded["telegram"] if x.user_id not in stopped]
    assert page.active == 40 - 3 + 2 and page.inactive == 3 and page.test_active == 1
    assert page.by_channel == {"telegram": len(active_tg) + 1, "line": 20 + 1}
    langs = Counter(x.language for x in active_tg + seeded["line"])
    langs.update(["en", "ja"])
    assert page.by_language == dict(langs)
    wards = Counter(x.wards[0] for x in active_tg + seeded["line"])
    wards.update(WARDS)
    assert page.by_ward == dict(wards)
    assert page.whole_city == 1
    assert page.by_kind["earthquake"] == 39 and page.by_kind["tsunami"] == 38
    assert page.by_kind["eew"] == 37
    assert [d.day for d in page.days] == [dt.date(2026, 6, 4) + i * day for i in range(7)]
    assert [d.new for d in page.days] == [0, 1 + 30, 0, 0, 10, 0, 1]
    # at each day's end: created by then, and active now or changed after it
    assert [d.active for d in page.days] == [0, 31, 31, 31, 41, 38, 39]
    assert shares == {w: pytest.approx((wards[w] + 1) / 39) for w in h.config.ward_codes}


def test_subscribers_per_day_follow_the_citys_calendar(db_url: str) -> None:
    """Days are 熊本's: 16:30 UTC on the 9th is 01:30 on the 10th in JST."""
    from zoneinfo import ZoneInfo

    utc = dt.UTC
    with harness(db_url) as h:
        seeded = h.seed(3, channels=("telegram",))["telegram"]
        ids = [x.user_id for x in seeded]
        s = subscribers
        with h.engine.begin() as conn:
            for uid, created, updated, active in (
                    (ids[0], dt.datetime(2026, 6, 9, 14, 30, tzinfo=utc), None, True),
                    (ids[1], dt.datetime(2026, 6, 9, 16, 30, tzinfo=utc), None, True),
                    (ids[2], dt.datetime(2026, 6, 1, 9, 0, tzinfo=utc),
                     dt.datetime(2026, 6, 9, 15, 10, tzinfo=utc), False)):
                conn.execute(sa.update(s).where(s.c.user_id == uid).values(
                    created_at=created, updated_at=updated or created, active=active))
        now = dt.datetime(2026, 6, 10, 3, 0, tzinfo=utc).astimezone(ZoneInfo("Asia/Tokyo"))
        with h.engine.connect() as conn:
            page = q.subscribers_page(conn, now=now, days=3)
    assert [d.day for d in page.days] == [dt.date(2026, 6, 8), dt.date(2026, 6, 9),
                                          dt.date(2026, 6, 10)]
    assert [d.new for d in page.days] == [0, 1, 1]
    # the stopped one counts until 00:10 JST on the 10th
    assert [d.active for d in page.days] == [1, 2, 2]


def test_feeds_and_channels(db_url: str) -> None:
    with harness(db_url, x_options={"price_per_post": 0.01, "daily_budget": 1.0,
                                    "posts_per_day": 50}) as h:
        h.seed(10, channels=("telegram",))
        h.telegram.fail_next(1, 429, retry_after=3600)
        h.submit(_alert(h, wards=()), operator="alice", action="auto")
        assert h.run_until_idle()
        engine = h.engine
        feed_store.state(engine, "jma", "https://example.invalid/jma.xml")
        feed_store.state(engine, "city", "https://example.invalid/city.rss")
        t0 = _now()
        feed_store.update(engine, "jma", documents_added=7, last_success_at=t0 - dt.timedelta(
            seconds=90), consecutive_failures=2, last_error_at=t0, last_error="HTTP 503",
            next_poll_at=t0 + dt.timedelta(seconds=40))
        feed_store.remember(engine, "jma", "doc-1", "stored alert 1")
        feed_store.remember(engine, "jma", "doc-2", "rejected: not a JMA document")
        feed_store.remember(engine, "city", "entry-9", "rejected: no title")
        with engine.begin() as conn:
            assert try_acquire(conn, "channel:line", "worker-2", 600)
        with engine.connect() as conn:
            page = q.feeds_and_channels(conn, now=t0, config=h.config)

    jma, city = {f.name: f for f in page.feeds}["jma"], {f.name: f for f in page.feeds}["city"]
    assert (jma.documents_seen, jma.consecutive_failures, jma.last_error) == (7, 2, "HTTP 503")
    assert jma.age_seconds == pytest.approx(90.0)
    assert jma.backoff_seconds == pytest.approx(40.0)
    assert (jma.rejected, jma.last_rejected) == (1, "doc-2: rejected: not a JMA document")
    assert (city.rejected, city.last_success_at, city.age_seconds) == (1, None, None)
    assert {(r.feed, r.doc_key) for r in page.rejections} == {("jma", "doc-2"),
                                                              ("city", "entry-9")}
    channels = {c.channel: c for c in page.channels}
    assert set(channels) == {"telegram", "line", "x"}
    tg = channels["telegram"]
    assert tg.state == "sending" and tg.worker is not None
    assert (tg.pending, tg.in_flight, tg.rate_limited_rows) == (1, 0, 1)
    assert "Flood control" in (tg.last_rate_limit_error or "")
    assert tg.last_rate_limited_at is not None and tg.last_rate_limited_at <= _now()
    assert not tg.lease_held  # the dispatcher let it go when it stopped
    line = channels["line"]
    assert (line.lease_holder, line.lease_held, line.rate_limited_rows) == ("worker-2", True, 0)
    assert page.x_left == {"day": pytest.approx(1.0 - 0.02), "month": None, "posts_24h": 48}
    assert page.x_budget is not None and page.x_budget["day"]["posts"] == len(h.x.posts) == 2


def test_shelter_states_follow_the_alerts_that_went_out(db_url: str) -> None:
    with harness(db_url) as h:
        ids = list(shelters_for(h.config))[:7]

        def shelter(sids: tuple[str, ...], action: str, **kw: Any) -> Alert:
            return _alert(h, kind=Kind.SHELTER, wards=(), payload=pl.Shelter(
                shelter_ids=sids, action=pl.ShelterAction(action)), **kw)

        lc = h.service.lifecycle
        h.submit(shelter((ids[0], ids[1]), "opened"), operator="a")
        h.submit(shelter((ids[1],), "closed"), operator="a")
        h.submit(shelter((ids[2],), "opened", test=True), operator="a")  # a drill
        cancelled = h.submit(shelter((ids[3],), "opened"), operator="a")
        lc.submit(lc.follow_up(cancelled, MsgType.CANCEL, text_ja="誤りでした。"), operator="a")
        lifted = h.submit(shelter((ids[4],), "opened"), operator="a")
        lc.submit(lc.follow_up(lifted, MsgType.LIFT, text_ja="閉鎖しました。",
                               texts={"en": "Closed."}), operator="a")
        h.submit(shelter((ids[5],), "opened"), operator="a", require_approval=True)
        corrected = h.submit(shelter((ids[6],), "closed"), operator="a")
        lc.submit(lc.follow_up(corrected, MsgType.UPDATE, text_ja="閉鎖しました。",
                               texts={"en": "Closed."}), operator="a")
        assert h.run_until_idle()
        with h.engine.connect() as conn:
            states = q.shelter_states(conn)
    assert states == {ids[0]: True, ids[1]: False, ids[4]: False, ids[6]: False}
