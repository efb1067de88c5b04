"""Platform budgets an operator must see before a large send: LINE's monthly
message quota, and X's posts with their cost against the city's daily and monthly
budgets and X's 24-hour cap (bot/xbudget.py)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from bot.domain import MsgType
from bot.service import Service
from bot.store import deliveries as ledger
from channels.base import ChannelError

if TYPE_CHECKING:
    from bot.lifecycle import Prepared


def _options(svc: Service, name: str) -> dict[str, Any]:
    ch = svc.config.channels.get(name)
    return dict(ch.options) if ch is not None else {}


def line_quota(svc: Service, recipients: int) -> dict[str, Any]:
    """LINE counts every recipient of a multicast as one message against the month."""
    from channels.line import LineChannel

    async def ask() -> tuple[int | None, int]:
        channel = LineChannel.from_settings(svc.settings,
                                            _options(svc, "line") | {"timeout_seconds": 5.0})
        try:
            return await channel.quota()
        finally:
            await channel.close()

    try:
        limit, used = asyncio.run(ask())
    except ChannelError as exc:
        return {"needed": recipients, "error": f"quota not available: {exc}"}
    if limit is None:
        return {"limit": None, "used": used, "needed": recipients, "after": None,
                "shortfall": 0}
    after = limit - used - recipients
    return {"limit": limit, "used": used, "needed": recipients, "after": after,
            "shortfall": max(0, -after)}


def x_budget(svc: Service, prepared: Prepared, *, over_budget: bool = False
             ) -> dict[str, Any]:
    """The alert's X posts and their cost, what is spent and left of the daily and
    monthly budgets and of X's 24-hour cap, and which languages the budget leaves
    out: the same decision the lifecycle takes when it accepts the alert
    (bot/xbudget.py)."""
    from bot import xbudget

    plan = svc.plans[xbudget.CHANNEL]
    alert, original = prepared.alert, prepared.original
    with svc.engine.connect() as conn:
        reply_to = None
        if alert.msg_type is not MsgType.ALERT and original is not None:
            reply_to = ledger.reached(conn, original.id, [xbudget.CHANNEL],
                                      pending=bool(getattr(alert.payload, "SUPPLEMENTS",
                                                           False)))
        spent = xbudget.spent(conn, svc.config)
    parts = xbudget.parts_by_language(prepared, plan.broadcast_languages, reply_to)
    a = xbudget.allot(svc.config, spent, parts, over_budget=over_budget or prepared.over_budget,
                      follow_up=reply_to is not None)
    within = xbudget.allot(svc.config, spent, parts) if a.over_budget else a
    report = xbudget.report(svc.config, spent)
    return {
        "posts": a.posts_planned, "cost": round(a.cost_planned, 6),
        "currency": report["currency"], "priced": report["price_per_post"] is not None,
        "by_language": {lang: {"posts": a.posts[lang], "cost": round(a.cost[lang], 6)}
                        for lang in parts},
        "posted": list(a.posted), "skipped": dict(a.skipped),
        "over_budget": a.over_budget, "beyond_budget": sorted(within.skipped),
        "follow_up": a.follow_up,
        "day": report["day"], "month": report["month"], "last_24h": report["last_24h"],
    }


def x_lines(x: dict[str, Any]) -> list[str]:
    """The X cost and budget lines of the one screen before a send."""
    cur = x["currency"]
    langs = ", ".join(f"{lang} {v['posts']}" for lang, v in x["by_language"].items()
                      if lang in x["posted"])
    if x["priced"]:
        cost = f"{_posts(x['posts'])}, {x['cost']:.3f} {cur}"
    else:
        cost = f"{_posts(x['posts'])}, cost unknown (set price_per_post under [channels.x])"
    lines = [f"x cost    {cost}" + (f" ({langs})" if langs else "")]
    day, month, h24 = x["day"], x["month"], x["last_24h"]
    left = []
    if day["budget"] is not None:
        left.append(f"today {day['cost'] + day['queued_cost']:.3f} of {day['budget']:.3f} "
                    f"{cur} spent or queued, {day['left']:.3f} left")
    if month["budget"] is not None:
        left.append(f"this month {month['cost'] + month['queued_cost']:.3f} of "
                    f"{month['budget']:.3f} {cur}, {month['left']:.3f} left")
    if h24["cap"] is not None:
        left.append(f"last 24 h {h24['cap'] - h24['left']} of {h24['cap']} posts")
    return lines + (["x budget  " + "; ".join(left)] if left else [])


def _posts(n: int) -> str:
    return f"{n} post" + ("" if n == 1 else "s")


def warnings_for(plan: dict[str, Any]) -> list[str]:
    out = []
    line = plan.get("line", {}).get("quota")
    if line and line.get("error"):
        out.append(f"LINE: {line['error']}")
    elif line and line.get("shortfall"):
        out.append(f"LINE: this alert needs {line['needed']} messages but only "
                   f"{line['limit'] - line['used']} are left this month; "
                   f"{line['shortfall']} recipients would not be reached")
    x = plan.get("x", {}).get("budget")
    if x and x["skipped"]:
        posted = ", ".join(x["posted"]) or "nothing"
        out.append(f"X: over budget — posting {posted}; NOT posted: "
                   + "; ".join(f"{lang} ({why})" for lang, why in x["skipped"].items())
                   + ". The ledger keeps them as cancelled ('x budget'); add --over-budget "
                     "to post every language (recorded in the audit log)")
    elif x and x["over_budget"] and x["beyond_budget"]:
        out.append(f"X: --over-budget: posting {', '.join(x['beyond_budget'])} beyond the "
                   "budget (recorded in the audit log)")
    elif x and x["follow_up"] and _beyond(x):
        out.append("X: this follow-up goes beyond the budget; follow-ups to posts already "
                   "out are always posted")
    return out


def _beyond(x: dict[str, Any]) -> bool:
    day, month, h24 = x["day"], x["month"], x["last_24h"]
    return any(w["left"] is not None and x["cost"] > w["left"] + 1e-9
               for w in (day, month)) or (h24["left"] is not None and x["posts"] > h24["left"])
