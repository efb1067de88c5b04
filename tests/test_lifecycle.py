"""The alert's life: one transition table, prepare outside the transaction, commit
inside a short one, follow-ups under the same rules, and how alerts finish."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from bot.domain import Alert, AlertStatus, Kind, MsgType, Severity, Urgency
from bot.errors import OperatorError
from bot.fakes.translator import FakeTranslator
from bot.lifecycle import TRANSITIONS, Event, check, housekeeping
from bot.render import Renderer
from bot.store import alerts as alert_store
from bot.store import deliveries as ledger
from bot.store import translations
from bot.translate import load_translator
from tests.harness import Harness, harness

NOTICE_JA = "中央区の白川で水位が上がっています。川に近づかないでください。"


def _notice(**kw: Any) -> Alert:
    values: dict[str, Any] = {
        "source": "cli", "source_id": f"n-{time.monotonic_ns()}", "kind": Kind.CITY_NOTICE,
        "severity": Severity.MODERATE, "urgency": Urgency.EXPECTED,
        "issued": dt.datetime.now(dt.UTC), "body_ja": NOTICE_JA}
    return Alert(**(values | kw))


def _status(h: Harness, alert_id: int) -> str:
    with h.engine.connect() as conn:
        return str(alert_store.get_row(conn, alert_id).status)


@pytest.fixture
def h(db_url: str) -> Iterator[Harness]:
    with harness(db_url) as hh:
        yield hh


# ------------------------------------------------------------------ the table


def test_every_event_has_one_rule_and_refusals_say_why() -> None:
    assert set(TRANSITIONS) == set(Event)
    assert check(Event.APPROVE, AlertStatus.HELD) is AlertStatus.QUEUED
    assert check(Event.LIFT, AlertStatus.SENT) is AlertStatus.LIFTED
    with pytest.raises(OperatorError, match="alert 7 is sent; only alerts waiting"):
        check(Event.APPROVE, AlertStatus.SENT, 7)
    with pytest.raises(OperatorError, match="alert 7 is cancelled"):
        check(Event.LIFT, AlertStatus.CANCELLED, 7)


def test_status_is_set_only_by_the_lifecycle() -> None:
    """No module but bot/lifecycle/ assigns an AlertStatus to a stored alert, and
    none outside bot/store/ speaks SQL to the ledger."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    assign = re.compile(r"set_status(_many)?\(|status=AlertStatus\.")
    ledger_sql = re.compile(r"\b(deliveries|renderings)\.c\.|sa\.(insert|update|delete)\("
                            r"(deliveries|renderings)\b")
    # ... nor takes the ledger's tables at all (an alias such as `d = deliveries` would
    # pass the pattern above)
    ledger_tables = re.compile(r"from bot\.db\.schema import [^\n]*\b(deliveries|renderings)\b"
                               r"|from bot\.db\.schema import \([^)]*\b(deliveries|renderings)\b")
    for path in list((root / "bot").rglob("*.py")) + list((root / "channels").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        if rel != "bot/store/alerts.py" and not rel.startswith("bot/lifecycle/") \
                and not rel.startswith("bot/domain/"):
            assert not assign.search(text), f"{rel} sets an alert's status"
        if not rel.startswith(("bot/store/", "bot/db/", "bot/migrations/")):
            assert not ledger_sql.search(text), f"{rel} speaks SQL to the ledger"
            assert not ledger_tables.search(text), f"{rel} imports the ledger's tables"


# ------------------------------------------------------------ prepare, then commit


def test_translation_happens_before_the_write_transaction(db_url: str) -> None:
    """A Japanese-only notice in sixteen languages: fourteen are machine-translated
    (slowly), yet no transaction stays open for even a second, and every
    translation lands in the cache."""
    with FakeTranslator() as fake, harness(db_url) as h:
        fake.delay = 0.08
        svc = h.service
        translator = load_translator(svc.config, svc.engine, svc.renderer.catalogs,
                                     environ={"TRANSLATE_API_BASE_URL": fake.url})
        svc.renderer = Renderer(svc.config, svc.renderer.catalogs, translator)
        h.seed(32)
        open_at: dict[int, float] = {}
        held: list[float] = []

        def begin(conn: sa.Connection) -> None:
            open_at[id(conn)] = time.monotonic()

        def end(conn: sa.Connection) -> None:
            if id(conn) in open_at:
                held.append(time.monotonic() - open_at.pop(id(conn)))

        sa.event.listen(svc.engine, "begin", begin)
        sa.event.listen(svc.engine, "commit", end)
        sa.event.listen(svc.engine, "rollback", end)
        started = time.monotonic()
        alert_id = h.submit(_notice(), operator="t", action="auto")
        took = time.monotonic() - started
        translated = len(svc.config.languages) - 2  # not ja, not やさしい日本語
        assert translated >= 14
        assert fake.calls >= translated
        assert took >= translated * fake.delay  # the translator really was slow
        assert max(held) < 1.0, f"a transaction was open for {max(held):.2f}s"
        assert translations.count(svc.engine) == translated
        with svc.engine.connect() as conn:
            stored = ledger.stored_renderings(conn, alert_id)
        mt = {r.language for r in stored if r.machine_translated}
        assert len(mt) == translated and "ja" not in mt and "ja-easy" not in mt
        vi = next(r for r in stored if r.language == "vi" and r.channel == "telegram")
        assert "[vi]" in vi.parts[0]
        translator.close()


# ------------------------------------------------------------ the two-person rule


def test_update_by_one_operator_waits_for_a_second(h: Harness) -> None:
    h.seed(6, channels=("telegram",))
    life = h.service.lifecycle
    original = h.submit(_notice(), operator="sato")
    assert h.run_until_idle()
    assert len(h.telegram.sent) == 6 and _status(h, original) == "sent"

    prepared = life.follow_up(original, MsgType.UPDATE, text_ja="白川の水位は下がりました。")
    assert {r.language for r in prepared.renderings} == set(h.config.languages)
    done = life.submit(prepared, operator="sato", require_approval=True)
    assert done.status is AlertStatus.PENDING_APPROVAL
    assert h.run_until_idle()
    assert len(h.telegram.sent) == 6  # nothing until a second operator approves
    with pytest.raises(OperatorError, match="two-person rule"):
        life.approve(done.id, "sato")
    life.approve(done.id, "tanaka")
    assert h.run_until_idle()
    replies = h.telegram.sent[6:]
    assert len(replies) == 6 and all(m.reply_to_message_id for m in replies)
    assert _status(h, done.id) == "sent" and _status(h, original) == "sent"


def test_a_held_cancellation_stops_the_wrong_message_and_rejecting_it_resumes(
        h: Harness) -> None:
    h.seed(40, channels=("telegram",))
    life = h.service.lifecycle
    original = h.submit(_notice(send_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)),
                        operator="sato")
    cancel = life.submit(life.follow_up(original, MsgType.CANCEL, text_ja="誤りでした。"),
                         operator="sato", require_approval=True)
    assert cancel.status is AlertStatus.PENDING_APPROVAL
    with h.engine.connect() as conn:
        held = ledger.progress(conn, original)["telegram"]
    assert sum(v.get("cancelled", {}).get("rows", 0) for v in held.values()) == 40
    life.reject(cancel.id, "tanaka", "the message was right")
    with h.engine.connect() as conn:
        back = ledger.progress(conn, original)["telegram"]
    assert sum(v.get("pending", {}).get("rows", 0) for v in back.values()) == 40
    assert _status(h, original) == "queued" and _status(h, cancel.id) == "rejected"


def test_lift_is_not_cancel(h: Harness) -> None:
    h.seed(4, channels=("telegram",))
    life = h.service.lifecycle
    original = h.submit(_notice(kind=Kind.EVACUATION), operator="sato")
    assert h.run_until_idle()
    lift = life.submit(life.follow_up(original, MsgType.LIFT, text_ja="避難指示を解除しました。"),
                       operator="sato")
    assert h.run_until_idle()
    assert _status(h, original) == "lifted" and _status(h, lift.id) == "sent"
    with pytest.raises(OperatorError, match="already lifted"):
        life.follow_up(original, MsgType.LIFT, text_ja="again")
    # A lifted order can still be cancelled if it was a mistake after all.
    life.submit(life.follow_up(original, MsgType.CANCEL, text_ja="誤り"),
                operator="sato")
    assert _status(h, original) == "cancelled"


# ------------------------------------------------------------------ finishing


def test_an_alert_whose_rows_all_expired_is_expired(h: Harness) -> None:
    h.seed(5, channels=("telegram",))
    now = dt.datetime.now(dt.UTC)
    alert_id = h.submit(_notice(issued=now - dt.timedelta(minutes=5),
                                expires=now + dt.timedelta(seconds=0.3)), operator="t")
    time.sleep(0.4)
    housekeeping(h.engine)
    assert _status(h, alert_id) == "expired"
    assert h.run_until_idle()
    assert h.telegram.sent == []
    with h.engine.connect() as conn:
        rows = ledger.progress(conn, alert_id)["telegram"]
    assert {st for by in rows.values() for st in by} == {"expired"}


def test_an_alert_none_of_whose_rows_was_sent_is_failed(db_url: str) -> None:
    with harness(db_url, max_attempts=1, x_languages=()) as h:
        seeded = h.seed(3, channels=("telegram",))["telegram"]
        for sub in seeded:
            h.telegram.block(sub.user_id)
        alert_id = h.submit(_notice(), operator="t")
        assert h.run_until_idle()
        assert _status(h, alert_id) == "failed"


def test_a_held_alert_past_its_expiry_cannot_be_approved(h: Harness) -> None:
    now = dt.datetime.now(dt.UTC)
    done = h.service.lifecycle.submit(
        _notice(issued=now - dt.timedelta(hours=2), expires=now - dt.timedelta(minutes=1)),
        operator="ingest:test", action="hold")
    with pytest.raises(OperatorError, match="expired"):
        h.service.lifecycle.approve(done.id, "tanaka")
    housekeeping(h.engine)
    assert _status(h, done.id) == "expired"


def test_a_feed_cancellation_of_a_held_alert_withdraws_it(h: Harness) -> None:
    life = h.service.lifecycle
    held = life.submit(_notice(source="cap", source_id="cap-1"), operator="ingest:f",
                       action="hold")
    cancel = dataclasses.replace(_notice(source="cap", source_id="cap-2"),
                                 msg_type=MsgType.CANCEL, references="cap-1")
    done = life.submit(cancel, operator="ingest:f", action="follow")
    assert done.status is AlertStatus.IGNORED and "withdrawn" in (done.note or "")
    assert _status(h, held.id) == "cancelled"
    with pytest.raises(OperatorError, match="is cancelled"):
        life.approve(held.id, "tanaka")


def test_no_outcome_is_lost_while_a_batch_is_being_written(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outcomes arrive while a worker thread writes the previous batch (slowly here):
    every row still gets its outcome and the run ends. Before, an outcome appended to
    the batch being written was lost and its row stayed in flight for ever."""
    import bot.dispatcher

    original = ledger.record

    def slow_record(conn: sa.Connection, channel: str, outcomes: Any) -> int:
        taken = list(outcomes)  # what a writer has read when the next outcome comes
        time.sleep(0.02)
        return original(conn, channel, taken)

    class SlowLog:  # an outcome is built slowly (its log line), as under load
        def __getattr__(self, name: str) -> Any:
            return getattr(bot.dispatcher.logging.getLogger("bot.dispatcher"), name)

        def warning(self, *args: Any, **kw: Any) -> None:
            time.sleep(0.003)

    monkeypatch.setattr(ledger, "record", slow_record)
    monkeypatch.setattr(bot.dispatcher, "log", SlowLog())
    with harness(db_url, max_attempts=1, x_languages=()) as h:
        seeded = h.seed(120, channels=("telegram",))["telegram"]
        for sub in seeded[::2]:
            h.telegram.block(sub.user_id)
        alert_id = h.submit(_notice(), operator="t")
        dispatcher = h.dispatcher()

        async def go() -> bool:
            try:
                return await asyncio.wait_for(dispatcher.run(until_idle=True), 20)
            finally:
                for st in dispatcher.states.values():
                    await st.channel.close()

        assert asyncio.run(go())
        with h.engine.connect() as conn:
            rows = ledger.progress(conn, alert_id)["telegram"]
        counts = {st: sum(by[st]["rows"] for by in rows.values() if st in by)
                  for st in ("sent", "failed", "in_flight", "pending")}
        assert counts == {"sent": 60, "failed": 60, "in_flight": 0, "pending": 0}
