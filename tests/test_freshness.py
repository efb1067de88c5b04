"""Every message current: stale notices are held, never broadcast; a newer report
about the same event supersedes the older one; --as-of replays as of a time."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest

from bot.config import load_config
from bot.domain import Alert, Kind
from bot.errors import ConfigError, OperatorError
from bot.freshness import Freshness, ago, parse_duration
from bot.intake import Intake
from bot.store import alerts as alert_store
from bot.store import deliveries as ledger
from tests.cli_helpers import bousai, json_lines
from tests.conftest import FIXTURES
from tests.harness import Harness, harness

JST = dt.timezone(dt.timedelta(hours=9))
RAIN = FIXTURES / "jma" / "handmade_VPOA50_kumamoto.xml"  # 熊本市北区, 2016-06-20 22:10
# The 2016-09-01 tsunami event off 福島県沖: three warnings about the same event.
TSUNAMI = [FIXTURES / "jma" / f"32-39_12_{n}_250206_VTSE41.xml" for n in ("02", "07", "13")]


@pytest.fixture
def h(db_url: str) -> Iterator[Harness]:
    with harness(db_url) as hh:
        yield hh


def _row(h: Harness, alert_id: int) -> object:
    with h.engine.connect() as conn:
        return alert_store.get_row(conn, alert_id)


def test_durations_and_ages() -> None:
    assert parse_duration("90m", "k") == dt.timedelta(minutes=90)
    assert parse_duration("2d", "k") == dt.timedelta(days=2)
    with pytest.raises(ConfigError, match="30m, 6h or 2d"):
        parse_duration("soon", "freshness.earthquake")
    assert ago(dt.timedelta(days=3660)) == "10 years"
    assert ago(dt.timedelta(minutes=1)) == "1 minute"


def test_every_kind_has_a_maximum_age_from_the_config() -> None:
    fresh = Freshness.from_config(load_config())
    assert set(fresh.max_age) == set(Kind)
    assert fresh.max_age[Kind.EARTHQUAKE] == dt.timedelta(hours=3)
    base = dict(source="jma", source_id="x", kind=Kind.EARTHQUAKE,
                issued=dt.datetime(2026, 11, 30, 9, 0, tzinfo=JST))
    now = dt.datetime(2026, 11, 30, 11, 0, tzinfo=JST)
    assert fresh.stale_reason(Alert(**base), now) is None  # type: ignore[arg-type]
    later = now + dt.timedelta(hours=2)
    reason = fresh.stale_reason(Alert(**base), later)  # type: ignore[arg-type]
    assert reason == ("stale: issued 2026-11-30 09:00 JST, 4 hours ago (earthquake notices "
                      "are current for 3 hours)")
    cap = Alert(**(base | {"source": "cap", "expires": later + dt.timedelta(hours=1)}))
    assert fresh.stale_reason(cap, later) is None  # a CAP alert holds until it expires


def test_an_old_report_is_held_with_the_reason_and_sent_to_nobody(h: Harness) -> None:
    h.seed(30)
    intake = Intake.for_service(h.service)
    rec = intake.process(RAIN.read_bytes(), RAIN.name)[0]
    assert (rec["policy"], rec["rule"]) == ("hold", "stale")
    assert rec["reason"].startswith("stale: issued 2016-06-20 22:10 JST, 10 years ago")
    row = _row(h, rec["id"])
    assert row.status == "held" and row.status_reason.startswith("stale: issued 2016")
    assert h.run_until_idle()
    assert h.telegram.sent == [] and h.line.requests == []
    with h.engine.connect() as conn:
        assert ledger.progress(conn, rec["id"]) == {}


def test_as_of_judges_a_replay_as_if_it_were_then(h: Harness) -> None:
    when = dt.datetime(2016, 6, 20, 22, 15, tzinfo=JST)
    rec = Intake.for_service(h.service, as_of=when).process(RAIN.read_bytes(), RAIN.name)[0]
    assert (rec["policy"], rec["rule"]) == ("auto", "record-short-heavy-rain")


def test_ingest_cli_shows_the_reason_and_takes_as_of(env: dict[str, str]) -> None:
    bousai("db", "upgrade")
    now = json_lines(bousai("ingest", "--dry-run", "--json", str(RAIN)).stdout)[0]
    assert now["policy"] == "hold" and "10 years ago" in now["reason"]
    table = bousai("ingest", "--dry-run", str(RAIN)).stdout
    assert "hold (stale: issued 2016-06-20 22:10 JST, 10 years ago" in table
    then = json_lines(bousai("ingest", "--dry-run", "--json", "--as-of",
                             "2016-06-20T22:15", str(RAIN)).stdout)[0]
    assert then["policy"] == "auto"
    bad = bousai("ingest", "--as-of", "yesterday", str(RAIN), expect=1)
    assert "--as-of 'yesterday'" in bad.stderr


def test_replaying_a_feed_newest_first_never_sends_the_older_reports(h: Harness) -> None:
    """A replay as of the newest report's time: the newest is judged by the policy; the
    older ones, arriving after it, are superseded and recorded only."""
    intake = Intake.for_service(h.service,
                                as_of=dt.datetime(2016, 9, 1, 10, 0, tzinfo=JST))
    records = [intake.process(p.read_bytes(), p.name)[0] for p in reversed(TSUNAMI)]
    newest, *older = records
    assert newest["msg_type"] == "lift"  # 09:55: the advisory for the coasts is lifted
    for rec in older:
        assert rec["action"] == "ignore"
        assert rec["note"] == (f"superseded: alert {newest['id']} (lift) about the same "
                               "event was issued later (2016-09-01 09:55 JST)")


def test_a_newer_report_stops_what_the_older_has_not_sent(h: Harness) -> None:
    h.seed(40, channels=("telegram",))
    intake = Intake.for_service(h.service)
    # JMA's samples are marked as drills; treat them as real for this test.
    first, second = (dataclasses.replace(intake.parse(p.read_bytes(), p.name)[0], test=False)
                     for p in TSUNAMI[:2])
    old = h.submit(first, operator="test", action="auto")
    new = h.submit(second, operator="test", action="auto")
    with h.engine.connect() as conn:
        stopped = ledger.progress(conn, old)["telegram"]
        fresh = ledger.progress(conn, new)["telegram"]
    assert all(set(by) == {"cancelled"} for by in stopped.values())
    assert all(set(by) == {"pending"} for by in fresh.values())
    assert h.run_until_idle()
    assert len(h.telegram.sent) == 40  # the newer report only, once each


def test_a_held_report_that_a_newer_one_replaced_is_withdrawn(h: Harness) -> None:
    intake = Intake.for_service(h.service)
    first, second = (intake.parse(p.read_bytes(), p.name)[0] for p in TSUNAMI[:2])
    old = h.service.lifecycle.submit(first, operator="ingest:t", action="hold")
    new = h.service.lifecycle.submit(second, operator="ingest:t", action="hold")
    row = _row(h, old.id)
    assert row.status == "cancelled" and row.status_reason == f"superseded by alert {new.id}"
    with pytest.raises(OperatorError, match="is cancelled"):
        h.service.lifecycle.approve(old.id, "tanaka")
