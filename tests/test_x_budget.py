"""X within its price: one post per configured language, a thread only when the text
does not fit, posts and money counted from the ledger against the daily (city day),
monthly (city month) and 24-hour budgets, the cost in the plan, and what happens
beyond the budget. Real tweepy client against the fake X server."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot import xbudget
from bot.config import DEFAULT_CONFIG_PATH, load_config
from bot.db.schema import audit_log, deliveries
from bot.domain import Alert, Kind, MsgType, Severity, Urgency
from bot.errors import ConfigError
from bot.fakes.x import FakeX
from bot.render import load_renderer
from bot.render.split import split_text
from channels.base import LengthUnit
from channels.lengths import weighted_length
from channels.x import XChannel
from tests.cli_helpers import bousai, json_lines
from tests.config_helpers import write_config
from tests.harness import Harness, harness

PRICED = {"price_per_post": 0.015, "price_per_post_with_url": 0.2}


def _alert(h: Harness, **kw: Any) -> Alert:
    values: dict[str, Any] = dict(
        source="cli", source_id=str(uuid.uuid4()), kind=Kind.CITY_NOTICE,
        severity=Severity.SEVERE, urgency=Urgency.IMMEDIATE, wards=h.config.ward_codes,
        body_ja="避難所を開設しました。", texts={"en": "Shelters are open.",
                                                "vi": "Đã mở nơi sơ tán."},
        issued=dt.datetime.now(dt.UTC))
    values.update(kw)
    return Alert(**values)


def _x_rows(h: Harness, alert_id: int) -> dict[str, Any]:
    with h.engine.connect() as conn:
        return {r.language: r for r in conn.execute(sa.select(deliveries).where(
            deliveries.c.alert_id == alert_id, deliveries.c.channel == "x"))}


def _spent(h: Harness, now: dt.datetime | None = None) -> xbudget.Spent:
    with h.engine.connect() as conn:
        return xbudget.spent(conn, h.config, now=now)


# ------------------------------------------------------------------ posts and threads


def test_one_post_per_configured_language(db_url: str) -> None:
    with harness(db_url, x_languages=("ja", "en", "vi"), x_options=PRICED) as h:
        alert_id = h.submit(_alert(h), operator="test", action="auto")
        assert h.run_until_idle()
        # One post each, none a reply: no thread when the text fits.
        assert len(h.x.posts) == 3 and all(p.in_reply_to is None for p in h.x.posts)
        assert all(weighted_length(p.text) <= 280 for p in h.x.posts)
        rows = _x_rows(h, alert_id)
        assert set(rows) == {"ja", "en", "vi"}
        assert all(r.status == "sent" and len(r.message_ids) == 1 for r in rows.values())
        spent = _spent(h)
        assert spent.day.posts == spent.month.posts == spent.last_24h.posts == 3
        assert spent.day.cost == pytest.approx(0.045)


def test_a_thread_only_when_the_text_does_not_fit(db_url: str) -> None:
    long_ja = "白川の水位が上がっています。高い所へ避難してください。" * 12
    with harness(db_url, x_languages=("ja", "en"), x_options=PRICED) as h:
        alert_id = h.submit(_alert(h, body_ja=long_ja), operator="test", action="auto")
        assert h.run_until_idle()
        rows = _x_rows(h, alert_id)
        ja_ids, en_ids = rows["ja"].message_ids, rows["en"].message_ids
        assert len(en_ids) == 1 and len(ja_ids) > 1
        thread = h.x.thread(ja_ids[0])
        assert [p.id for p in thread] == ja_ids
        assert all(weighted_length(p.text) <= 280 for p in thread)
        assert thread[0].text.endswith(f"(1/{len(ja_ids)})")
        # every part of a thread is a post, and a billed one
        assert len(h.x.posts) == len(ja_ids) + 1
        spent = _spent(h)
        assert spent.day.posts == len(h.x.posts)
        assert spent.day.cost == pytest.approx(0.015 * len(h.x.posts))


def test_the_splitter_makes_one_part_whenever_the_text_fits() -> None:
    def m(s: str) -> int:
        return weighted_length(s)

    assert split_text("あ" * 140, 280, m) == ["あ" * 140]  # CJK weighs 2: exactly 280
    assert len(split_text("あ" * 141, 280, m)) == 2
    assert split_text("a" * 280, 280, m) == ["a" * 280]
    url = "https://www.city.kumamoto.jp/bousai"  # a link weighs 23 whatever its length
    text = "a" * (280 - 24) + " " + url
    assert weighted_length(text) == 280 and split_text(text, 280, m) == [text]
    config = load_config()
    limits = XChannel.limits_for({})
    assert limits.length_unit is LengthUnit.WEIGHTED and limits.text_limit == 280
    r = load_renderer(config).fit(("避難所を開設しました。" * 13)[:140], "ja", "x", limits,
                                  machine_translated=False)
    assert r.lengths == (280,) and len(r.parts) == 1


def test_a_part_with_a_link_is_priced_as_one() -> None:
    pricing = XChannel.pricing_for(PRICED)
    assert pricing.cost(["plain", "see https://example.org/x"]) == pytest.approx(0.215)
    assert XChannel.pricing_for({"price_per_post": 0.01}).price("https://a.b") == 0.01
    assert XChannel.pricing_for({}).cost(["x"]) == 0.0


# ------------------------------------------------------------------ budget windows


def _set_sent_at(h: Harness, ids_at: dict[int, dt.datetime]) -> None:
    with h.engine.begin() as conn:
        for delivery_id, at in ids_at.items():
            conn.execute(sa.update(deliveries).where(deliveries.c.id == delivery_id)
                         .values(sent_at=at))


def test_budgets_count_the_city_day_and_month_from_the_ledger(db_url: str) -> None:
    utc = dt.UTC
    with harness(db_url, x_languages=("ja", "en", "vi"),
                 x_options=PRICED | {"daily_budget": 1.0, "monthly_budget": 2.0}) as h:
        alert_id = h.submit(_alert(h), operator="test", action="auto")
        assert h.run_until_idle()
        rows = _x_rows(h, alert_id)
        # 23:59 JST on 30 November, 00:00 JST on 1 December, 00:30 JST on 1 November
        _set_sent_at(h, {rows["ja"].id: dt.datetime(2026, 11, 30, 14, 59, tzinfo=utc),
                         rows["en"].id: dt.datetime(2026, 11, 30, 15, 0, tzinfo=utc),
                         rows["vi"].id: dt.datetime(2026, 10, 31, 15, 30, tzinfo=utc)})
        # Noon JST on 1 December: the day and the month both began at 15:00 UTC
        # (a UTC day would hold nothing yet); the last 24 hours hold two.
        s = _spent(h, dt.datetime(2026, 12, 1, 3, 0, tzinfo=utc))
        assert (s.day.posts, s.month.posts, s.last_24h.posts) == (1, 1, 2)
        # Half a minute before midnight JST on 30 November: November (JST) holds the
        # post of 00:30 JST on 1 November, which UTC would put in October.
        s = _spent(h, dt.datetime(2026, 11, 30, 14, 59, 30, tzinfo=utc))
        assert (s.day.posts, s.month.posts, s.last_24h.posts) == (1, 2, 1)
        assert s.month.cost == pytest.approx(0.03)
        left = xbudget.left(h.config, s)
        assert left["day"] == pytest.approx(1.0 - 0.015)
        assert left["month"] == pytest.approx(2.0 - 0.03)
        assert left["posts_24h"] == 100 - 1


def test_queued_posts_count_as_spent(db_url: str) -> None:
    with harness(db_url, x_languages=("ja", "en"), x_options=PRICED) as h:
        h.submit(_alert(h), operator="test", action="auto")
        s = _spent(h)
        assert s.day.posts == 0 and s.day.queued_posts == 2
        assert xbudget.left(h.config, s)["posts_24h"] == 98


# ------------------------------------------------------------------ over the budget


def test_beyond_the_budget_the_first_languages_go_and_the_rest_are_in_the_ledger(
        db_url: str) -> None:
    # Money for two posts a day: ja and en fit, vi does not.
    with harness(db_url, x_languages=("ja", "en", "vi"),
                 x_options=PRICED | {"daily_budget": 0.03}) as h:
        alert_id = h.submit(_alert(h), operator="test", action="auto")
        rows = _x_rows(h, alert_id)
        assert rows["vi"].status == "cancelled"
        assert rows["vi"].last_error == "x budget: over the daily budget"
        assert rows["ja"].status == rows["en"].status == "pending"
        assert h.run_until_idle()
        assert len(h.x.posts) == 2
        # The next alert finds the day spent: nothing is posted, all three are recorded.
        second = h.submit(_alert(h), operator="test", action="auto")
        assert h.run_until_idle()
        assert len(h.x.posts) == 2
        assert {r.status for r in _x_rows(h, second).values()} == {"cancelled"}


def test_a_language_that_does_not_fit_leaves_room_for_the_next(db_url: str) -> None:
    long_ja = "白川の水位が上がっています。高い所へ避難してください。" * 12
    with harness(db_url, x_languages=("ja", "en"), x_options={"posts_per_day": 2}) as h:
        alert_id = h.submit(_alert(h, body_ja=long_ja), operator="test", action="auto")
        rows = _x_rows(h, alert_id)
        assert rows["ja"].last_error == "x budget: over X's 24-hour post cap"
        assert rows["en"].status == "pending"


def test_over_budget_sends_everything_and_is_audited(db_url: str) -> None:
    with harness(db_url, x_languages=("ja", "en", "vi"),
                 x_options=PRICED | {"daily_budget": 0.0}) as h:
        prepared = dataclasses.replace(h.service.lifecycle.prepare(_alert(h)),
                                       over_budget=True)
        alert_id = h.service.lifecycle.submit(prepared, operator="tanaka").id
        assert h.run_until_idle()
        assert len(h.x.posts) == 3
        with h.engine.connect() as conn:
            audit = conn.execute(sa.select(audit_log).where(
                audit_log.c.action == "x_over_budget")).one()
        assert audit.operator == "tanaka" and audit.alert_id == alert_id
        assert audit.details["beyond_budget"] == ["en", "ja", "vi"]


def test_follow_ups_to_posts_out_are_posted_beyond_the_budget(db_url: str) -> None:
    with harness(db_url, x_languages=("ja", "en"),
                 x_options=PRICED | {"daily_budget": 0.03}) as h:
        original = h.submit(_alert(h), operator="test", action="auto")
        assert h.run_until_idle()
        from bot.store.alerts import get_alert

        with h.engine.connect() as conn:
            ref = get_alert(conn, original).source_id
        cancel = h.submit(_alert(h, msg_type=MsgType.CANCEL, references=ref,
                                 body_ja="誤報でした。", texts={"en": "That was an error."}),
                          operator="test", action="auto")
        assert {r.status for r in _x_rows(h, cancel).values()} == {"pending"}
        assert h.run_until_idle()
        posts = {p.id: p for p in h.x.posts}
        assert len(posts) == 4
        assert sum(1 for p in posts.values() if p.in_reply_to in posts) == 2


# ------------------------------------------------------------------ the operator's view


@pytest.fixture
def x_cli(env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
          ) -> Iterator[FakeX]:
    keys = {"api_key": "ck", "api_secret": "cs", "access_token": "1-at",
            "access_token_secret": "as"}
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    text = text.replace("[channels.x]\nenabled = false", "[channels.x]\nenabled = true")
    text = text.replace("daily_budget = 3.00", "daily_budget = 0.02")
    text = text.replace("two_person_rule = true", "two_person_rule = false")
    text = text.replace('languages = ["ja-easy", "en"]', 'languages = ["ja", "en"]')
    cfg = write_config(tmp_path, text)
    with FakeX(**keys) as x:
        for k, v in {"BOUSAI_CONFIG": str(cfg), "X_API_KEY": keys["api_key"],
                     "X_API_SECRET": keys["api_secret"], "X_ACCESS_TOKEN": keys["access_token"],
                     "X_ACCESS_TOKEN_SECRET": keys["access_token_secret"],
                     "X_API_BASE_URL": x.url, "TELEGRAM_BOT_TOKEN": "1:t",
                     "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9"}.items():
            monkeypatch.setenv(k, v)
        bousai("db", "upgrade")
        yield x


def _issue(*extra: str, expect: int = 0) -> Any:
    return bousai("alert", "issue", "--kind", "city_notice", "--text-ja", "断水のお知らせ。",
                  "--text-en", "Water outage notice.", "--allow-fallback", "--yes", "--json",
                  "--operator", "a", *extra, expect=expect)


def test_the_plan_shows_the_cost_and_what_the_budget_leaves_out(x_cli: FakeX) -> None:
    result = _issue()
    plan = json_lines(result.stdout)[0]["plan"]["x"]
    budget = plan["budget"]
    # 0.02 USD a day at 0.015 a post: Japanese goes, English does not.
    assert budget["posted"] == ["ja"] and list(budget["skipped"]) == ["en"]
    assert budget["posts"] == 1 and budget["cost"] == pytest.approx(0.015)
    assert plan["requests"] == 1 and plan["by_language"] == {"ja": 1}
    assert "x cost    1 post, 0.015 USD (ja 1)" in result.stderr
    assert "x budget  today 0.000 of 0.020 USD spent or queued, 0.020 left; " \
           "this month 0.000 of 30.000 USD, 30.000 left; last 24 h 0 of 100 posts" \
           in result.stderr
    assert "NOT posted: en (x budget: over the daily budget)" in result.stderr
    assert "--over-budget" in result.stderr
    # The ledger keeps English as left out by the budget.
    out = bousai("x", "budget", "--json")
    report = json_lines(out.stdout)[0]
    assert report["day"]["queued_posts"] == 1
    assert report["day"]["left"] == pytest.approx(0.005)
    assert report["month"]["budget"] == 30.0 and report["last_24h"]["cap"] == 100


def test_over_budget_flag_shows_and_is_audited(x_cli: FakeX) -> None:
    result = _issue("--over-budget")
    budget = json_lines(result.stdout)[0]["plan"]["x"]["budget"]
    assert budget["posted"] == ["ja", "en"] and budget["over_budget"]
    assert budget["cost"] == pytest.approx(0.03)
    assert "x cost    2 posts, 0.030 USD (ja 1, en 1)" in result.stderr
    assert "--over-budget: posting en beyond the budget" in result.stderr
    audit = bousai("audit", "--json")
    assert any(r["action"] == "x_over_budget" for r in json_lines(audit.stdout))


def test_x_budget_command_in_words(x_cli: FakeX) -> None:
    result = bousai("x", "budget")
    lines = result.stdout.splitlines()
    assert lines[0] == ("x         enabled; languages ja, en; 0.015 USD per post, 0.200 USD "
                        "with a link")
    assert lines[1].startswith("today     0 posts, 0.000 USD; budget 0.020 USD, left 0.020 USD")
    assert lines[3] == "24 hours  0 posts; X's cap 100, left 100"


# ------------------------------------------------------------------ bad settings


@pytest.mark.parametrize(("old", "new", "message"), [
    ("daily_budget = 3.00", "daily_budget = -1",
     "channels.x.daily_budget in {path}: must be an amount in USD (a number, 0 or more), "
     "got -1"),
    ('languages = ["ja-easy", "en"]', 'languages = ["ja-easy", "fr"]',
     "channels.x.languages in {path}: 'fr' is not in languages.enabled"),
    ('languages = ["ja-easy", "en"]', 'languages = ["en", "en"]',
     "channels.x.languages in {path}: lists a language twice"),
    ('languages = ["ja-easy", "en"]', 'languages = "en"',
     "channels.x.languages in {path}: must be a list of language tags, got 'en'"),
    ("price_per_post = 0.015\nprice_per_post_with_url = 0.200\n", "",
     "channels.x.daily_budget in {path}: is an amount in USD and needs price_per_post "
     "(USD per post) to count posts against it"),
    ("price_per_post = 0.015\n", "",
     "channels.x.price_per_post_with_url in {path}: needs price_per_post as well"),
    ("monthly_budget = 30.00", "monthly_budget = 1.00",
     "channels.x.daily_budget in {path}: (3) is more than monthly_budget (1)"),
    ("price_per_post = 0.015", 'price_per_post = "cheap"',
     "channels.x.price_per_post in {path}: must be an amount in USD (a number, 0 or more), "
     "got 'cheap'"),
])
def test_a_bad_x_setting_is_one_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    assert old in text
    path = write_config(tmp_path, text.replace(old, new))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == message.format(path=path)
    assert "\n" not in str(err.value)


def test_a_bad_x_setting_stops_the_cli_with_one_line(env: dict[str, str], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    monkeypatch.setenv("BOUSAI_CONFIG", str(write_config(
        tmp_path, text.replace("monthly_budget = 30.00", "monthly_budget = -5"))))
    result = bousai("x", "budget", expect=1)
    assert result.stderr.strip().count("\n") == 0
    assert "channels.x.monthly_budget" in result.stderr and "got -5" in result.stderr


def test_over_budget_counts_where_a_second_operator_approves(x_cli: FakeX) -> None:
    config = Path(os.environ["BOUSAI_CONFIG"])
    config.write_text(config.read_text(encoding="utf-8").replace(
        "two_person_rule = false", "two_person_rule = true"), encoding="utf-8")
    alert_id = json_lines(_issue().stdout)[0]["id"]
    shown = bousai("alert", "approve", str(alert_id), "--operator", "b", "--yes",
                   "--over-budget")
    assert "x cost    2 posts, 0.030 USD (ja 1, en 1)" in shown.stderr
    audit = [r for r in json_lines(bousai("audit", "--json").stdout)
             if r["action"] == "x_over_budget"]
    assert len(audit) == 1 and audit[0]["operator"] == "b"
    assert audit[0]["alert_id"] == alert_id


def test_two_alerts_accepted_at_once_share_one_budget(db_url: str) -> None:
    # Money for two posts; two alerts of two languages each, accepted by two threads
    # at the same moment: two posts are planned in all, never four.
    with harness(db_url, x_languages=("ja", "en"),
                 x_options=PRICED | {"daily_budget": 0.03}) as h:
        prepared = [h.service.lifecycle.prepare(_alert(h)) for _ in range(2)]
        barrier = threading.Barrier(2)
        ids: list[int] = []

        def accept(p: Any) -> None:
            barrier.wait()
            ids.append(h.service.lifecycle.submit(p, operator="test").id)

        threads = [threading.Thread(target=accept, args=(p,)) for p in prepared]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = [r.status for i in ids for r in _x_rows(h, i).values()]
        assert sorted(statuses) == ["cancelled", "cancelled", "pending", "pending"]
