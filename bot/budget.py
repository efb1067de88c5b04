"""Platform budgets an operator must see before a large send: LINE's monthly
message quota and the X posting budget per 24 hours."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from bot.db.schema import utcnow
from bot.service import Service
from bot.store import deliveries as ledger
from channels import registry
from channels.base import ChannelError, Limits


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


def x_budget(svc: Service, posts_needed: int) -> dict[str, Any]:
    """Posts made in the last 24 hours (thread parts count) against the budget the
    X channel declares (``posts_per_day``, as configured)."""
    plan = svc.plans.get("x")
    limits: Limits = plan.limits if plan is not None else \
        registry.effective_limits("x", _options(svc, "x"))
    if limits.posts_per_day is None:
        return {"budget": None, "needed": posts_needed}
    budget = limits.posts_per_day
    since = utcnow() - dt.timedelta(hours=24)
    with svc.engine.connect() as conn:
        posted = ledger.posts_since(conn, "x", since)
    after = budget - posted - posts_needed
    return {"budget": budget, "posted_24h": posted, "needed": posts_needed, "after": after,
            "over_by": max(0, -after)}


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
    if x and x.get("over_by"):
        out.append(f"X: {x['needed']} posts would exceed the budget of {x['budget']} per 24 "
                   f"hours ({x['posted_24h']} already posted) by {x['over_by']}")
    return out
