"""Times within reason: an operator's --send-at and --expires are held to a window
with one line saying how to fix them, and a document from the future (beyond the
configured clock skew) or from the year 9999 or 1 is held with the reason; nothing
on the way (parsing, freshness, rendering, the CLI) raises."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_config
from bot.domain import Alert, Kind
from bot.freshness import Freshness
from bot.intake import Intake
from bot.render.timefmt import format_jst
from bot.store import alerts as alert_store
from tests.cli_helpers import bousai, json_lines
from tests.config_helpers import DEFAULT_CONFIG_PATH, write_config
from tests.conftest import FIXTURES
from tests.harness import Harness, harness

JST = dt.timezone(dt.timedelta(hours=9))
RAIN = FIXTURES / "jma" / "handmade_VPOA50_kumamoto.xml"  # 熊本市北区, 2016-06-20 22:10 JST
FIRE = FIXTURES / "cap" / "kumamoto_bushfire.cap"  # sent 2024-03-15 13:40 JST, expires 23:00
NOW = dt.datetime(2016, 6, 20, 22, 15, tzinfo=JST)  # five minutes after RAIN was issued


@pytest.fixture
def h(db_url: str) -> Iterator[Harness]:
    with harness(db_url) as hh:
        yield hh


def _rain(report: str) -> bytes:
    return RAIN.read_bytes().replace(b"<ReportDateTime>2016-06-20T22:10:00+09:00",
                                     f"<ReportDateTime>{report}".encode())


def _fire(sent: str, expires: str = "2024-03-15T23:00:00+09:00") -> bytes:
    data = FIRE.read_bytes().replace(b"<sent>2024-03-15T13:40:00+09:00",
                                     f"<sent>{sent}".encode())
    return data.replace(b"<expires>2024-03-15T23:00:00+09:00", f"<expires>{expires}".encode())


def test_clock_skew_comes_from_the_config_and_bounds_the_future(tmp_path: Path) -> None:
    fresh = Freshness.from_config(load_config())
    assert fresh.clock_skew == dt.timedelta(minutes=10)
    base = Alert(source="jma", source_id="x", kind=Kind.EARTHQUAKE,
                 issued=NOW + dt.timedelta(minutes=9))
    assert fresh.future_reason(base, NOW) is None
    ahead = Alert(source="jma", source_id="x", kind=Kind.EARTHQUAKE,
                  issued=NOW + dt.timedelta(minutes=25))
    assert fresh.future_reason(ahead, NOW) == (
        "from the future: issued 2016-06-20 22:40 JST, 25 minutes from now (more than the "
        "10 minutes of clock skew allowed); check the sender's clock and ours")
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace(
        'clock_skew = "10m"', 'clock_skew = "30m"')
    wide = Freshness.from_config(load_config(write_config(tmp_path, text)))
    assert wide.clock_skew == dt.timedelta(minutes=30)
    assert wide.future_reason(ahead, NOW) is None


@pytest.mark.parametrize(("report", "rule", "reason"), [
    ("2016-06-20T22:40:00+09:00", "future", "from the future: issued 2016-06-20 22:40 JST, "
                                            "25 minutes from now"),
    ("9999-12-31T09:00:00+00:00", "future", "from the future: issued 9999-12-31 18:00 JST, "
                                            "7988 years from now"),
    ("0001-01-01T00:00:00Z", "stale", "stale: issued 1-01-01 09:18 JST, 2016 years ago"),
])
def test_a_jma_report_from_the_future_or_the_year_one_is_held_with_the_reason(
        h: Harness, report: str, rule: str, reason: str) -> None:
    h.seed(10)
    rec = Intake.for_service(h.service, as_of=NOW).process(_rain(report), RAIN.name)[0]
    assert (rec["policy"], rec["rule"], rec["status"]) == ("hold", rule, "held")
    assert rec["reason"].startswith(reason), rec["reason"]
    with h.engine.connect() as conn:
        row = alert_store.get_row(conn, rec["id"])
    assert row.status_reason == rec["reason"]
    prepared = h.service.lifecycle.prepare_view(rec["id"])  # what an operator previews
    assert {r.language for r in prepared.renderings} == set(h.config.languages)
    assert h.run_until_idle() and h.telegram.sent == []


def test_a_time_beyond_the_calendar_is_a_rejected_document_not_a_traceback(h: Harness) -> None:
    intake = Intake.for_service(h.service, as_of=NOW)
    [jma] = intake.process(_rain("9999-12-31T23:59:59-14:00"), RAIN.name)
    assert jma["error"] == ("Head/ReportDateTime is outside the calendar: "
                            "'9999-12-31T23:59:59-14:00'")
    [cap] = intake.process(_fire("2024-03-15T13:40:00+09:00", "9999-12-31T23:59:59-14:00"),
                           FIRE.name)
    assert "<expires> is outside the calendar: '9999-12-31T23:59:59-14:00'" in cap["error"]


def test_a_cap_alert_sent_from_the_future_or_holding_for_ever_is_held(h: Harness) -> None:
    when = dt.datetime(2024, 3, 15, 14, 0, tzinfo=JST)
    intake = Intake.for_service(h.service, as_of=when)
    [late] = intake.process(_fire("2024-03-15T15:40:00+09:00"), "late.cap")
    assert late["rule"] == "future" and late["reason"].startswith(
        "from the future: issued 2024-03-15 15:40 JST, 1 hour from now")
    [forever] = intake.process(_fire("2024-03-15T13:40:00+09:00", "9999-12-31T23:59:59+09:00"),
                               "forever.cap")
    assert forever["rule"] == "future" and forever["reason"].startswith(
        "from the future: expires 9999-12-31 23:59 JST, 7981 years from now (more than a "
        "year); check the document")


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "9999-12-31T20:00:00+00:00",
                                   "0001-01-01T00:00:00+09:00", "0001-01-01T00:00:00+00:00"])
def test_rendering_a_time_at_the_calendars_edge_never_raises(value: str) -> None:
    when = dt.datetime.fromisoformat(value)
    for language in ("ja", "en", "vi", "ko", "zh-Hans", "my", "th"):
        text = format_jst(when, language, now=NOW)
        assert ("9999" in text) if when.year == 9999 else ("1" in text)


@pytest.mark.parametrize(("option", "value", "says"), [
    ("--send-at", "+99999999d", "error: --send-at '+99999999d' is more than 30 days ahead: "
                                "schedule a send at most 30 days from now (e.g. +2h or "),
    ("--send-at", "+31d", "error: --send-at '+31d' is more than 30 days ahead"),
    ("--send-at", "2020-01-01T09:00", "error: --send-at '2020-01-01T09:00' is in the past: "
                                      "give a later time (e.g. +2h or "),
    ("--expires", "9999-12-31T23:59:59-14:00",
     "error: --expires '9999-12-31T23:59:59-14:00' is more than a year ahead: an alert may "
     "hold at most a year from now (e.g. +2h or "),
    ("--expires", "0001-01-01T00:00:00+09:00", "error: --expires '0001-01-01T00:00:00+09:00' "
                                               "is in the past"),
    ("--expires", "+400d", "error: --expires '+400d' is more than a year ahead"),
    ("--expires", "soon", "error: --expires 'soon': use an ISO time such as "),
])
def test_operator_times_outside_the_window_are_one_line(
        env: dict[str, str], option: str, value: str, says: str) -> None:
    result = bousai("alert", "issue", "--kind", "city_notice", "--text-ja", "訓練です。",
                    "--text-en", "A drill.", option, value, "--yes", expect=1)
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(says), line


def test_expires_before_send_at_and_absurd_durations_elsewhere(env: dict[str, str]) -> None:
    bousai("db", "upgrade")
    result = bousai("alert", "issue", "--kind", "city_notice", "--text-ja", "訓練です。",
                    "--send-at", "+2h", "--expires", "+1h", "--yes", expect=1)
    assert result.stderr.startswith("error: --expires '+1h' is before --send-at: give a later")
    assert bousai("alert", "list", "--since", "99999999d").stdout == ""
    held = json_lines(bousai("ingest", "--dry-run", "--json", "--as-of",
                             "9999-12-31T23:59:59-14:00", str(RAIN)).stdout)[0]
    assert held["policy"] == "hold" and "7988 years ago" in held["reason"]
