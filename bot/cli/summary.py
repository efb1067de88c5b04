"""What an operator sees before anything is sent: one screen that says what goes to
whom, then (with --preview) every text in full, then the question.

The summary is plain lines, readable in any terminal and any script (no table
borders for Burmese or Khmer to break); the full preview prints each rendering
as one block, never cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import typer

from bot.cli.common import fail
from bot.domain import AlertStatus
from bot.lifecycle import Prepared, Submitted
from bot.lifecycle.plan import preview_rows, review
from bot.service import Service


def print_full_preview(rows: Sequence[dict[str, Any]], *, err: bool = True) -> None:
    """Every rendering in full, one block after another."""
    for r in rows:
        flags = " machine-translated" if r["machine_translated"] else ""
        flags += " ONLY-JAPANESE" if r.get("untranslated") else ""
        typer.echo(f"── {r['language']} / {r['channel']} ({len(r['parts'])} part(s), "
                   f"{', '.join(map(str, r['length']))} of {r['limit']}){flags}", err=err)
        for part in r["parts"]:
            typer.echo(part, err=err)
            typer.echo("", err=err)


def confirm(svc: Service, prepared: Prepared, *, yes: bool, question: str,
            preview: bool = False, allow_fallback: bool = False,
            refuse_untranslated: bool = True) -> dict[str, Any]:
    """The summary (and with ``preview`` every text), refusals, then the question.
    ``prepared.over_budget``: the plan shows every X language posted beyond the budget."""
    shown = review(svc, prepared, allow_fallback=allow_fallback,
                   refuse_untranslated=refuse_untranslated)
    if shown.refusal:
        raise fail(shown.refusal)
    for line in shown.lines:
        typer.echo(line, err=True)
    if preview:
        print_full_preview(preview_rows(prepared))
    if not yes and not typer.confirm(question, default=False, err=True):
        raise fail("nothing sent", code=1)
    return shown.plan


def submitted(done: Submitted, what: str) -> str:
    if done.status is AlertStatus.PENDING_APPROVAL:
        return f"{what} — waits for a second operator: `bousai alert approve {done.id}`"
    return what
