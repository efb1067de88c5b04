"""``bousai alert …``: issue, preview, approve, reject, update, cancel, list, show."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import typer

from bot.cli.common import (
    echo_json,
    fail,
    handle_errors,
    operator_name,
    parse_since,
    service_context,
)
from bot.domain import Alert, AlertStatus, Kind, MsgType, Severity, Urgency
from bot.domain import payloads as pl
from bot.errors import ValidationError

app = typer.Typer(help="Alerts: issue, preview, approve, reject, update, cancel, list, show.",
                  no_args_is_help=True)

EVACUATION_SEVERITY = {3: Severity.SEVERE, 4: Severity.SEVERE, 5: Severity.EXTREME}


def _when(value: str | None, name: str) -> dt.datetime | None:
    """ISO time (JST if no zone) or an offset from now: +30m, +2h, 1d."""
    if not value:
        return None
    v = value.lstrip("+")
    units = {"m": 60, "h": 3600, "d": 86400}
    if v[-1:] in units and v[:-1].isdigit():
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(v[:-1]) * units[v[-1]])
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"{name} {value!r}: use an ISO time or an offset such as +2h") from None
    if parsed.tzinfo is None:
        from bot.render.timefmt import JST

        parsed = parsed.replace(tzinfo=JST)
    return parsed


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


def _preview_rows(svc: Any, alert: Alert) -> list[dict[str, Any]]:
    rows = []
    for language in svc.config.languages:
        text, mt = svc.renderer.text(alert, language)
        for name, plan in svc.plans.items():
            r = svc.renderer.fit(text, language, name, plan.limits, machine_translated=mt)
            rows.append({"language": language, "channel": name, "parts": list(r.parts),
                         "length": list(r.lengths), "limit": r.limit,
                         "machine_translated": r.machine_translated})
    return rows


def _delivery_plan(svc: Any, alert: Alert, rows: list[dict[str, Any]] | None = None
                   ) -> dict[str, Any]:
    """Recipients and requests per channel, time at the platform's limit, and the
    budgets: LINE quota after the send, X posts against the 24-hour budget."""
    from bot.budget import line_quota, x_budget

    counts = svc.plan(alert)
    out: dict[str, Any] = {}
    for name, by_lang in counts.items():
        limits = svc.plans[name].limits
        recipients = sum(by_lang.values())
        per = limits.recipients_per_request
        requests = sum(-(-n // per) for n in by_lang.values())
        if name == "x" and rows is not None:  # a thread is several posts
            requests = sum(len(r["parts"]) for r in rows
                           if r["channel"] == "x" and r["language"] in by_lang)
        out[name] = {"recipients": recipients, "by_language": by_lang, "requests": requests,
                     "seconds_at_limit": round(requests / limits.requests_per_second, 1)}
    if "line" in out and out["line"]["recipients"]:
        out["line"]["quota"] = line_quota(svc, out["line"]["recipients"])
    if "x" in out and out["x"]["requests"]:
        out["x"]["budget"] = x_budget(svc, out["x"]["requests"])
    return out


def _print_preview(rows: list[dict[str, Any]], plan: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    table = Table(title="Preview", show_lines=True)
    for col in ("lang", "channel", "parts", "length/limit", "MT", "text (first part)"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["language"], r["channel"], str(len(r["parts"])),
                      ", ".join(str(n) for n in r["length"]) + f" / {r['limit']}",
                      "yes" if r["machine_translated"] else "", r["parts"][0][:160])
    console.print(table)
    plan_t = Table(title="Delivery plan")
    for col in ("channel", "recipients", "requests", "time at limit (s)", "languages"):
        plan_t.add_column(col)
    for name, p in plan.items():
        plan_t.add_row(name, str(p["recipients"]), str(p["requests"]),
                       str(p["seconds_at_limit"]),
                       " ".join(f"{k}:{v}" for k, v in sorted(p["by_language"].items())))
    console.print(plan_t)


@app.command("issue")
@handle_errors
def issue(
    kind: Annotated[str, typer.Option(help="city_notice, evacuation, shelter, lifeline, drill, "
                                           "earthquake, tsunami, weather_warning, …")],
    text_ja: Annotated[str, typer.Option("--text-ja", help="the message in Japanese")],
    ward: Annotated[list[str] | None, typer.Option(
        help="ward code; repeat for several; omit for the whole city")] = None,
    headline_ja: Annotated[str, typer.Option("--headline-ja")] = "",
    text_en: Annotated[str | None, typer.Option("--text-en", help="official English text")
                       ] = None,
    text: Annotated[list[str] | None, typer.Option(
        help="official text in another language, LANG=TEXT; repeat")] = None,
    level: Annotated[int | None, typer.Option(help="evacuation level 3, 4 or 5")] = None,
    shelter: Annotated[str | None, typer.Option(help="shelter id (kind shelter)")] = None,
    action: Annotated[str | None, typer.Option(help="shelter: opened/closed")] = None,
    utility: Annotated[str | None, typer.Option(help="lifeline: water/power/gas/supplies")
                       ] = None,
    severity: Annotated[str | None, typer.Option(help="minor, moderate, severe, extreme")
                        ] = None,
    expires: Annotated[str | None, typer.Option(help="ISO time or +6h")] = None,
    send_at: Annotated[str | None, typer.Option("--send-at", help="ISO time or +30m")] = None,
    test: Annotated[bool, typer.Option(help="drill: only test subscribers, marked as a test")
                    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")
                   ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    operator: Annotated[str | None, typer.Option(help="who issues (default BOUSAI_OPERATOR "
                                                      "or the OS user)")] = None,
) -> None:
    """Issue an alert. Shows a preview in every language and channel and the delivery
    plan, then asks for confirmation (unless --yes). Manual non-test alerts wait for a
    second operator's approval when the two-person rule is on.

    Example: bousai alert issue --kind evacuation --level 4 --ward 43101 --ward 43104
    --text-ja "白川の水位が上がっています。避難してください。" --yes
    """
    try:
        k = Kind(kind)
    except ValueError:
        raise fail(f"unknown kind {kind!r}; kinds: {', '.join(x.value for x in Kind)}") \
            from None
    who = operator_name(operator)
    with service_context() as svc:
        wards = svc.config.check_wards(ward) if ward and ward != ["all"] else \
            svc.config.ward_codes
        payload: pl.AlertPayload = pl.CityNotice() if k is Kind.CITY_NOTICE else pl.FreeText()
        sev = Severity.parse(severity) if severity else Severity.MODERATE
        if k is Kind.EVACUATION:
            if level not in (3, 4, 5):
                raise ValidationError("--kind evacuation needs --level 3, 4 or 5")
            payload = pl.Evacuation(level=pl.EvacuationLevel(level))
            sev = Severity.parse(severity) if severity else EVACUATION_SEVERITY[level]
        if k is Kind.SHELTER:
            if not shelter or action not in ("opened", "closed"):
                raise ValidationError("--kind shelter needs --shelter ID and --action "
                                      "opened|closed")
            payload = pl.Shelter(shelter_ids=(shelter,), action=pl.ShelterAction(action))
        if k is Kind.LIFELINE:
            if utility not in ("water", "power", "gas", "supplies"):
                raise ValidationError("--kind lifeline needs --utility "
                                      "water|power|gas|supplies")
            payload = pl.Lifeline(utility=pl.Utility(utility))
        now = dt.datetime.now(dt.UTC)
        alert = Alert(
            source="cli", source_id=str(uuid.uuid4()), kind=k, severity=sev,
            urgency=Urgency.IMMEDIATE if sev >= Severity.SEVERE else Urgency.EXPECTED,
            wards=wards, headline_ja=headline_ja, body_ja=text_ja,
            texts=_texts(text, text_en), payload=payload, issued=now,
            expires=_when(expires, "--expires"), send_at=_when(send_at, "--send-at"),
            test=test or k is Kind.DRILL)
        rows = _preview_rows(svc, alert)
        plan = _delivery_plan(svc, alert, rows)
        from bot.budget import warnings_for

        for warning in warnings_for(plan):
            typer.echo(f"warning: {warning}", err=True)
        if not yes:
            _print_preview(rows, plan)
            if not typer.confirm("Send this alert?", default=False, err=True):
                raise fail("not issued", code=1)
        two_person = bool(svc.config.section("operators").get("two_person_rule", True))
        alert_id = svc.submit(alert, operator=who, action="auto",
                              require_approval=two_person and not alert.test)
        with svc.engine.connect() as conn:
            from bot.store.alerts import get_row

            status = get_row(conn, alert_id).status
    if as_json:
        echo_json({"id": alert_id, "status": status, "kind": k.value, "wards": list(wards),
                   "test": alert.test, "operator": who, "plan": plan})
    else:
        typer.echo(f"alert {alert_id} {status}"
                   + (" — a second operator must run `bousai alert approve "
                      f"{alert_id}`" if status == AlertStatus.PENDING_APPROVAL.value else ""))


@app.command("approve")
@handle_errors
def approve(alert_id: int, operator: Annotated[str | None, typer.Option()] = None) -> None:
    """Approve an alert that waits for a second operator (or one that ingest held).

    Example: BOUSAI_OPERATOR=tanaka bousai alert approve 12
    """
    with service_context() as svc:
        svc.approve(alert_id, operator_name(operator))
    typer.echo(f"alert {alert_id} approved and queued")


@app.command("reject")
@handle_errors
def reject(alert_id: int, reason: Annotated[str, typer.Option(help="why")],
           operator: Annotated[str | None, typer.Option()] = None) -> None:
    """Reject an alert that waits for approval.

    Example: bousai alert reject 12 --reason "wrong ward"
    """
    with service_context() as svc:
        svc.reject(alert_id, operator_name(operator), reason)
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

    with service_context() as svc, svc.engine.connect() as conn:
        rows = list_rows(conn, status=status, since=parse_since(since))
    for r in rows:
        if as_json:
            echo_json(_alert_json(r))
        else:
            typer.echo(f"{r.id:>5} {r.status:<17} {r.kind:<16} {r.msg_type:<7} "
                       f"{'TEST ' if r.test else ''}{(r.headline_ja or r.body_ja)[:50]}")


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
    for key in ("id", "status", "kind", "msg_type", "severity", "wards", "test", "headline_ja",
                "body_ja", "issued", "expires", "send_at", "created_by", "approved_by"):
        typer.echo(f"{key:>12}: {data[key]}")
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
        rows = [r for r in _preview_rows(svc, alert)
                if (language is None or r["language"] == language)
                and (channel is None or r["channel"] == channel)]
        if as_json:
            echo_json(rows)
            return
        for r in rows:
            mt = " machine-translated" if r["machine_translated"] else ""
            typer.echo(f"── {r['language']} / {r['channel']} ({len(r['parts'])} part(s), "
                       f"{', '.join(map(str, r['length']))} of {r['limit']}){mt}")
            for p in r["parts"]:
                typer.echo(p)
                typer.echo("")


def _follow_up(svc: Any, alert_id: int, msg_type: MsgType, text_ja: str,
               texts: dict[str, str], operator: str, reason: str | None) -> int:
    from bot.store.alerts import get_row, row_to_alert

    with svc.engine.connect() as conn:
        row = get_row(conn, alert_id)
    original = row_to_alert(row)
    if row.msg_type != MsgType.ALERT.value:
        raise ValidationError(f"alert {alert_id} is itself a {row.msg_type}; "
                              f"use the original alert's id ({row.ref_alert_id})")
    if row.status in (AlertStatus.CANCELLED.value, AlertStatus.REJECTED.value):
        raise ValidationError(f"alert {alert_id} is already {row.status}")
    if row.status in (AlertStatus.PENDING_APPROVAL.value, AlertStatus.HELD.value):
        raise ValidationError(
            f"alert {alert_id} has not gone out ({row.status}): reject it with `bousai alert "
            f"reject {alert_id} --reason …` and issue a corrected one")
    follow = Alert(
        source="cli", source_id=str(uuid.uuid4()), kind=original.kind, msg_type=msg_type,
        references=original.source_id, severity=original.severity, urgency=original.urgency,
        wards=original.wards, headline_ja=original.headline_ja,
        body_ja=text_ja or original.body_ja, texts=texts or dict(original.texts),
        payload=original.payload,
        issued=dt.datetime.now(dt.UTC), test=original.test)
    if msg_type is MsgType.UPDATE:
        new_id: int = svc.submit(follow, operator=operator, action="auto")
        return new_id
    from bot.store.alerts import audit, set_status

    # A cancellation: the follow-up and the original's new status in one transaction.
    with svc.engine.begin() as conn:
        new_id = svc.submit_in(conn, follow, operator=operator, action="auto")
        set_status(conn, alert_id, AlertStatus.CANCELLED, reason=reason)
        audit(conn, operator, "cancel", alert_id=alert_id, reason=reason, follow_up=new_id)
    return new_id


@app.command("update")
@handle_errors
def update(
    alert_id: int,
    text_ja: Annotated[str, typer.Option("--text-ja", help="the corrected Japanese text")],
    text_en: Annotated[str | None, typer.Option("--text-en")] = None,
    text: Annotated[list[str] | None, typer.Option(help="LANG=TEXT; repeat")] = None,
    operator: Annotated[str | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Send a correction of an alert: stops its pending sends and follows up where it
    went out (Telegram reply, X reply, LINE message naming the original).

    Example: bousai alert update 12 --text-ja "避難所は西区役所に変更しました。"
    """
    with service_context() as svc:
        new_id = _follow_up(svc, alert_id, MsgType.UPDATE, text_ja, _texts(text, text_en),
                            operator_name(operator), None)
    if as_json:
        echo_json({"id": new_id, "updates": alert_id})
    else:
        typer.echo(f"alert {new_id} corrects alert {alert_id}")


@app.command("cancel")
@handle_errors
def cancel(
    alert_id: int,
    reason: Annotated[str, typer.Option(help="why (Japanese; shown to recipients)")],
    operator: Annotated[str | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Cancel an alert: stops its pending sends and tells those already reached.

    Example: bousai alert cancel 12 --reason "誤って送信しました"
    """
    from bot.store.alerts import audit, get_row, set_status

    who = operator_name(operator)
    with service_context() as svc:
        with svc.engine.connect() as conn:
            row = get_row(conn, alert_id)
        if row.status in (AlertStatus.PENDING_APPROVAL.value, AlertStatus.HELD.value):
            with svc.engine.begin() as conn:
                set_status(conn, alert_id, AlertStatus.CANCELLED, reason=reason)
                audit(conn, who, "cancel", alert_id=alert_id, reason=reason)
            new_id = None
        else:
            new_id = _follow_up(svc, alert_id, MsgType.CANCEL, reason, {}, who, reason)
    if as_json:
        echo_json({"cancelled": alert_id, "follow_up": new_id})
    else:
        typer.echo(f"alert {alert_id} cancelled"
                   + (f"; follow-up alert {new_id} queued" if new_id else ""))
