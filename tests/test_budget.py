"""Before a large send the operator sees LINE's monthly quota and the X budget."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import DEFAULT_CONFIG_PATH
from bot.fakes.line import FakeLine
from bot.fakes.telegram import FakeTelegram
from bot.fakes.x import FakeX
from tests.cli_helpers import bousai, json_lines
from tests.config_helpers import write_config

KEYS = {"api_key": "ck", "api_secret": "cs", "access_token": "1-at", "access_token_secret": "as"}


@pytest.fixture
def platforms(env: dict[str, str], tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeLine, FakeX]]:
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    text = text.split("# " + "-" * 72 + " feeds")[0]
    text = text.replace("[channels.line]\nenabled = false", "[channels.line]\nenabled = true")
    text = text.replace("[channels.x]\nenabled = false\nposts_per_day = 100",
                        "[channels.x]\nenabled = true\nposts_per_day = 3")
    text = text.replace('languages = ["ja-easy", "en"]', 'languages = ["ja", "en"]')
    cfg = write_config(tmp_path, text)
    with FakeTelegram(token="1:t") as tg, FakeLine(token="lt", monthly_limit=500) as line, \
            FakeX(**KEYS) as x:
        for k, v in {"BOUSAI_CONFIG": str(cfg), "TELEGRAM_BOT_TOKEN": "1:t",
                     "TELEGRAM_API_BASE_URL": tg.url, "LINE_CHANNEL_ACCESS_TOKEN": "lt",
                     "LINE_CHANNEL_SECRET": "ls", "LINE_API_BASE_URL": line.url,
                     "X_API_KEY": KEYS["api_key"], "X_API_SECRET": KEYS["api_secret"],
                     "X_ACCESS_TOKEN": KEYS["access_token"],
                     "X_ACCESS_TOKEN_SECRET": KEYS["access_token_secret"],
                     "X_API_BASE_URL": x.url}.items():
            monkeypatch.setenv(k, v)
        bousai("db", "upgrade")
        yield line, x


def test_line_shortfall_and_x_budget_are_reported(platforms: tuple[FakeLine, FakeX],
                                                  tmp_path: Path) -> None:
    line, _x = platforms
    line.set_usage(450)
    rows = "".join(f'{{"channel": "line", "user_id": "U{i:032x}", "language": "en"}}\n'
                   for i in range(80))
    path = tmp_path / "subs.jsonl"
    path.write_text(rows, encoding="utf-8")
    bousai("subscribers", "import", str(path))
    result = bousai("alert", "issue", "--kind", "city_notice", "--text-ja", "断水のお知らせ。" * 40,
                    "--text-en", "Water outage notice. " * 40, "--yes", "--json", "--test",
                    "--operator", "a")
    plan = json_lines(result.stdout)[0]["plan"]
    # A drill goes only to test subscribers (none here) and never to public X posts.
    assert plan["line"]["recipients"] == 0 and "quota" not in plan["line"]
    assert "warning" not in result.stderr
    result = bousai("alert", "issue", "--kind", "city_notice", "--text-ja",
                    "断水のお知らせ。" * 40, "--text-en", "Water outage notice. " * 40, "--yes",
                    "--json", "--operator", "a")
    plan = json_lines(result.stdout)[0]["plan"]
    assert plan["line"]["quota"] == {"limit": 500, "used": 450, "needed": 80, "after": -30,
                                     "shortfall": 30}
    assert "30 recipients would not be reached" in result.stderr
    # Two languages on X, each text long enough for a thread of more than 3 posts:
    # X's 24-hour cap of 3 leaves both out, and the plan says so.
    x = plan["x"]["budget"]
    assert x["last_24h"]["cap"] == 3 and x["by_language"]["ja"]["posts"] > 3
    assert x["posted"] == [] and set(x["skipped"]) == {"ja", "en"}
    assert "X: over budget — posting nothing; NOT posted: ja (x budget: over X's 24-hour " \
           "post cap)" in result.stderr
