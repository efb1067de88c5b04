"""The city's CAP landslide alert, its Update and its Cancel, from ``bousai ingest``
to the chats: held for an operator (no longer ignored as an "unchanged reissue"),
sent in the sender's words to the ward it covers, and followed up where it went."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.fakes.telegram import FakeTelegram
from tests.cli_helpers import bousai, json_lines

TOKEN = "424242:AAE-test-token-for-the-fake"
CAP = Path(__file__).resolve().parent / "fixtures" / "cap"
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00")


@pytest.fixture
def telegram(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as fake:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.url)
        bousai("db", "upgrade")
        yield fake


def current(name: str, tmp_path: Path) -> str:
    """The fixture as if it arrived a minute after it was sent: its times move so that
    <sent> is a minute ago (a held alert past its <expires> could not be approved)."""
    text = (CAP / name).read_text(encoding="utf-8")
    sent = re.search(r"<sent>([^<]+)</sent>", text)
    assert sent is not None
    shift = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
             - dt.datetime.fromisoformat(sent.group(1)))

    def move(m: re.Match[str]) -> str:
        return (dt.datetime.fromisoformat(m.group(0)) + shift).isoformat(timespec="seconds")

    path = tmp_path / name
    path.write_text(_TIME.sub(move, text), encoding="utf-8")
    return str(path)


def ingest(path: str) -> dict[str, object]:
    [record] = json_lines(bousai("ingest", "--json", path).stdout)
    return record


def test_landslide_alert_update_and_cancel_reach_chuo_in_the_sender_words(
        telegram: FakeTelegram, tmp_path: Path) -> None:
    for uid, language, ward in (("2001", "ja", "43101"), ("2002", "en", "43101"),
                                ("2003", "vi", "43101"), ("2004", "en", "43103")):
        bousai("subscribers", "add", "--channel", "telegram", "--user-id", uid,
               "--language", language, "--ward", ward)

    alert = ingest(current("kumamoto_landslide.cap", tmp_path))
    assert (alert["policy"], alert["rule"], alert["wards"]) == ("hold", "default", ["43101"])
    assert alert["status"] == "held"
    bousai("alert", "approve", "--yes", str(alert["id"]), "--operator", "tanaka")
    bousai("run", "--until-idle")
    first = {m.chat_id: m.text for m in telegram.sent}
    assert set(first) == {"2001", "2002", "2003"}  # 西区 (2004) is not in the polygon
    assert first["2001"].splitlines()[0] == (
        "【重大な危険】中央区の斜面で土砂災害の危険：崖の近くから避難を → 避難してください")
    assert first["2002"].splitlines()[0] == (
        "[Severe threat] Landslide danger on slopes in Chuo Ward: move away from cliffs"
        " → Evacuate")
    assert first["2003"].startswith("[Nguy hiểm nghiêm trọng] Landslide danger on slopes")
    assert "Việc cần làm: If you are near a cliff or a slope, evacuate now" in first["2003"]
    for text in first.values():
        assert "警戒レベル" not in text and "熊本市からのお知らせ" not in text

    update = ingest(current("kumamoto_landslide_update.cap", tmp_path))
    assert (update["policy"], update["status"]) == ("follow", "queued")
    bousai("run", "--until-idle")
    second = {m.chat_id: m.text for m in telegram.sent[3:]}
    assert set(second) == {"2001", "2002", "2003"}
    assert second["2002"].splitlines()[:2] == [
        "[Extreme threat] Slope collapse in Chuo Ward: evacuate from slopes now → Evacuate",
        "[UPDATE] This replaces the sender's earlier message."]

    cancel = ingest(current("kumamoto_landslide_cancel.cap", tmp_path))
    assert cancel["policy"] == "follow"
    bousai("run", "--until-idle")
    third = {m.chat_id: m.text for m in telegram.sent[6:]}
    assert set(third) == {"2001", "2002", "2003"}
    # The sender's all-clear (Cancel + AllClear) is a lifting: the alert was right.
    assert third["2001"].splitlines()[0].startswith("【解除】")
    assert "中央区" in third["2001"].splitlines()[0]
    shown = json_lines(bousai("alert", "show", str(alert["id"]), "--json").stdout)[0]
    assert shown["status"] == "lifted"
