"""The safety check (安否確認): "are you safe?" with three answer buttons."""

from __future__ import annotations

from bot.domain import Kind, SafetyCheck
from bot.render.compose import Context, source_composer

ANSWERS = ("safe", "need_help", "away")
_ASKED_ABOUT = {Kind.EARTHQUAKE: "earthquake", Kind.TSUNAMI: "tsunami",
                Kind.EVACUATION: "evacuation"}


def answer_buttons(ctx: Context, alert_id: int) -> list[tuple[str, str]]:
    """(label, data) for each answer; data ``safety:<alert id>:<answer>``."""
    return [(ctx.t(f"safety.button.{a}"), f"safety:{alert_id}:{a}") for a in ANSWERS]


@source_composer(SafetyCheck)
def safety_check(ctx: Context) -> list[str]:
    p = ctx.payload(SafetyCheck)
    about = _ASKED_ABOUT.get(ctx.alert.kind, "other")
    lines = []
    if p.reminder:
        lines.append(ctx.t("safety.reminder"))
    lines += [ctx.t(f"safety.ask.{about}"), ctx.t("safety.ask.how")]
    ctx.buttons = answer_buttons(ctx, p.alert_id)
    return lines
