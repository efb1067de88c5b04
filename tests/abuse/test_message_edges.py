"""Long messages (issue case 6): the parts of one message are paced per chat, a
retry resumes from the first unsent part, a text longer than a channel takes is
refused at issue time (or cut with a link), and a grapheme under thousands of
combining marks ends in a message, not a traceback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.db.schema import deliveries
from bot.domain import Alert, CityNotice, Kind, Severity
from tests.cli_helpers import bousai, json_lines
from tests.config_helpers import write_config
from tests.harness import harness

PARAGRAPH = ("市内の全域で断水が続いています。"
             "給水車の場所は市のホームページで確認してください。") * 20


def _long_notice() -> Alert:
    return Alert(source="cli", source_id="long-1", kind=Kind.CITY_NOTICE,
                 payload=CityNotice(), wards=("43101",), severity=Severity.MODERATE,
                 issued=dt.datetime.now(dt.UTC), headline_ja="断水のお知らせ",
                 body_ja="\n\n".join([PARAGRAPH] * 14))


def _parts_per_chat(texts: list[str]) -> list[str]:
    return [t.rsplit(" (", 1)[-1] for t in texts]


@pytest.mark.parametrize(("chat_interval", "fake_rate"), [(0.3, 5.0), (0.01, 2.0)],
                         ids=["paced", "resumed"])
def test_parts_reach_each_chat_once_and_in_order(db_url: str, chat_interval: float,
                                                 fake_rate: float) -> None:
    """``paced``: the channel keeps to the chat's pace, so the platform never refuses a
    part. ``resumed``: paced too fast on purpose, the platform answers 429 mid-message;
    the retry sends the remaining parts only."""
    with harness(db_url, telegram={"chat_rate_limit": fake_rate, "chat_burst": 1},
                 chat_interval=chat_interval, max_attempts=20) as h:
        for other in ("line", "x"):  # Telegram only: the other channels are tested apart
            h.service.plans.pop(other, None)
        h.seed(2, channels=("telegram",), wards=("43101",))
        alert_id = h.submit(_long_notice(), operator="sato")
        assert h.run_until_idle()
        by_chat: dict[str, list[str]] = {}
        for m in h.telegram.sent:
            by_chat.setdefault(m.chat_id, []).append(m.text)
        assert len(by_chat) == 2
        for texts in by_chat.values():
            marks = _parts_per_chat(texts)
            n = len(marks)
            assert n >= 3
            assert marks == [f"{i}/{n})" for i in range(1, n + 1)], marks
        with h.engine.connect() as conn:
            rows = conn.execute(sa.select(deliveries.c.status, deliveries.c.message_ids).where(
                deliveries.c.alert_id == alert_id, deliveries.c.channel == "telegram")).all()
        assert all(r.status == "sent" and len(r.message_ids) == n for r in rows)
        if chat_interval > 0.1:
            assert h.telegram.too_many == 0


@pytest.fixture
def cli_env(env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
            ) -> dict[str, str]:
    """The stock configuration with X enabled (a thread of at most 25 posts)."""
    from bot.config import DEFAULT_CONFIG_PATH

    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    text = text.replace("[channels.x]\nenabled = false", "[channels.x]\nenabled = true")
    monkeypatch.setenv("BOUSAI_CONFIG", str(write_config(tmp_path, text)))
    bousai("db", "upgrade")
    return env


def test_a_text_longer_than_a_channel_takes_is_refused_at_issue_time(
        cli_env: dict[str, str]) -> None:
    long = "白川の水位が上がっています。" * 300
    result = bousai("alert", "issue", "--kind", "city_notice", "--ward", "43101",
                    "--text-ja", long, "--allow-fallback", "--yes", "--operator", "sato",
                    expect=1)
    assert "takes at most" in result.stderr and "more_info_url" in result.stderr
    assert "Traceback" not in result.stderr
    out = bousai("deliveries", "stats", "--json")
    assert "in_flight" not in out.stdout or '"in_flight": 0' in out.stdout


def test_a_long_text_is_cut_with_a_link_when_the_config_gives_one(
        cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    text = Path(os.environ["BOUSAI_CONFIG"]).read_text(encoding="utf-8")
    cfg = write_config(tmp_path, text + '\n[render]\nmore_info_url = '
                       '"https://www.city.kumamoto.jp/bousai"\n', name="more.toml")
    monkeypatch.setenv("BOUSAI_CONFIG", str(cfg))
    long = "白川の水位が上がっています。" * 300
    result = bousai("alert", "issue", "--kind", "city_notice", "--ward", "43101",
                    "--text-ja", long, "--allow-fallback", "--yes", "--json", "--operator",
                    "sato")
    assert json_lines(result.stdout)[0]["id"] > 0


def test_a_grapheme_with_thousands_of_marks_is_issued_not_a_traceback(
        cli_env: dict[str, str]) -> None:
    text = "a" + "\u0301" * 5000 + " 避難してください。"
    result = bousai("alert", "issue", "--kind", "city_notice", "--ward", "43101",
                    "--text-ja", text, "--allow-fallback", "--yes", "--json", "--operator",
                    "sato")
    assert json_lines(result.stdout)[0]["id"] > 0
