"""The console's forms: issue, approve, reject, update, lift and cancel, each through
the same code as the CLI (:mod:`bot.lifecycle.manual`, :mod:`bot.lifecycle.plan`,
the :class:`~bot.lifecycle.Lifecycle`).

Each sending form has two steps, like the CLI's question: *preview* prepares the
alert and shows the one screen (:func:`bot.lifecycle.plan.review`) with every
rendering and the fields carried along; *send* prepares it again from those fields
and submits it. Nothing is stored by a preview.

    GET  /issue                      the form
    POST /issue                      step=preview → the screen; step=send → submitted
    GET  /alerts/{id}/approve        the screen before approving (approver)
    POST /alerts/{id}/approve        approve (the issuer's own approval is refused)
    POST /alerts/{id}/reject         reject, with a reason (approver)
    GET  /alerts/{id}/follow-up      ?type=update|lift|cancel: the form (issuer)
    POST /alerts/{id}/follow-up      step=preview | step=send
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.console.app import Console, Page
from bot.domain import Kind, MsgType
from bot.errors import ValidationError
from bot.lifecycle import Prepared
from bot.lifecycle.manual import ManualRequest, build_alert, emergency_override, submit
from bot.lifecycle.plan import Review, preview_rows, review
from bot.timeinput import MAX_EXPIRES, MAX_SEND_AT, SEND_AT_SLACK, parse_when

FOLLOW_UPS = {"update": MsgType.UPDATE, "lift": MsgType.LIFT, "cancel": MsgType.CANCEL}
TEXT_FIELDS = ("kind", "text_ja", "text_en", "headline_ja", "wards", "level", "shelter",
               "action", "utility", "severity", "reason", "send_at", "expires")
FLAGS = ("test", "allow_fallback", "emergency", "over_budget")
MAX_TEXT = 5000


def _flag(page: Page, name: str) -> bool:
    return page.field(name) in ("1", "on", "true")


def _fields(page: Page) -> dict[str, Any]:
    values: dict[str, Any] = {k: page.field(k) for k in TEXT_FIELDS}
    values.update({k: _flag(page, k) for k in FLAGS})
    return values


def _check_lengths(values: dict[str, Any]) -> None:
    for k, v in values.items():
        if isinstance(v, str) and len(v) > MAX_TEXT:
            raise ValidationError(f"{k} is longer than {MAX_TEXT} characters; shorten it")


def _level(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise ValidationError(f"--level {text!r}: give 3, 4 or 5")
    return int(text)


def _request(values: dict[str, Any]) -> ManualRequest:
    _check_lengths(values)
    wards = tuple(w for w in (p.strip() for p in values["wards"].replace("、", ",")
                              .split(",")) if w)
    texts = {"en": values["text_en"]} if values["text_en"] else {}
    # the CLI's windows: a send at most 30 days ahead, an expiry at most a year
    send_at = parse_when(values["send_at"], "--send-at", latest=MAX_SEND_AT,
                         what="schedule a send", slack=SEND_AT_SLACK)
    expires = parse_when(values["expires"], "--expires", latest=MAX_EXPIRES,
                         what="an alert may hold", not_before=send_at)
    return ManualRequest(kind=values["kind"], text_ja=values["text_ja"], wards=wards,
                         headline_ja=values["headline_ja"], texts=texts,
                         level=_level(values["level"]), shelter=values["shelter"] or None,
                         action=values["action"] or None, utility=values["utility"] or None,
                         severity=values["severity"] or None, test=values["test"],
                         send_at=send_at, expires=expires)


def _screen(page: Page, prepared: Prepared, shown: Review, **values: Any) -> Response:
    rows = preview_rows(prepared)
    return page.render("confirm.html", lines=shown.lines, refusal=shown.refusal,
                       renderings=rows, **values)


async def issue_form(page: Page) -> Response:
    return page.render("issue.html", values=dict.fromkeys(TEXT_FIELDS, "") | {"kind":
                       "city_notice"}, kinds=[k.value for k in Kind], message="")


async def issue(page: Page) -> Response:
    values = _fields(page)
    svc, who = page.svc, page.account.name

    def prepare() -> tuple[Prepared, Review, str | None]:
        alert = build_alert(svc, _request(values))
        override = emergency_override(svc, alert, values["emergency"],
                                      values["reason"] or None)
        prepared = dataclasses.replace(svc.lifecycle.prepare(alert),
                                       over_budget=values["over_budget"])
        return prepared, review(svc, prepared, allow_fallback=values["allow_fallback"]), \
            override

    try:
        prepared, shown, override = await page.run(prepare)
    except (ValidationError, LookupError, PermissionError) as exc:
        return page.render("issue.html", 400, values=values, kinds=[k.value for k in Kind],
                           message=str(exc))
    if page.field("step") != "send" or shown.refusal:
        return _screen(page, prepared, shown, action_url="/issue", values=values,
                       question="send")
    done = await page.run(submit, svc, prepared, operator=who, override=override)
    return RedirectResponse(f"/alerts/{done.id}?done=submitted", status_code=303)


async def approve_screen(page: Page) -> Response:
    alert_id = int(page.request.path_params["id"])
    svc = page.svc
    prepared = await page.run(svc.lifecycle.prepare_approval, alert_id, page.account.name)
    shown = await page.run(review, svc, prepared, refuse_untranslated=False)
    return _screen(page, prepared, shown, action_url=f"/alerts/{alert_id}/approve",
                   values={k: False for k in FLAGS}, question="approve", alert_id=alert_id)


async def approve(page: Page) -> Response:
    alert_id = int(page.request.path_params["id"])
    svc, who = page.svc, page.account.name

    def go() -> None:
        prepared = dataclasses.replace(svc.lifecycle.prepare_approval(alert_id, who),
                                       over_budget=_flag(page, "over_budget"))
        svc.lifecycle.approve(alert_id, who, prepared=prepared)

    await page.run(go)
    return RedirectResponse(f"/alerts/{alert_id}?done=approved", status_code=303)


async def reject(page: Page) -> Response:
    alert_id = int(page.request.path_params["id"])
    reason = page.field("reason")
    if not reason:
        raise ValidationError("give a reason for rejecting (kept in the audit log)")
    await page.run(page.svc.lifecycle.reject, alert_id, page.account.name, reason)
    return RedirectResponse(f"/alerts/{alert_id}?done=rejected_done", status_code=303)


def _follow_up_type(page: Page) -> str:
    kind = page.field("type") or page.request.query_params.get("type", "")
    if kind not in FOLLOW_UPS:
        raise ValidationError("type must be update, lift or cancel")
    return kind


async def follow_up_form(page: Page) -> Response:
    alert_id = int(page.request.path_params["id"])
    return page.render("follow_up.html", alert_id=alert_id, type=_follow_up_type(page),
                       values=dict.fromkeys(TEXT_FIELDS, ""), message="")


async def follow_up(page: Page) -> Response:
    alert_id = int(page.request.path_params["id"])
    kind = _follow_up_type(page)
    values = _fields(page)
    svc, who = page.svc, page.account.name
    msg_type = FOLLOW_UPS[kind]
    if not values["text_ja"] and msg_type is not MsgType.UPDATE:
        return page.render("follow_up.html", 400, alert_id=alert_id, type=kind,
                           values=values, message="--text-ja is empty: say in Japanese "
                           + ("why it was sent in error" if kind == "cancel"
                              else "what has ended"))

    def prepare() -> tuple[Prepared, Review]:
        _check_lengths(values)
        texts = {"en": values["text_en"]} if values["text_en"] else {}
        prepared = svc.lifecycle.follow_up(alert_id, msg_type, text_ja=values["text_ja"],
                                           texts=texts)
        return prepared, review(svc, prepared, allow_fallback=values["allow_fallback"],
                                refuse_untranslated=msg_type is not MsgType.CANCEL)

    prepared, shown = await page.run(prepare)
    if page.field("step") != "send" or shown.refusal:
        return _screen(page, prepared, shown, action_url=f"/alerts/{alert_id}/follow-up",
                       values=values | {"type": kind}, question="send", alert_id=alert_id)
    done = await page.run(submit, svc, prepared, operator=who)
    return RedirectResponse(f"/alerts/{done.id}?done=submitted", status_code=303)


def routes(console: Console) -> list[Route]:
    return [
        Route("/issue", console.page(issue_form, "issue"), methods=["GET"]),
        Route("/issue", console.page(issue, "issue"), methods=["POST"]),
        Route("/alerts/{id:int}/approve", console.page(approve_screen, "approve"),
              methods=["GET"]),
        Route("/alerts/{id:int}/approve", console.page(approve, "approve"), methods=["POST"]),
        Route("/alerts/{id:int}/reject", console.page(reject, "approve"), methods=["POST"]),
        Route("/alerts/{id:int}/follow-up", console.page(follow_up_form, "issue"),
              methods=["GET"]),
        Route("/alerts/{id:int}/follow-up", console.page(follow_up, "issue"),
              methods=["POST"]),
    ]
