"""The summary an operator sees before anything is sent, as data and plain lines:
what goes to whom, in which languages, how long at the platforms' limits, and the
budgets. The CLI prints it (:mod:`bot.cli.summary`); the web console shows it
(:mod:`bot.console`). One plan, one wording, for both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.budget import x_lines
from bot.domain import MsgType
from bot.lifecycle.core import Prepared
from bot.operators import level_of
from bot.render.timefmt import jst
from bot.service import Service
from channels import registry

WHAT = {MsgType.ALERT: "new alert", MsgType.UPDATE: "correction",
        MsgType.LIFT: "lifting (the order or warning has ended)",
        MsgType.CANCEL: "cancellation (the earlier message was sent in error)"}


def preview_rows(prepared: Prepared) -> list[dict[str, Any]]:
    return [{"language": r.language, "channel": r.channel, "parts": list(r.parts),
             "length": list(r.lengths), "limit": r.limit,
             "machine_translated": r.machine_translated, "untranslated": r.untranslated}
            for r in prepared.renderings]


def delivery_plan(svc: Service, prepared: Prepared) -> dict[str, Any]:
    """Recipients and requests per channel, time at the platform's limit, and the
    budgets: LINE quota after the send; X posts, their cost and the languages the
    daily and monthly budgets leave out (bot/xbudget.py)."""
    from bot.budget import line_quota, x_budget

    out: dict[str, Any] = {}
    a = prepared.alert
    for name, by_lang in prepared.counts.items():
        limits = svc.plans[name].limits  # effective: the configured rates, as the pacer's
        recipients = sum(by_lang.values())
        per = limits.recipients_per_request
        parts = {r.language: len(r.parts) for r in prepared.renderings if r.channel == name}
        requests = sum(-(-n // per) * limits.requests_for(parts.get(lang, 1))
                       for lang, n in by_lang.items())
        rate = limits.requests_per_second
        cls = registry.channel_class(name)
        ch = svc.config.channels.get(name)
        paid = limits.paid_requests_per_second is not None and requests > 0 and \
            cls.pays_for(ch.options if ch is not None else {}, a.kind.value, int(a.severity))
        if paid:  # a paid broadcast: the higher limit, for a fee per message
            rate = float(limits.paid_requests_per_second or rate)
        out[name] = {"recipients": recipients, "by_language": dict(by_lang),
                     "requests": requests, "requests_per_second": rate,
                     "seconds_at_limit": round(requests / rate, 1)}
        if paid:
            fee, unit = cls.paid_fee
            out[name]["paid_broadcast"] = {
                "messages": requests, "fee_per_message": fee, "unit": unit,
                "cost": round(requests * fee, 1),
                "free_seconds_at_limit": round(requests / limits.requests_per_second, 1)}
    if "line" in out and out["line"]["recipients"]:
        out["line"]["quota"] = line_quota(svc, out["line"]["recipients"])
    if "x" in out and out["x"]["requests"]:
        x = out["x"]
        x["budget"] = budget = x_budget(svc, prepared)
        # what goes out: the languages within the budget, every part of a thread a post
        x["by_language"] = {lang: n for lang, n in x["by_language"].items()
                            if lang in budget["posted"]}
        x["recipients"] = len(x["by_language"])
        x["requests"] = budget["posts"]
        x["seconds_at_limit"] = round(budget["posts"] / x["requests_per_second"], 1)
    return out


def _languages(prepared: Prepared, flag: str) -> list[str]:
    return sorted({r.language for r in prepared.renderings if getattr(r, flag)})


def summary_lines(svc: Service, prepared: Prepared, plan: dict[str, Any],
                  warnings: Sequence[str] = ()) -> list[str]:
    """The one screen: what, where, to whom, in which languages, how long."""
    a = prepared.alert
    config = svc.config
    level = level_of(a)
    what = f"{a.kind.value}" + (f" level {level}" if level else "") + \
        f", severity {a.severity.name.lower()}" + (" — TEST (test subscribers only)"
                                                    if a.test else "")
    lines = [f"what      {what}; {WHAT[a.msg_type]}"]
    if prepared.original is not None:
        lines.append(f"refers to alert {prepared.original.id} ({prepared.original.status})")
    if set(a.wards) >= set(config.ward_codes) or not a.wards:
        where = f"the whole city ({config.city_name}, {len(config.ward_codes)} wards)"
    else:
        where = ", ".join(f"{config.ward(c).name('ja')} {config.ward(c).name('en')}"
                          for c in a.wards)
    lines.append(f"where     {where}")
    if a.send_at:
        lines.append(f"send at   {jst(a.send_at)}")
    if a.expires:
        lines.append(f"expires   {jst(a.expires)}")
    total = 0
    for name, p in plan.items():
        total += p["recipients"]
        langs = ", ".join(f"{k} {v}" for k, v in sorted(p["by_language"].items(),
                                                        key=lambda kv: -kv[1]))
        whom = "channel posts" if svc.plans[name].broadcast_recipients else "recipients"
        lines.append(f"{name:<9} {p['recipients']} {whom}, {p['requests']} requests, "
                     f"{_duration(p['seconds_at_limit'])} at {p['requests_per_second']:g}/s"
                     + (f" ({langs})" if langs else ""))
        if "budget" in p and name == "x":
            lines.extend(x_lines(p["budget"]))
        paid = p.get("paid_broadcast")
        if paid:
            lines.append(f"{'':<9} paid broadcast: up to {paid['cost']:g} {paid['unit']} "
                         f"({paid['fee_per_message']:g} per message sent this way; "
                         f"{_duration(paid['free_seconds_at_limit'])} without it)")
    lines.append(f"total     {total} recipients")
    languages = sorted({r.language for r in prepared.renderings})
    mt = _languages(prepared, "machine_translated")
    left = _languages(prepared, "untranslated")
    unreviewed = [lang for lang in languages
                  if not svc.renderer.catalogs.reviewed(lang)]
    lines.append(f"languages {len(languages)}: {len(languages) - len(mt) - len(left)} from "
                 f"templates or official text, {len(mt)} machine-translated"
                 + (f" ({', '.join(mt)})" if mt else "")
                 + (f", {len(left)} only in Japanese ({', '.join(left)})" if left else ""))
    if unreviewed:
        lines.append(f"review    catalogs not yet reviewed by a native speaker: "
                     f"{', '.join(unreviewed)}")
    lines.extend(f"warning   {w}" for w in warnings)
    return lines


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:g}s"
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


@dataclass(frozen=True)
class Review:
    """The screen before sending: the plan, its lines, and why it may not go (None:
    it may)."""

    plan: dict[str, Any]
    lines: list[str]
    refusal: str | None


def review(svc: Service, prepared: Prepared, *, allow_fallback: bool = False,
           refuse_untranslated: bool = True) -> Review:
    """The plan and summary lines for ``prepared``; ``refusal`` when the text would
    reach languages in Japanese only and neither ``allow_fallback`` nor
    ``refuse_untranslated=False`` (a cancellation) lets it."""
    from bot.budget import warnings_for

    plan = delivery_plan(svc, prepared)
    left = _languages(prepared, "untranslated")
    refusal = None
    if left and refuse_untranslated and not allow_fallback:
        refusal = (f"the text would reach {len(left)} languages in Japanese only "
                   f"({', '.join(left)}): give --text-en (or --text LANG=TEXT), configure a "
                   "translator ([translation] in the config), or add --allow-fallback to "
                   "send the Japanese with a note")
    warnings = warnings_for(plan)
    if left:
        warnings.append(f"{len(left)} languages get the Japanese text with a note "
                        f"({', '.join(left)})")
    return Review(plan=plan, lines=summary_lines(svc, prepared, plan, warnings),
                  refusal=refusal)
