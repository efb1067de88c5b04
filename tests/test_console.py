"""The operators' console over HTTP (Starlette's test client against the real app,
database and lifecycle): sign-in, sessions, CSRF, roles, the two-step forms, the
two-person rule, mistakes, pages and their words in both languages."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from bot import accounts
from bot.console.app import HERE
from bot.console.i18n import EN, JA
from bot.db.schema import alerts, audit_log
from bot.runtime import build_service
from bot.service import Service
from tests.cli_helpers import bousai
from tests.console_helpers import PASSWORD, client, csrf_of, make_service, seed_subscribers, sign_in


@pytest.fixture
def svc(env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
        ) -> Iterator[Service]:
    service = make_service(env, tmp_path, monkeypatch)
    seed_subscribers(tmp_path, 6)
    yield service
    service.engine.dispose()


def _alert(svc: Service, alert_id: int) -> sa.Row:  # type: ignore[type-arg]
    with svc.engine.connect() as conn:
        return conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).one()


def _alert_count(svc: Service) -> int:
    with svc.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(alerts)).scalar_one())


ISSUE = {"kind": "city_notice", "wards": "中央区",
         "text_ja": "中央区で断水しています。給水所は中央区役所です。",
         "text_en": "Water is off in Chuo Ward. Water is handed out at the Chuo Ward Office."}


def _issue(c: TestClient, token: str, **fields: str) -> int:
    form = {"csrf": token, **ISSUE, **fields}
    preview = c.post("/issue", data=form | {"step": "preview"})
    assert preview.status_code == 200, preview.text
    sent = c.post("/issue", data=form | {"step": "send"})
    assert sent.status_code == 303, sent.text
    found = re.fullmatch(r"/alerts/(\d+)\?done=submitted", sent.headers["location"])
    assert found, sent.headers["location"]
    return int(found.group(1))


def test_sign_in_session_and_sign_out(svc: Service) -> None:
    c = client(svc)
    first = c.get("/alerts/1?status=failed")
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=/alerts/1%3Fstatus%3Dfailed"
    token = csrf_of(c.get("/login").text)
    wrong = c.post("/login", data={"csrf": token, "name": "tanaka", "password": "nope" * 4})
    assert wrong.status_code == 401
    unknown = c.post("/login", data={"csrf": token, "name": "nobody", "password": "nope" * 4})
    assert unknown.status_code == 401
    # the same words whether the name exists or not
    message = re.compile(r'<p class="error" role="alert">([^<]+)</p>')
    assert message.search(wrong.text).group(1) == message.search(unknown.text).group(1)
    assert "tanaka" not in c.cookies.get("bousai_console", "")
    token = sign_in(c, "tanaka")
    now = c.get("/")
    assert now.status_code == 200 and '<b id="operator">tanaka</b>' in now.text
    assert "(approver)" in now.text
    # the cookie is signed: a changed one is no session at all
    cookie = c.cookies["bousai_console"]
    forged = client(svc)
    forged.cookies.set("bousai_console", cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA")
                                                        else "BBBB"))
    assert forged.get("/").status_code == 303
    copied = client(svc)
    copied.cookies.set("bousai_console", cookie)
    assert copied.get("/").status_code == 200
    assert c.post("/logout", data={}).status_code == 403  # no token: still signed in
    assert c.get("/").status_code == 200
    assert c.post("/logout", data={"csrf": token}).headers["location"] == "/login"
    assert c.get("/").status_code == 303


def test_sign_in_goes_back_only_to_the_console(svc: Service) -> None:
    c = client(svc)
    token = csrf_of(c.get("/login").text)
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        r = c.post("/login", data={"csrf": token, "name": "ito", "password": PASSWORD,
                                   "next": target})
        assert r.headers["location"] == "/", target
        token = csrf_of(c.get("/").text)


def test_every_form_needs_its_csrf_token(svc: Service) -> None:
    c = client(svc)
    token = sign_in(c, "sato")
    before = _alert_count(svc)
    for data in ({}, {"csrf": "forged" + token[6:]}):
        r = c.post("/issue", data=ISSUE | {"step": "send"} | data)
        assert r.status_code == 403
        assert "reload the page" in r.text
    assert _alert_count(svc) == before
    # and the sign-in form too: no token, no attempt
    other = client(svc)
    r = other.post("/login", data={"name": "sato", "password": PASSWORD})
    assert r.status_code == 403
    assert other.get("/").status_code == 303


def test_roles(svc: Service) -> None:
    viewer = client(svc)
    token = sign_in(viewer, "ito")
    assert viewer.get("/").status_code == 200
    refused = viewer.get("/issue")
    assert refused.status_code == 403
    assert "ito is a viewer; this needs the role issuer or approver" in refused.text
    assert viewer.post("/issue", data=ISSUE | {"csrf": token, "step": "send"}
                       ).status_code == 403
    assert 'href="/issue"' not in viewer.get("/").text
    issuer = client(svc)
    token = sign_in(issuer, "sato")
    alert_id = _issue(issuer, token)
    refused = issuer.post(f"/alerts/{alert_id}/approve", data={"csrf": token})
    assert refused.status_code == 403 and "needs the role approver" in refused.text
    assert _alert(svc, alert_id).status == "pending_approval"


def test_issue_then_approve_by_a_second_operator(svc: Service) -> None:
    tanaka, suzuki = client(svc), client(svc)
    t_token, s_token = sign_in(tanaka, "tanaka"), sign_in(suzuki, "suzuki")
    form = ISSUE | {"csrf": t_token, "step": "preview"}
    preview = tanaka.post("/issue", data=form)
    # the CLI's screen: what, where, recipients per channel
    assert "what      city_notice" in preview.text
    assert "where     中央区 Chuo Ward" in preview.text
    assert 'data-language="vi"' in preview.text and 'data-language="en"' in preview.text
    assert ISSUE["text_en"] in preview.text
    assert _alert_count(svc) == 0  # a preview stores nothing
    alert_id = _issue(tanaka, t_token)
    row = _alert(svc, alert_id)
    assert (row.status, row.created_by, tuple(row.wards)) == ("pending_approval", "tanaka",
                                                                 ("43101",))
    # the issuer's own approval is refused, as at the CLI
    own = tanaka.get(f"/alerts/{alert_id}/approve")
    assert own.status_code == 403 and "two-person rule" in own.text
    own = tanaka.post(f"/alerts/{alert_id}/approve", data={"csrf": t_token})
    assert own.status_code == 403
    assert _alert(svc, alert_id).status == "pending_approval"
    # the Now page lists it at the top for the second operator
    now = suzuki.get("/").text
    assert now.index(f'data-alert="{alert_id}"') < now.index("In force and in progress")
    screen = suzuki.get(f"/alerts/{alert_id}/approve")
    assert screen.status_code == 200 and "telegram  6 recipients" in screen.text
    done = suzuki.post(f"/alerts/{alert_id}/approve", data={"csrf": s_token})
    assert done.headers["location"] == f"/alerts/{alert_id}?done=approved"
    row = _alert(svc, alert_id)
    assert (row.status, row.approved_by) == ("queued", "suzuki")
    with svc.engine.connect() as conn:
        actions = [(r.operator, r.action) for r in conn.execute(
            sa.select(audit_log).where(audit_log.c.alert_id == alert_id)
            .order_by(audit_log.c.id))]
    assert ("tanaka", "submit") in actions or actions[0][0] == "tanaka"
    assert any(op == "suzuki" and "approve" in action for op, action in actions)
    page = suzuki.get(f"/alerts/{alert_id}?status=pending&channel=telegram")
    assert page.status_code == 200
    assert page.text.count('<tr data-status="pending">') == 6


def test_reject_needs_a_reason(svc: Service) -> None:
    tanaka, suzuki = client(svc), client(svc)
    t_token, s_token = sign_in(tanaka, "tanaka"), sign_in(suzuki, "suzuki")
    alert_id = _issue(tanaka, t_token)
    empty = suzuki.post(f"/alerts/{alert_id}/reject", data={"csrf": s_token, "reason": " "})
    assert empty.status_code == 400 and "give a reason" in empty.text
    done = suzuki.post(f"/alerts/{alert_id}/reject", data={"csrf": s_token,
                                                           "reason": "wrong ward"})
    assert done.status_code == 303
    row = _alert(svc, alert_id)
    assert row.status == "rejected" and "wrong ward" in (row.status_reason or "")


@pytest.mark.parametrize(("fields", "said"), [
    ({"text_ja": "  "}, "--text-ja is empty"),
    ({"wards": "nowhere"}, "unknown ward"),
    ({"kind": "evacuation"}, "--kind evacuation needs --level 3, 4 or 5"),
    ({"kind": "volcanic"}, "unknown kind 'volcanic'"),
    ({"level": "4"}, "--level applies only to --kind evacuation"),
    ({"kind": "evacuation", "level": "four"}, "--level 'four': give 3, 4 or 5"),
    ({"emergency": "1", "reason": "levee"}, "--emergency is only for evacuation level 5"),
    ({"kind": "evacuation", "level": "5", "emergency": "1"}, "--emergency needs --reason"),
    ({"reason": "why"}, "--reason goes with --emergency"),
    ({"text_ja": "あ" * 5001}, "text_ja is longer than 5000 characters"),
    ({"send_at": "tomorrow"}, "--send-at 'tomorrow': use an ISO time such as"),
    ({"send_at": "+40d"}, "--send-at '+40d' is more than 30 days ahead"),
    ({"send_at": "2001-01-01T09:00"}, "--send-at '2001-01-01T09:00' is in the past"),
    ({"send_at": "+2h", "expires": "+1h"}, "--expires '+1h' is before --send-at"),
])
def test_mistakes_get_one_line_and_keep_the_form(svc: Service, fields: dict[str, str],
                                                 said: str) -> None:
    c = client(svc)
    token = sign_in(c, "sato")
    r = c.post("/issue", data=ISSUE | {"csrf": token, "step": "send"} | fields)
    assert r.status_code == 400
    problem = re.search(r'id="problem">([^<]+)<', r.text)
    assert problem and said in html.unescape(problem.group(1)), r.text[-800:]
    assert "Traceback" not in r.text
    assert ISSUE["text_en"] in r.text  # what was typed is still there
    assert _alert_count(svc) == 0


def test_untranslated_languages_are_refused_until_allowed(svc: Service) -> None:
    c = client(svc)
    token = sign_in(c, "sato")
    form = {k: v for k, v in ISSUE.items() if k != "text_en"} | {"csrf": token, "step": "send"}
    refused = c.post("/issue", data=form)
    assert refused.status_code == 200 and "in Japanese only" in refused.text
    assert 'id="confirm"' not in refused.text and _alert_count(svc) == 0
    sent = c.post("/issue", data=form | {"allow_fallback": "1"})
    assert sent.status_code == 303 and _alert_count(svc) == 1


def test_follow_ups_from_the_browser(env: dict[str, str], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    svc = make_service(env, tmp_path, monkeypatch, two_person_rule=False)
    seed_subscribers(tmp_path, 3)
    c = client(svc)
    token = sign_in(c, "sato")
    alert_id = _issue(c, token)
    assert _alert(svc, alert_id).status == "queued"
    form = c.get(f"/alerts/{alert_id}/follow-up?type=cancel")
    assert form.status_code == 200
    empty = c.post(f"/alerts/{alert_id}/follow-up", data={"csrf": token, "type": "cancel",
                                                          "step": "send", "text_ja": ""})
    assert empty.status_code == 400 and "why it was sent in error" in empty.text
    preview = c.post(f"/alerts/{alert_id}/follow-up", data={
        "csrf": token, "type": "cancel", "step": "preview", "text_ja": "誤って送信しました。"})
    assert "cancellation (the earlier message was sent in error)" in preview.text
    done = c.post(f"/alerts/{alert_id}/follow-up", data={
        "csrf": token, "type": "cancel", "step": "send", "text_ja": "誤って送信しました。"})
    assert done.status_code == 303
    follow_id = int(re.search(r"/alerts/(\d+)", done.headers["location"]).group(1))
    assert _alert(svc, follow_id).msg_type == "cancel"
    assert _alert(svc, alert_id).status == "cancelled"
    again = c.post(f"/alerts/{alert_id}/follow-up", data={
        "csrf": token, "type": "cancel", "step": "send", "text_ja": "誤って送信しました。"})
    assert again.status_code == 403 and "already cancelled" in again.text
    page = c.get(f"/alerts/{alert_id}").text
    assert f'data-alert="{follow_id}"' in page  # listed with the follow-ups
    bad = c.get(f"/alerts/{alert_id}/follow-up?type=retract")
    assert bad.status_code == 400 and "update, lift or cancel" in bad.text
    svc.engine.dispose()


def test_a_disabled_operator_is_signed_out_at_the_next_click(svc: Service) -> None:
    c = client(svc)
    sign_in(c, "ito")
    assert c.get("/").status_code == 200
    accounts.disable(svc.engine, "ito")
    assert c.get("/").status_code == 303
    assert c.get("/parts/now", headers={"hx-request": "true"}).status_code == 401


def test_pages_render_with_their_headers(svc: Service) -> None:
    c = client(svc)
    sign_in(c, "tanaka")
    for path in ("/", "/parts/now", "/map", "/feeds", "/subscribers", "/issue"):
        r = c.get(path)
        assert r.status_code == 200, (path, r.text[-500:])
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY"
    subscribers = c.get("/subscribers").text
    assert re.search(r'<tr data-ward="43101"><td>Chuo Ward</td><td class="num">6</td>',
                     subscribers), subscribers
    map_page = c.get("/map").text
    assert map_page.count('class="ward"') == 5
    assert c.get("/alerts/99999").status_code == 404
    assert c.get("/healthz").json()["status"] == "ok"
    # the console's listener also answers Prometheus and the readiness probe
    metrics = c.get("/metrics")
    assert metrics.status_code == 200 and "bousai_scrape_database_up 1.0" in metrics.text
    assert "database" in c.get("/readyz").json()["checks"]
    assert c.get("/static/htmx.min.js").status_code == 200


def test_the_interface_speaks_japanese_and_english(svc: Service) -> None:
    used = set()
    for template in (HERE / "templates").glob("*.html"):
        used |= set(re.findall(r't\("([a-z_.0-9]+)"\)', template.read_text(encoding="utf-8")))
    used |= {"waits_second", "approved", "rejected_done", "submitted", "sign_in", "forbidden",
             "not_found", "problem", "send", "approve", "update", "lift", "cancel"}
    assert used <= set(EN), sorted(used - set(EN))
    assert set(EN) == set(JA), sorted(set(EN) ^ set(JA))
    c = client(svc)
    sign_in(c, "tanaka")
    r = c.get("/lang/ja?next=/subscribers")
    assert r.headers["location"] == "/subscribers"
    page = c.get("/subscribers").text
    assert "登録者" in page and 'lang="ja"' in page and "中央区" in page
    english = client(svc)
    assert "Sign in" in english.get("/login").text
    assert "サインイン" in english.get("/login", headers={"accept-language": "ja,en;q=0.5"}
                                  ).text


def test_bousai_web_without_its_cookie_key_says_how_to_set_one(svc: Service) -> None:
    out = bousai("web", "--port", "0", expect=1)
    assert "BOUSAI_CONSOLE_SECRET" in out.stderr and "openssl rand -hex 32" in out.stderr
    assert "Traceback" not in out.stderr


def test_repeated_failed_sign_ins_lock_the_name(svc: Service) -> None:
    c = client(svc)
    token = csrf_of(c.get("/login").text)
    for _ in range(5):
        r = c.post("/login", data={"csrf": token, "name": "suzuki", "password": "guess" * 3})
        assert r.status_code == 401 and "name or password is wrong" in r.text
    locked = c.post("/login", data={"csrf": token, "name": "suzuki", "password": PASSWORD})
    assert locked.status_code == 401 and "too many failed sign-ins" in locked.text
    assert c.get("/").status_code == 303
    # another operator is not locked out by it
    assert sign_in(client(svc), "tanaka")


def test_feeds_and_channels_show_what_is_left_of_lines_quota(
        env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.fakes.line import FakeLine

    with FakeLine(token="line-console-token", monthly_limit=500) as line:
        line.usage = 120
        monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", "line-console-token")
        monkeypatch.setenv("LINE_CHANNEL_SECRET", "line-console-secret")
        monkeypatch.setenv("LINE_API_BASE_URL", line.url)
        svc = make_service(env, tmp_path, monkeypatch, line=True)
        c = client(svc)
        sign_in(c, "ito")
        page = c.get("/feeds").text
        assert re.search(r'<tr data-channel="line">.*?380 of 500 left this month', page,
                         re.S), page
        monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", "revoked-token")
        svc2 = build_service()  # the same database and accounts, the revoked token
        c2 = client(svc2)
        sign_in(c2, "ito")
        refused = c2.get("/feeds")
        assert refused.status_code == 200 and "quota not available" in refused.text
        svc.engine.dispose()
        svc2.engine.dispose()


def test_an_oversized_or_unmeasured_form_is_refused_unread(svc: Service) -> None:
    c = client(svc)
    token = csrf_of(c.get("/login").text)
    big = c.post("/login", content=b"csrf=" + token.encode() + b"&name=" + b"a" * 300_000,
                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413 and "at most 262144 bytes" in big.text

    def chunks() -> Iterator[bytes]:
        yield b"csrf=" + token.encode()
        yield b"&name=tanaka&password=x"

    chunked = c.post("/login", content=chunks(),
                     headers={"content-type": "application/x-www-form-urlencoded"})
    assert chunked.status_code == 413 and "declare its length" in chunked.text
    token = sign_in(c, "sato")
    big = c.post("/issue", content=b"x" * 300_000,
                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413
    assert _alert_count(svc) == 0


def test_a_send_scheduled_from_the_browser(svc: Service) -> None:
    import datetime as dt

    c = client(svc)
    token = sign_in(c, "sato")
    preview = c.post("/issue", data=ISSUE | {"csrf": token, "step": "preview",
                                             "send_at": "+2h", "expires": "+6h"})
    assert "send at   " in preview.text and "expires   " in preview.text
    assert 'name="send_at" value="+2h"' in preview.text  # carried to the send
    alert_id = _issue(c, token, send_at="+2h", expires="+6h")
    row = _alert(svc, alert_id)
    now = dt.datetime.now(dt.UTC)
    assert abs((row.send_at - now).total_seconds() - 7200) < 120
    assert abs((row.expires - now).total_seconds() - 6 * 3600) < 120
