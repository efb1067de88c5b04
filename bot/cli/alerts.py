"""``bousai alert …``: issue, preview, approve, reject, update, lift, cancel, list, show."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

import typer

from bot.cli.common import (
    MAX_EXPIRES,
    MAX_SEND_AT,
    SEND_AT_SLACK,
    echo_json,
    fail,
    handle_errors,
    jst,
    one_of,
    operator_name,
    parse_since,
    parse_when,
    service_context,
)
from bot.cli.summary import confirm, preview_rows, print_full_preview, submitted
from bot.domain import AlertStatus, Severity, Urgency
from bot.lifecycle.manual import (
    ManualRequest,
    build_alert,
    check_options,
    emergency_override,
    parse_kind,
    submit,
)

app = typer.Typer(help="Alerts: issue, preview, approve, reject, update, cancel, list, show.",
                  no_args_is_help=True)


def _texts(pairs: list[str] | None, text_en: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or []:
        lang, sep, text = pair.partition("=")
        if not sep or not lang or not text:
            raise fail(f"--text {pair!r}: use LANG=TEXT, e.g. --text vi='Mất nước ở Chuo'")
        out[lang.strip()] = text
    if text_en:
        out["en"] = text_en
    return out


YES = Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")]
PREVIEW = Annotated[bool, typer.Option("--preview", help="also show every text in full")]
ALLOW_FALLBACK = Annotated[bool, typer.Option(
    "--allow-fallback", help="send the Japanese text with a note to languages that have no "
                             "translation")]
JSON = Annotated[bool, typer.Option("--json", help="print the result as JSON")]
OVER_BUDGET = Annotated[bool, typer.Option(
    "--over-budget", help="post to X in every configured language even beyond the daily "
                          "or monthly budget (recorded in the audit log); it counts where "
                          "the alert is accepted: at approve when a second operator "
                          "approves it")]
OPERATOR = Annotated[str | None, typer.Option(help="who does this (default BOUSAI_OPERATOR "
                                                   "or the OS user)")]


@app.command("issue")
@handle_errors
def issue(
    kind: Annotated[str, typer.Option(help="city_notice, evacuation, shelter, lifeline, drill, "
                                           "earthquake, tsunami, weather_warning, …")],
    text_ja: Annotated[str, typer.Option("--text-ja", help="the message in Japanese")],
    ward: Annotated[list[str] | None, typer.Option(
        help="ward code or name (43101, 中央区, chuo, Chuo-ku; `bousai wards` lists "
             "them); repeat for several; omit or 'all' for the whole city")] = None,
    headline_ja: Annotated[str, typer.Option("--headline-ja")] = "",
    text_en: Annotated[str | None, typer.Option("--text-en", help="official English text")
                       ] = None,
    text: Annotated[list[str] | None, typer.Option(
        help="official text in another language, LANG=TEXT; repeat")] = None,
    level: Annotated[int | None, typer.Option(help="evacuation level 3, 4 or 5")] = None,
    shelter: Annotated[str | None, typer.Option(
        help="shelter id or name (kind shelter; `bousai shelters search TEXT`)")] = None,
    action: Annotated[str | None, typer.Option(help="shelter: opened/closed")] = None,
    utility: Annotated[str | None, typer.Option(help="lifeline: water/power/gas/supplies")
                       ] = None,
    severity: Annotated[str | None, typer.Option(help="minor, moderate, severe, extreme")
                        ] = None,
    expires: Annotated[str | None, typer.Option(help="ISO time or +6h")] = None,
    send_at: Annotated[str | None, typer.Option("--send-at", help="ISO time or +30m")] = None,
    test: Annotated[bool, typer.Option(help="drill: only test subscribers, marked as a test")
                    ] = False,
    yes: YES = False,
    preview: PREVIEW = False,
    allow_fallback: ALLOW_FALLBACK = False,
    emergency: Annotated[bool, typer.Option(
        "--emergency", help="send without a second operator (evacuation level 5, tsunami "
                            "or emergency warning; needs emergency_override in the config "
                            "and --reason)")] = False,
    reason: Annotated[str | None, typer.Option(help="why, with --emergency")] = None,
    over_budget: OVER_BUDGET = False,
    as_json: JSON = False,
    operator: OPERATOR = None,
) -> None:
    """Issue an alert. Shows one screen first (what, where, recipients per channel and
    language, machine translation, time at the platforms' limits, warnings) and asks
    for confirmation (unless --yes); --preview adds every text in full. Manual non-test
    alerts wait for a second operator's approval when the two-person rule is on.

    Example: bousai alert issue --kind evacuation --level 4 --ward 中央区 --ward 南区
    --text-ja "白川の水位が上がっています。避難してください。"
    --text-en "The Shirakawa River is rising. Evacuate now." --yes
    """
    k = parse_kind(kind)
    check_options(k, text_ja=text_ja, level=level, shelter=shelter, action=action,
                  utility=utility)
    send_at_t = parse_when(send_at, "--send-at", latest=MAX_SEND_AT, what="schedule a send",
                           slack=SEND_AT_SLACK)
    expires_at = parse_when(expires, "--expires", latest=MAX_EXPIRES, what="an alert may hold",
                            not_before=send_at_t)
    who = operator_name(operator)
    with service_context() as svc:
        alert = build_alert(svc, ManualRequest(
            kind=kind, text_ja=text_ja, wards=tuple(ward or ()), headline_ja=headline_ja,
            texts=_texts(text, text_en), level=level, shelter=shelter, action=action,
            utility=utility, severity=severity, expires=expires_at, send_at=send_at_t,
            test=test))
        override = emergency_override(svc, alert, emergency, reason)
        prepared = dataclasses.replace(svc.lifecycle.prepare(alert), over_budget=over_budget)
        plan = confirm(svc, prepared, yes=yes, question="Send this alert?", preview=preview,
                       allow_fallback=allow_fallback)
        done = submit(svc, prepared, operator=who, override=override)
        alert_id, status = done.id, done.status.value
    if as_json:
        echo_json({"id": alert_id, "status": status, "kind": k.value, "wards": list(alert.wards),
                   "test": alert.test, "operator": who, "plan": plan})
    else:
        typer.echo(submitted(done, f"alert {alert_id} {status}"))


@app.command("approve")
@handle_errors
def approve(alert_id: int, operator: OPERATOR = None, yes: YES = False,
            preview: PREVIEW = False, over_budget: OVER_BUDGET = False) -> None:
    """Approve an alert that waits for a second operator (or one that ingest held):
    shows the same screen as at issue, with the Japanese and English text, then asks.

    Example: BOUSAI_OPERATOR=tanaka bousai alert approve 12 --yes
    """
    who = operator_name(operator)
    with service_context() as svc:
        prepared = dataclasses.replace(svc.lifecycle.prepare_approval(alert_id, who),
                                       over_budget=over_budget)
        for language in ("ja", "en"):
            shown = next((r for r in prepared.renderings if r.language == language), None)
            if shown is not None:
                typer.echo(f"── {language}\n" + "\n".join(shown.parts), err=True)
        confirm(svc, prepared, yes=yes, question=f"Approve and send alert {alert_id}?",
                preview=preview, refuse_untranslated=False)
        prepared = svc.lifecycle.approve(alert_id, who, prepared=prepared)
    recipients = sum(sum(v.values()) for v in prepared.counts.values())
    typer.echo(f"alert {alert_id} approved and queued: {prepared.alert.kind.value} "
               f"{prepared.alert.msg_type.value}, {recipients} recipients")


@app.command("reject")
@handle_errors
def reject(alert_id: int, reason: Annotated[str, typer.Option(help="why")],
           operator: OPERATOR = None) -> None:
    """Reject an alert that waits for approval.

    Example: bousai alert reject 12 --reason "wrong ward"
    """
    with service_context() as svc:
        svc.lifecycle.reject(alert_id, operator_name(operator), reason)
    typer.echo(f"alert {alert_id} rejected")


def _alert_json(row: Any) -> dict[str, Any]:
    m = dict(row._mapping)
    m["severity"] = Severity(m["severity"]).name.lower()
    m["urgency"] = Urgency(m["urgency"]).name.lower()
    return m


@app.command("list")
@handle_errors
def list_(
    status: Annotated[list[str] | None, typer.Option(help="filter by status; repeat")] = None,
    since: Annotated[str | None, typer.Option(help="ISO time or 6h/2d")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List alerts, newest first.

    Example: bousai alert list --status pending_approval
    """
    from bot.store.alerts import list_rows

    for st in status or ():
        one_of(st, [s.value for s in AlertStatus], "--status")
    with service_context() as svc, svc.engine.connect() as conn:
        rows = list_rows(conn, status=status, since=parse_since(since))
    for r in rows:
        if as_json:
            echo_json(_alert_json(r))
        else:
            typer.echo(f"{r.id:>5} {jst(r.created_at)} {r.status:<17} {r.kind:<16} "
                       f"{r.msg_type:<7} {'TEST ' if r.test else ''}"
                       f"{(r.headline_ja or r.body_ja)[:50]}")


@app.command("show")
@handle_errors
def show(alert_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one alert and its delivery progress.

    Example: bousai alert show 12 --json
    """
    from bot.store.alerts import get_row

    with service_context() as svc:
        with svc.engine.connect() as conn:
            row = get_row(conn, alert_id)
        data = _alert_json(row) | {"deliveries": svc.progress(alert_id)}
    if as_json:
        echo_json(data)
        return
    for key in ("id", "status", "status_reason", "kind", "msg_type", "severity", "wards",
                "test", "headline_ja", "body_ja", "issued", "expires", "send_at", "created_at",
                "created_by", "approved_by"):
        value = data[key]
        if isinstance(value, dt.datetime) or key in ("issued", "expires", "send_at"):
            value = jst(value)
        typer.echo(f"{key:>13}: {value if value is not None else '-'}")
    for ch, by_lang in data["deliveries"].items():
        for lang, st in sorted(by_lang.items()):
            typer.echo(f"{ch:>12} {lang:<8} " + " ".join(
                f"{k}={v['recipients']}" for k, v in sorted(st.items())))


@app.command("preview")
@handle_errors
def preview(
    alert_id: int,
    language: Annotated[str | None, typer.Option()] = None,
    channel: Annotated[str | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show every rendering of an alert with its length against the channel's limit.

    Example: bousai alert preview 12 --language vi --channel x
    """
    from bot.store.alerts import get_alert

    with service_context() as svc:
        with svc.engine.connect() as conn:
            alert = get_alert(conn, alert_id)
        one_of(language, svc.config.languages, "--language")
        one_of(channel, list(svc.plans), "--channel")
        rows = [r for r in preview_rows(svc.lifecycle.prepare(alert))
                if (language is None or r["language"] == language)
                and (channel is None or r["channel"] == channel)]
        if as_json:
            echo_json(rows)
            return
        print_full_preview(rows, err=False)
