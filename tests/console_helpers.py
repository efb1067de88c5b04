"""Shared by the console's tests: a service with operator accounts, and a signed-in
Starlette test client."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot import accounts
from bot.config import DEFAULT_CONFIG_PATH
from bot.console.app import create_console
from bot.console.settings import ConsoleSettings
from bot.runtime import build_service
from bot.service import Service
from tests.cli_helpers import bousai
from tests.config_helpers import write_config

SECRET = "console-cookie-key-for-tests-0123456789abcdef"
PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def console_config(tmp_path: Path, *, two_person_rule: bool = True, line: bool = False
                   ) -> Path:
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    text = text.split("# " + "-" * 72 + " feeds")[0]  # no feeds
    if line:
        text = text.replace("[channels.line]\nenabled = false", "[channels.line]\nenabled = true")
    if not two_person_rule:
        text = text.replace("two_person_rule = true", "two_person_rule = false")
    return write_config(tmp_path, text)


def make_service(env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 **kw: bool) -> Service:
    monkeypatch.setenv("BOUSAI_CONFIG", str(console_config(tmp_path, **kw)))
    bousai("db", "upgrade")
    svc = build_service()
    for name, role in (("tanaka", accounts.Role.APPROVER), ("suzuki", accounts.Role.APPROVER),
                       ("sato", accounts.Role.ISSUER), ("ito", accounts.Role.VIEWER)):
        accounts.add(svc.engine, name, PASSWORD, role)
    return svc


def client(svc: Service) -> TestClient:
    app = create_console(svc, ConsoleSettings(secret=SECRET))
    return TestClient(app, base_url="http://127.0.0.1:8081", follow_redirects=False)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(c: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign ``name`` in; returns the session's CSRF token."""
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"csrf": token, "name": name, "password": password,
                               "next": "/"})
    assert r.status_code == 303, r.text
    return csrf_of(c.get("/").text)


def seed_subscribers(tmp_path: Path, n: int, ward: str = "43101") -> None:
    path = tmp_path / "subs.jsonl"
    path.write_text("".join(json.dumps({"channel": "telegram", "user_id": str(910000 + i),
                                        "language": ("ja", "en", "vi")[i % 3],
                                        "wards": ward}) + "\n" for i in range(n)),
                    encoding="utf-8")
    bousai("subscribers", "import", str(path))
