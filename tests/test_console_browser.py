"""The console in a real browser: headless Chromium (Debian's ``chromium``, driven by
Playwright with ``executable_path``; nothing is downloaded) against a real
``bousai run`` whose console listens on a free port, with the fake Bot API as
Telegram. Screenshots of each page go to the test's temporary folder."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.fakes.telegram import FakeTelegram
from tests.cli_helpers import bousai, json_lines
from tests.conftest import FIXTURES
from tests.console_helpers import PASSWORD, SECRET, console_config

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TOKEN = "991:console-browser-token"
BOUSAI = [sys.executable, "-m", "bot.cli"]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]
BLOCKED = "920003"  # a subscriber who blocked the bot: the failed delivery


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise AssertionError(f"Chromium is not installed at {CHROMIUM}: "
                             "apt-get install chromium (.ci/run does)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


class Console:
    def __init__(self, url: str, proc: subprocess.Popen[bytes], log: Path,
                 shots: Path) -> None:
        self.url, self.proc, self.log, self.shots = url, proc, log, shots

    def shot(self, page: Page, name: str) -> None:
        page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


@pytest.fixture
def console(env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[Console]:
    port = _free_port()
    with FakeTelegram(token=TOKEN) as fake:
        fake.block(BLOCKED)
        values = {"BOUSAI_CONFIG": str(console_config(tmp_path)),
                  "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": fake.url,
                  "BOUSAI_HTTP_PORT": "0", "BOUSAI_CONSOLE_PORT": str(port),
                  "BOUSAI_CONSOLE_SECRET": SECRET}
        for k, v in values.items():
            monkeypatch.setenv(k, v)
        bousai("db", "upgrade")
        subs = tmp_path / "subs.jsonl"
        subs.write_text("".join(json.dumps({
            "channel": "telegram", "user_id": str(920000 + i),
            "language": ("ja", "en", "vi", "zh-Hans")[i % 4], "wards": "43101"}) + "\n"
            for i in range(12)), encoding="utf-8")
        bousai("subscribers", "import", str(subs))
        for name in ("tanaka", "suzuki"):
            bousai("operators", "add", name, "--role", "approver", "--password-stdin",
                   input=PASSWORD + "\n")
        log = tmp_path / "run.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([*BOUSAI, "run", "--no-poll-feeds"], env=dict(os.environ),
                                    stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, log.read_text(errors="replace")
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.1)
            shots = tmp_path / "screenshots"
            shots.mkdir()
            yield Console(url, proc, log, shots)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    text = log.read_text(errors="replace")
    assert PASSWORD not in text and SECRET not in text


def sign_in(browser: Browser, console: Console, name: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(console.url + "/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#operator")).to_have_text(name)
    return page


def test_an_alert_from_ingest_to_every_reader_through_the_console(
        browser: Browser, console: Console) -> None:
    quake = FIXTURES / "jma" / "32-35_04_04_240613_VXSE53.xml"
    ingested = json_lines(bousai("ingest", "--json", "--as-of", "2010-01-25T16:20+09:00",
                                 str(quake)).stdout)[0]
    tanaka = sign_in(browser, console, "tanaka")
    # the ingested earthquake is on the Now page
    card = tanaka.locator(f'article[data-alert="{ingested["id"]}"]')
    expect(card).to_contain_text("earthquake")
    console.shot(tanaka, "now")

    # tanaka issues an alert: the form, the screen before sending, then send
    tanaka.get_by_role("link", name="Issue an alert").click()
    tanaka.locator('select[name="kind"]').select_option("city_notice")
    tanaka.locator('input[name="wards"]').fill("中央区")
    tanaka.locator('textarea[name="text_ja"]').fill("中央区で断水しています。給水所は中央区役所です。")
    tanaka.locator('textarea[name="text_en"]').fill("Water is off in Chuo Ward.")
    tanaka.get_by_role("button", name="Preview").click()
    expect(tanaka.locator("#summary")).to_contain_text("telegram  12 recipients")
    expect(tanaka.locator('section[data-language="vi"]').first).to_be_visible()
    console.shot(tanaka, "confirm")
    tanaka.get_by_role("button", name="Send").click()
    expect(tanaka.locator("#done")).to_contain_text("Waits for a second operator")
    alert_id = int(re.search(r"/alerts/(\d+)", tanaka.url).group(1))

    # the issuer cannot approve their own alert
    tanaka.goto(f"{console.url}/alerts/{alert_id}/approve")
    expect(tanaka.locator("#problem")).to_contain_text("two-person rule")
    console.shot(tanaka, "own-approval-refused")

    # a form without its CSRF token is refused, and nothing happens
    tanaka.goto(f"{console.url}/issue")
    tanaka.locator('textarea[name="text_ja"]').fill("テスト")
    tanaka.locator('input[name="csrf"]').evaluate_all("els => els.forEach(e => e.remove())")
    tanaka.get_by_role("button", name="Preview").click()
    expect(tanaka.locator("#problem")).to_contain_text("reload the page")
    console.shot(tanaka, "csrf-refused")

    # suzuki approves it from the Now page and watches it reach everyone
    suzuki = sign_in(browser, console, "suzuki")
    waiting = suzuki.locator(f'article.waiting[data-alert="{alert_id}"]')
    expect(waiting).to_be_visible()
    waiting.locator("a.approve").click()
    expect(suzuki.locator("#summary")).to_contain_text("where     中央区 Chuo Ward")
    suzuki.get_by_role("button", name="Approve and send").click()
    expect(suzuki.locator("#done")).to_contain_text("Approved and queued")
    percent = suzuki.locator(f"#progress-{alert_id} .percent").first
    expect(percent).to_have_text("100%", timeout=20_000)  # htmx refreshes it every 2 s
    row = suzuki.locator(f'#progress-{alert_id} tr[data-channel="telegram"][data-language="ja"]')
    expect(row.locator("td").nth(2)).to_have_text("3")
    console.shot(suzuki, "alert-sent")
    suzuki.goto(console.url + "/")
    expect(suzuki.locator(f'article.active[data-alert="{alert_id}"] .percent')).to_have_text(
        "100%")
    console.shot(suzuki, "now-after")

    # the failed delivery and its reason (the filter lists the statuses there are now)
    suzuki.goto(f"{console.url}/alerts/{alert_id}")
    suzuki.locator('select[name="status"]').select_option("failed")
    suzuki.get_by_role("button", name="Filter").click()
    failed = suzuki.locator('#ledger-table tr[data-status="failed"]')
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text(BLOCKED)
    expect(failed.locator(".error-text")).to_contain_text("blocked")
    console.shot(suzuki, "alert-failed-filter")

    # the ward map: five wards, shelters, coloured by this alert's progress
    suzuki.goto(f"{console.url}/map?alert={alert_id}")
    expect(suzuki.locator("#map svg path.ward")).to_have_count(5)
    expect(suzuki.locator('#map svg path.ward[data-ward="43101"]')).to_have_count(1)
    assert suzuki.locator("#map svg circle.shelter").count() > 200
    console.shot(suzuki, "map")

    for path, name in (("/feeds", "feeds"), ("/subscribers", "subscribers")):
        suzuki.goto(console.url + path)
        expect(suzuki.locator("h1")).to_be_visible()
        console.shot(suzuki, name)

    # on a phone, in Japanese
    phone = browser.new_context(viewport={"width": 390, "height": 844},
                                locale="ja-JP").new_page()
    phone.goto(console.url + "/login")
    expect(phone.get_by_role("button", name="サインイン")).to_be_visible()
    phone.get_by_label("名前").fill("suzuki")
    phone.get_by_label("パスワード").fill(PASSWORD)
    phone.get_by_role("button", name="サインイン").click()
    expect(phone.locator("h2").first).to_contain_text("承認待ち")
    console.shot(phone, "now-phone-ja")
    shots = sorted(p.name for p in console.shots.glob("*.png"))
    assert len(shots) == 11, shots
