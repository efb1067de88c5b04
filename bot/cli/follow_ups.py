"""``bousai alert update|lift|cancel``: follow-ups of an alert that went out, each
previewed, confirmed and (under the two-person rule) approved like an issue."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.alerts import ALLOW_FALLBACK, JSON, OPERATOR, PREVIEW, YES, _texts
from bot.cli.common import echo_json, handle_errors, operator_name, service_context
from bot.cli.summary import confirm, submitted
from bot.domain import AlertStatus, MsgType
from bot.lifecycle import Submitted
from bot.lifecycle.manual import submit


def _follow_up(msg_type: MsgType, alert_id: int, text_ja: str, texts: dict[str, str],
               operator: str | None, yes: bool, preview: bool = False,
               allow_fallback: bool = False) -> Submitted:
    """Prepare, preview, confirm and submit a follow-up under the two-person rule."""
    who = operator_name(operator)
    with service_context() as svc:
        prepared = svc.lifecycle.follow_up(alert_id, msg_type, text_ja=text_ja, texts=texts)
        confirm(svc, prepared, yes=yes, question=f"Send this {msg_type.value} of alert "
                f"{alert_id}?", preview=preview, allow_fallback=allow_fallback,
                refuse_untranslated=msg_type is not MsgType.CANCEL)
        done = submit(svc, prepared, operator=who)
        return done


def _report(done: Submitted, alert_id: int, as_json: bool, key: str, verb: str) -> None:
    if as_json:
        echo_json({"id": done.id, key: alert_id, "status": done.status.value})
    else:
        typer.echo(submitted(done, f"alert {done.id} {verb} alert {alert_id}"))


follow_ups = typer.Typer()


@follow_ups.command("update")
@handle_errors
def update(
    alert_id: int,
    text_ja: Annotated[str, typer.Option("--text-ja", help="the corrected Japanese text")],
    text_en: Annotated[str | None, typer.Option("--text-en")] = None,
    text: Annotated[list[str] | None, typer.Option(help="LANG=TEXT; repeat")] = None,
    operator: OPERATOR = None,
    yes: YES = False,
    preview: PREVIEW = False,
    allow_fallback: ALLOW_FALLBACK = False,
    as_json: JSON = False,
) -> None:
    """Send a correction of an alert: stops its pending sends and follows up where it
    went out (Telegram reply, X reply, LINE message naming the original). Previewed
    and, under the two-person rule, sent once a second operator approves.

    Example: bousai alert update 12 --text-ja "避難所は西区役所に変更しました。"
    """
    done = _follow_up(MsgType.UPDATE, alert_id, text_ja, _texts(text, text_en), operator, yes,
                      preview, allow_fallback)
    _report(done, alert_id, as_json, "updates", "corrects")


@follow_ups.command("lift")
@handle_errors
def lift(
    alert_id: int,
    text_ja: Annotated[str, typer.Option("--text-ja", help="what has ended, in Japanese")],
    text_en: Annotated[str | None, typer.Option("--text-en")] = None,
    text: Annotated[list[str] | None, typer.Option(help="LANG=TEXT; repeat")] = None,
    operator: OPERATOR = None,
    yes: YES = False,
    preview: PREVIEW = False,
    allow_fallback: ALLOW_FALLBACK = False,
    as_json: JSON = False,
) -> None:
    """Lift an alert that was right and has ended (an evacuation order, a shelter
    opening): tells those it reached that it is over. Not for mistakes: use cancel.

    Example: bousai alert lift 12 --text-ja "避難指示を解除しました。"
    """
    done = _follow_up(MsgType.LIFT, alert_id, text_ja, _texts(text, text_en), operator, yes,
                      preview, allow_fallback)
    _report(done, alert_id, as_json, "lifts", "lifts")


@follow_ups.command("cancel")
@handle_errors
def cancel(
    alert_id: int,
    reason: Annotated[str, typer.Option(help="why (Japanese; shown to recipients)")],
    operator: OPERATOR = None,
    yes: YES = False,
    preview: PREVIEW = False,
    as_json: JSON = False,
) -> None:
    """Cancel an alert sent in error: stops its pending sends at once and tells those
    already reached (after a second operator's approval under the two-person rule).
    An alert that has not gone out is withdrawn.

    Example: bousai alert cancel 12 --reason "誤って送信しました"
    """
    from bot.lifecycle import WAITING
    from bot.store.alerts import get_row

    done: Submitted | None = None
    with service_context() as svc:
        with svc.engine.connect() as conn:
            waiting = get_row(conn, alert_id).status in WAITING
        if waiting:  # nothing went out: withdraw it
            svc.lifecycle.withdraw(alert_id, operator_name(operator), reason)
    if not waiting:
        done = _follow_up(MsgType.CANCEL, alert_id, reason, {}, operator, yes, preview)
    new_id = done.id if done else None
    if as_json:
        echo_json({"cancelled": alert_id, "follow_up": new_id,
                   "status": done.status.value if done else AlertStatus.CANCELLED.value})
    elif done is None:
        typer.echo(f"alert {alert_id} cancelled (it had not gone out)")
    elif done.status is AlertStatus.PENDING_APPROVAL:
        typer.echo(f"alert {alert_id}: pending sends stopped; "
                   + submitted(done, f"cancellation {done.id}"))
    else:
        typer.echo(f"alert {alert_id} cancelled; follow-up alert {new_id} queued")
