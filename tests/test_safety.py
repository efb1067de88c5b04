"""Safety checks (安否確認): a 震度6弱 earthquake in the city sends one check with answer
buttons, through the delivery ledger, to the affected wards only (Telegram inline
keyboard, LINE quick-reply postbacks, never X); answers are counted by ward and
language, "I need help" gets the numbers and is on the operators' list, one reminder
goes to those who have not answered, and erasure removes the answers."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from bot.config import load_config
from bot.db.schema import alerts
from bot.domain import (
    Alert,
    Earthquake,
    EarthquakeReport,
    Intensity,
    Kind,
    MsgType,
    Subscriber,
)
from bot.errors import ConfigError
from bot.fakes.line import user_id, webhook_event
from bot.safety.checks import SafetyChecks, run_checks
from bot.safety.settings import load_safety
from bot.signup.line import LineSignup
from bot.signup.telegram import TelegramSignup
from bot.store import safety as safety_store
from bot.store import subscribers as sub_store
from tests.cli_helpers import bousai, json_lines
from tests.harness import LINE_TOKEN, Harness, harness

ALICE, BOB = user_id(0xA11CE), user_id(0xB0B)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def soon(minutes: float = 3) -> dt.datetime:
    """After [safety] delay (2 minutes) from now."""
    return now() + dt.timedelta(minutes=minutes)
INT = Intensity


def quake(source_id: str, wards: dict[str, Intensity]) -> Alert:
    top = max(wards.values())
    at = now()
    return Alert(source="jma", source_id=source_id, kind=Kind.EARTHQUAKE, issued=at,
                 wards=tuple(sorted(wards)), payload=Earthquake(
                     report=EarthquakeReport.INTENSITY, origin_time=at, max_intensity=top,
                     ward_intensity=wards, city_intensity=top, local_max_intensity=top))


def seed(h: Harness) -> None:
    subs = [Subscriber(channel="telegram", user_id="7001", language="en", wards=("43101",)),
            Subscriber(channel="telegram", user_id="7002", language="vi", wards=("43102",)),
            Subscriber(channel="telegram", user_id="7003", language="ja", wards=("43104",)),
            Subscriber(channel="line", user_id=ALICE, language="ja-easy",
                       wards=("43102", "43105")),
            Subscriber(channel="line", user_id=BOB, language="en", wards=("43105",))]
    with h.engine.begin() as conn:
        sub_store.import_batch(conn, subs)


def buttons(message: Any) -> dict[str, str]:
    markup = message.reply_markup
    return {b["callback_data"]: b["text"] for row in markup["inline_keyboard"] for b in row}


def line_to(h: Harness, user: str) -> list[dict[str, Any]]:
    """Every message object LINE accepted for ``user`` (push or multicast)."""
    return [m for r in h.line.requests if r.status == 200 and user in r.delivered_to
            for m in r.messages]


async def taps(h: Harness, *presses: tuple[int, str]) -> list[str]:
    """Tap the buttons through python-telegram-bot's polling; the replies' texts."""
    signup = TelegramSignup.from_service(h.service, poll_timeout=1)
    before = {chat: len(h.telegram.messages_to(chat)) for chat, _ in presses}
    stop = asyncio.Event()
    task = asyncio.create_task(signup.run(stop))
    try:
        for chat, data in presses:
            h.telegram.user_taps(chat, data)
        for _ in range(500):
            if all(len(h.telegram.messages_to(c)) > before[c] for c, _ in presses):
                break
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    return [h.telegram.messages_to(c)[-1].text for c, _ in presses]


async def line_postback(h: Harness, user: str, data: str) -> str:
    handler = LineSignup(h.service, channel_secret="harness-secret", access_token=LINE_TOKEN,
                         base_url=h.line.url)
    try:
        await handler.handle({"events": [webhook_event("postback", user, data=data)]})
    finally:
        await handler.close()
    replies = [r for r in h.line.requests if r.endpoint == "reply"]
    return str(replies[-1].messages[0]["text"])


def stats(alert_id: int) -> dict[str, Any]:
    return json_lines(bousai("safety", "stats", str(alert_id), "--json").stdout)[0]


def test_an_intensity_6_lower_earthquake_checks_on_the_affected_wards(
        db_url: str, env: dict[str, str]) -> None:
    with harness(db_url) as h:
        seed(h)
        eq = h.submit(quake("eq-1", {"43101": INT.SIX_LOWER, "43102": INT.SIX_LOWER,
                                     "43104": INT.FOUR, "43105": INT.FOUR}),
                      operator="jma", action="auto")
        small = h.submit(quake("eq-2", {"43101": INT.FOUR}), operator="jma", action="auto")
        assert h.run_until_idle()
        x_posts = len(h.x.posts)
        checks = SafetyChecks(h.service)
        assert checks.tick().checks == ()  # not before [safety] delay
        assert checks.tick(soon()).checks == (eq,)  # 震度4 calls for no check
        asked_at = now()
        assert checks.tick(soon()).checks == ()  # once only
        assert h.run_until_idle()

        check = h.telegram.messages_to("7001")[-1]
        assert check.text.splitlines()[0] == \
            "[SAFETY CHECK] Are you safe after the earthquake?"
        assert "Area: Chuo Ward, Higashi Ward" in check.text
        assert buttons(check) == {f"safety:{eq}:safe": "I am safe",
                                  f"safety:{eq}:need_help": "I need help",
                                  f"safety:{eq}:away": "Not in the area"}
        vi = h.telegram.messages_to("7002")[-1]
        assert vi.text.startswith("[XÁC NHẬN AN TOÀN] Bạn có an toàn sau trận động đất không?")
        assert len(h.telegram.messages_to("7003")) == 1  # 南区: the earthquake only
        alice = line_to(h, ALICE)[-1]
        assert alice["text"].startswith("【だいじょうぶですか】じしんの あと、ぶじですか？")
        assert [i["action"]["data"] for i in alice["quickReply"]["items"]] == \
            [f"safety:{eq}:safe", f"safety:{eq}:need_help", f"safety:{eq}:away"]
        assert len(line_to(h, BOB)) == 1  # 北区: the earthquake only
        assert len(h.x.posts) == x_posts  # never on the public timeline
        assert small != eq

        replies = asyncio.run(taps(h, (7001, f"safety:{eq}:safe"),
                                   (7002, f"safety:{eq}:need_help")))
        assert replies[0].startswith("Thank you. We are glad you are safe.")
        help_text = replies[1]
        for number in ("119", "110", "050-3816-2787", "080-4275-4489"):
            assert number in help_text
        assert "Japan Visitor Hotline" in help_text
        assert "Kumamoto Support Center for Foreign Residents" in help_text

        s = stats(eq)
        assert (s["asked"], s["answered"], s["no_answer"]) == (3, 2, 1)
        assert s["by_ward"] == {"43101": {"safe": 1, "need_help": 0, "away": 0},
                                "43102": {"safe": 0, "need_help": 1, "away": 0}}
        assert s["by_language"]["vi"]["need_help"] == 1
        listed = json_lines(bousai("safety", "list", str(eq), "--status", "need-help",
                                   "--json").stdout)
        assert [(r["channel"], r["user_id"], r["ward"], r["language"], r["status"])
                for r in listed] == [("telegram", "7002", "43102", "vi", "need-help")]

        # One reminder, after the delay, to the one who has not answered (on LINE).
        later = asked_at + dt.timedelta(minutes=31)
        assert checks.tick(asked_at + dt.timedelta(minutes=5)).reminders == ()
        assert checks.tick(later).reminders == (eq,)
        assert checks.tick(later + dt.timedelta(minutes=30)).reminders == ()
        answered = [len(h.telegram.messages_to(c)) for c in ("7001", "7002")]
        assert h.run_until_idle()
        reminder = line_to(h, ALICE)[-1]
        assert reminder["text"].startswith("【もう いちど】まだ こたえを もらって いません。")
        assert [len(h.telegram.messages_to(c)) for c in ("7001", "7002")] == answered

        assert asyncio.run(line_postback(h, ALICE, f"safety:{eq}:away")).startswith(
            "ありがとうございます。ここに いないことを かきました。")
        assert stats(eq)["by_ward"]["43102"]["away"] == 1
        asyncio.run(line_postback(h, ALICE, f"safety:{eq}:safe"))  # changed
        s = stats(eq)
        assert s["by_ward"]["43102"] == {"safe": 1, "need_help": 1, "away": 0}
        assert s["answered"] == 3

        bousai("subscribers", "erase", "--channel", "telegram", "--user-id", "7002")
        assert json_lines(bousai("safety", "list", str(eq), "--json").stdout) == []
        assert stats(eq)["answers"]["need_help"] == 0
        audit = json_lines(bousai("audit", "--json").stdout)
        answers = [a for a in audit if a["action"] == "safety_answer"]
        assert len(answers) == 4 and all("7002" not in str(a) for a in answers)


def test_a_cancellation_in_time_means_no_check(db_url: str, env: dict[str, str]) -> None:
    with harness(db_url) as h:
        seed(h)
        eq = h.submit(quake("eq-wrong", {"43101": INT.SIX_LOWER}), operator="jma",
                      action="auto")
        cancel = h.service.lifecycle.follow_up(eq, MsgType.CANCEL, text_ja="誤報です。")
        h.service.lifecycle.submit(cancel, operator="jma", action="auto")
        assert SafetyChecks(h.service).tick(soon()).checks == ()


def test_operator_slips_get_one_line(db_url: str, env: dict[str, str]) -> None:
    bousai("db", "upgrade")
    err = bousai("safety", "stats", "99", expect=1).stderr
    assert err.count("error: ") == 1 and "99" in err
    err = bousai("safety", "list", "1", "--status", "helpme", expect=1).stderr
    assert "need-help, safe, away, all" in err


def test_safety_settings_are_checked() -> None:
    config = load_config()
    settings = load_safety(config)
    assert [t.name for t in settings.triggers] == [
        "earthquake-5-lower-in-city", "tsunami-warning-city-coasts", "evacuation-level-4-or-5"]
    raw = dict(config.raw)
    for bad, key in (({"triggers": [{"name": "x", "min_intensity": "9"}]},
                      "safety.triggers[0].min_intensity"),
                     ({"triggers": [{"name": "x", "wards": ["99999"]}]},
                      "safety.triggers[0].wards"),
                     ({"reminder": "30m"}, "safety.reminder"),
                     ({"desks": [{"phone": ""}]}, "safety.desks[0]")):
        broken = dataclasses.replace(config, raw={**raw, "safety": bad})
        with pytest.raises(ConfigError) as exc:
            load_safety(broken)
        assert key in str(exc.value)


def test_the_next_report_of_the_same_earthquake_asks_only_the_wards_not_yet_asked(
        db_url: str, env: dict[str, str]) -> None:
    with harness(db_url) as h:
        seed(h)
        first = quake("eq-51", {"43101": INT.SIX_LOWER})  # 震度速報: 中央区 first
        first = dataclasses.replace(first, payload=dataclasses.replace(
            first.payload, event_key="jma:震度速報:20260101000000"))
        then = quake("eq-53", {"43101": INT.SIX_LOWER, "43102": INT.FIVE_LOWER})
        then = dataclasses.replace(then, payload=dataclasses.replace(
            then.payload, event_key="jma:震源・震度情報:20260101000000"))
        a = h.submit(first, operator="jma", action="auto")
        b = h.submit(then, operator="jma", action="auto")
        assert SafetyChecks(h.service).tick(soon()).checks == (a, b)
        assert h.run_until_idle()
    checks = [m for m in h.telegram.sent if m.reply_markup]
    assert sorted(m.chat_id for m in checks) == ["7001", "7002"]  # each asked once
    assert [i["action"]["data"] for m in line_to(h, ALICE) if "quickReply" in m
            for i in m["quickReply"]["items"]][:1] == [f"safety:{b}:safe"]


def test_the_service_loop_sends_the_check_and_reports_ready(db_url: str,
                                                            env: dict[str, str]) -> None:
    with harness(db_url) as h:
        seed(h)
        eq = h.submit(quake("eq-loop", {"43102": INT.SIX_UPPER}), operator="jma",
                      action="auto")
        with h.engine.begin() as conn:  # accepted three minutes ago
            conn.execute(sa.update(alerts).where(alerts.c.id == eq).values(
                created_at=now() - dt.timedelta(minutes=3)))
        woken: list[int] = []

        async def go() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(run_checks(h.service, stop, lambda: woken.append(1)))
            for _ in range(250):
                if woken:
                    break
                await asyncio.sleep(0.02)
            stop.set()
            await asyncio.wait_for(task, 10)

        asyncio.run(go())
        assert woken == [1]
        assert h.service.readiness.evaluate()["safety_checks"].ok
        with h.engine.connect() as conn:
            check = safety_store.find_check(conn, eq)
        assert check is not None and list(check.wards) == ["43102"]
