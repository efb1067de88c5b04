"""Places by name, and mistakes refused with one line: what a tired operator types."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.config import load_config
from bot.errors import ValidationError
from bot.fakes.telegram import FakeTelegram
from bot.places import resolve_shelter, resolve_ward, resolve_wards, search_shelters
from tests.cli_helpers import bousai, json_lines

TOKEN = "424242:AAE-test-token-for-the-fake"


@pytest.fixture
def telegram(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as fake:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.url)
        bousai("db", "upgrade")
        yield fake


@pytest.mark.parametrize("typed", ["43104", "4310400", "南区", "南", "minami", "Minami-ku",
                                   "MINAMI WARD", "minamiku", "南区（みなみく）",
                                   "Quận Minami", "미나미구", "ｍｉｎａｍｉ"])
def test_a_ward_by_code_or_any_name(typed: str) -> None:
    assert resolve_ward(load_config(), typed).code == "43104"


def test_the_whole_city_and_several_wards() -> None:
    config = load_config()
    assert resolve_wards(config, None) == config.ward_codes
    assert resolve_wards(config, ["all"]) == config.ward_codes
    assert resolve_wards(config, ["kita", "中央区", "kita"]) == ("43101", "43105")
    with pytest.raises(ValidationError, match="do not combine"):
        resolve_wards(config, ["all", "kita"])


@pytest.mark.parametrize("typed", ["43106", "4310", "higashiku-x", "Tokyo", ""])
def test_an_unknown_ward_lists_the_wards(typed: str) -> None:
    with pytest.raises(ValidationError) as exc:
        resolve_ward(load_config(), typed)
    assert "43102 東区 (Higashi Ward)" in str(exc.value)


def test_shelters_by_id_or_name() -> None:
    assert resolve_shelter("00000009").name == "白川中学校"
    assert resolve_shelter("9").name == "白川中学校"
    assert resolve_shelter("白川中学校").id == "00000009"  # exact name wins over 【広域】
    with pytest.raises(ValidationError, match="shelters match '白川'"):
        resolve_shelter("白川")
    with pytest.raises(ValidationError, match="bousai shelters search"):
        resolve_shelter("存在しない避難所")
    assert len(search_shelters("白川")) >= 5


def test_issue_by_ward_name_reaches_that_ward(telegram: FakeTelegram) -> None:
    for chat, ward in (("1001", "43101"), ("1002", "43104"), ("1003", "43102")):
        bousai("subscribers", "add", "--channel", "telegram", "--user-id", chat,
               "--language", "en", "--ward", ward)
    out = json_lines(bousai("alert", "issue", "--allow-fallback", "--kind", "city_notice",
                            "--ward", "Minami-ku",
                            "--ward", "中央区", "--text-ja", "断水のお知らせ", "--test",
                            "--yes", "--json").stdout)[0]
    assert out["wards"] == ["43101", "43104"]


def test_shelter_alert_by_name(telegram: FakeTelegram) -> None:
    out = json_lines(bousai("alert", "issue", "--allow-fallback", "--kind", "shelter",
                            "--shelter", "白川中学校",
                            "--action", "opened", "--text-ja", "開設しました", "--test",
                            "--yes", "--json").stdout)[0]
    shown = json.loads(bousai("alert", "preview", str(out["id"]), "--language", "en",
                              "--channel", "telegram", "--json").stdout)[0]
    assert "白川中学校" in shown["parts"][0]


def _one_line(result: object, *needles: str) -> None:
    err = result.stderr  # type: ignore[attr-defined]
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(("args", "needles"), [
    (("alert", "issue", "--kind", "city_notice", "--text-ja", "  ", "--yes"),
     ("--text-ja is empty",)),
    (("alert", "issue", "--kind", "earthquake", "--level", "4", "--text-ja", "x", "--yes"),
     ("--level applies only to --kind evacuation",)),
    (("alert", "issue", "--kind", "city_notice", "--utility", "water", "--text-ja", "x"),
     ("--utility applies only to --kind lifeline",)),
    (("alert", "issue", "--kind", "shelter", "--shelter", "白川", "--action", "opened",
      "--text-ja", "x", "--yes"), ("shelters match '白川'",)),
    (("deliveries", "log", "--status", "faild"), ("--status 'faild'", "failed")),
    (("deliveries", "log", "--channel", "telegrm"), ("--channel 'telegrm'", "telegram")),
    (("deliveries", "log", "--format", "xml"), ("--format 'xml'", "jsonl")),
    (("alert", "list", "--status", "pending"), ("--status 'pending'", "pending_approval")),
    (("alert", "show", str(2 ** 70)), ("no alert with id",)),
    (("alert", "approve", str(2 ** 40)), ("no alert with id",)),
    (("shelters", "search", "存在しない"), ("no shelter matches",)),
])
def test_operator_slips_get_one_line(telegram: FakeTelegram, args: tuple[str, ...],
                                     needles: tuple[str, ...]) -> None:
    _one_line(bousai(*args, expect=1), *needles)
    assert json_lines(bousai("alert", "list", "--json").stdout) == []


@pytest.mark.parametrize(("url", "needle"), [
    ("mysql://root@127.0.0.1/test", "not supported"),
    ("postgresql://postgres@127.0.0.1:1/test", "cannot be reached"),
    ("not a url", "BOUSAI_DATABASE_URL"),
])
def test_database_problems_get_one_line(env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                        url: str, needle: str) -> None:
    monkeypatch.setenv("BOUSAI_DATABASE_URL", url)
    _one_line(bousai("db", "upgrade", expect=1), needle)
    _one_line(bousai("alert", "list", expect=1), needle)


def test_version_and_wards(env: dict[str, str]) -> None:
    assert bousai("--version").stdout.startswith("bousai ")
    listed = bousai("wards").stdout
    assert "43104  南区  Minami Ward" in listed
    assert [w["code"] for w in json_lines(bousai("wards", "--json").stdout)] == [
        "43101", "43102", "43103", "43104", "43105"]
    helptext = bousai("alert", "issue", "--allow-fallback", "--help").stdout
    assert "<bool>" not in helptext and "<list[str]>" not in helptext and "TEXT" in helptext


# ------------------------------------------------------------ one screen before send


def test_the_summary_says_what_goes_to_whom(telegram: FakeTelegram) -> None:
    for chat, lang, ward in (("1001", "en", "43104"), ("1002", "vi", "43104"),
                             ("1003", "my", "43104"), ("1004", "en", "43101")):
        bousai("subscribers", "add", "--channel", "telegram", "--user-id", chat,
               "--language", lang, "--ward", ward)
    result = bousai("alert", "issue", "--kind", "evacuation", "--level", "4", "--ward",
                    "minami", "--text-ja", "白川の水位が上がっています。", "--text-en",
                    "The Shirakawa River is rising.", "--operator", "sato", "--preview",
                    input="n\n", expect=1)
    err = result.stderr
    assert "what      evacuation level 4, severity severe; new alert" in err
    assert "where     南区 Minami Ward" in err
    assert "telegram  3 recipients, 3 requests" in err and "(en 1, my 1, vi 1)" in err
    assert "languages 16: 16 from templates or official text, 0 machine-translated" in err
    assert "── my / telegram" in err and "── km / telegram" in err  # every text in full
    assert "Send this alert? [y/N]" in err and "nothing sent" in err
    assert json_lines(bousai("alert", "list", "--json").stdout) == []


def test_free_text_with_no_translation_is_refused_until_allowed(
        telegram: FakeTelegram) -> None:
    refused = bousai("alert", "issue", "--kind", "city_notice", "--text-ja", "断水します。",
                     "--yes", expect=1)
    _one_line(refused, "in Japanese only", "vi", "--text-en", "--allow-fallback")
    assert json_lines(bousai("alert", "list", "--json").stdout) == []
    sent = bousai("alert", "issue", "--kind", "city_notice", "--text-ja", "断水します。",
                  "--yes", "--allow-fallback", "--json")
    assert "only in Japanese" in sent.stderr and json_lines(sent.stdout)[0]["id"] == 1


def test_approval_shows_what_it_approves(telegram: FakeTelegram) -> None:
    bousai("subscribers", "add", "--channel", "telegram", "--user-id", "1001",
           "--language", "en", "--ward", "43101")
    issued = json_lines(bousai("alert", "issue", "--kind", "city_notice", "--ward", "chuo",
                               "--text-ja", "給水所を開設しました。", "--text-en",
                               "A water station is open.", "--yes", "--json",
                               "--operator", "sato").stdout)[0]
    assert issued["status"] == "pending_approval"
    declined = bousai("alert", "approve", str(issued["id"]), "--operator", "tanaka",
                      input="n\n", expect=1)
    assert "── ja" in declined.stderr and "給水所を開設しました。" in declined.stderr
    assert "── en" in declined.stderr and "A water station is open." in declined.stderr
    assert "where     中央区 Chuo Ward" in declined.stderr
    assert "telegram  1 recipients" in declined.stderr
    shown = json_lines(bousai("alert", "show", str(issued["id"]), "--json").stdout)[0]
    assert shown["status"] == "pending_approval"
    approved = bousai("alert", "approve", str(issued["id"]), "--operator", "tanaka",
                      input="y\n")
    assert "approved and queued: city_notice alert, 1 recipients" in approved.stdout


def test_watch_tells_when_nobody_is_sending(telegram: FakeTelegram) -> None:
    for chat in ("1001", "1002"):
        bousai("subscribers", "add", "--channel", "telegram", "--user-id", chat,
               "--language", "en", "--ward", "43101")
    telegram.block("1002")
    bousai("subscribers", "add", "--channel", "telegram", "--user-id", "1003", "--language",
           "en", "--ward", "43101", "--test")
    issued = json_lines(bousai("alert", "issue", "--kind", "city_notice", "--text-ja", "断水",
                               "--text-en", "Water outage", "--yes", "--json").stdout)[0]
    bousai("alert", "approve", "--yes", str(issued["id"]), "--operator", "other")
    before = bousai("deliveries", "watch", str(issued["id"]), "--once").stdout
    assert "queued: sending" in before
    assert "no worker is sending on telegram: is `bousai run` running?" in before
    bousai("run", "--until-idle")
    after = bousai("deliveries", "watch", str(issued["id"]), "--once").stdout
    assert "no worker" not in after and "done: 2 sent, 1 failed" in after
    assert "telegram: Forbidden: bot was blocked by the user" in after


@pytest.mark.parametrize("args", [
    ("alert", "cancel", "-3", "--reason", "x"),
    ("alert", "issue", "--kind"),
    ("alert", "show", "abc"),
    ("alert", "approve"),
    ("deliveries", "watch", "1", "--interval", "0"),
    ("no-such-command",),
    ("alert", "issue", "--kind", "city_notice", "--text-ja", "x", "--colour", "red"),
])
def test_usage_mistakes_get_one_line_that_points_at_help(env: dict[str, str],
                                                          args: tuple[str, ...]) -> None:
    result = bousai(*args, expect=2)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "--help" in lines[0] or "requires an argument" in lines[0]


def test_operators_read_kumamoto_time(telegram: FakeTelegram) -> None:
    import re

    bousai("subscribers", "add", "--channel", "telegram", "--user-id", "1002",
           "--language", "en", "--ward", "43101", "--test")
    issued = json_lines(bousai("alert", "issue", "--kind", "city_notice", "--text-ja", "断水",
                               "--text-en", "Water outage", "--test", "--yes",
                               "--json").stdout)[0]
    bousai("run", "--until-idle")
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d JST")
    shown = bousai("alert", "show", str(issued["id"])).stdout
    assert stamp.search(shown.split("issued:")[1].splitlines()[0])
    assert "+00:00" not in shown and not re.search(r"\d\d:\d\d:\d\d\.\d", shown)
    assert stamp.search(bousai("alert", "list").stdout)
    log = bousai("deliveries", "log", "--format", "csv").stdout
    assert stamp.search(log) and "+00:00" not in log
    raw = json_lines(bousai("alert", "show", str(issued["id"]), "--json").stdout)[0]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$", raw["issued"])
