"""X within its price: what the posts of an alert cost, what is left of the city's
budget, and which languages go out when not all of them fit.

The ledger is the truth for what was spent: every post X accepted is a row's
message id (each part of a thread is one post, billed as one request), priced
with ``[channels.x] price_per_post`` (``price_per_post_with_url`` for a part
with a link). Three windows count:

- ``daily_budget``: money, this calendar day in the city's time zone;
- ``monthly_budget``: money, this calendar month in the city's time zone;
- ``posts_per_day``: posts, the last 24 hours (the cap X itself enforces).

Posts already queued (pending or in flight, and the parts of a thread still to go)
are counted as spent, so two alerts accepted one after the other cannot both
plan on the same money.

The rule when an alert does not fit (:func:`allot`): its languages are taken in
the order of ``[channels.x] languages``; each language whose whole post (or
thread) still fits is posted, the others are not. Nothing is dropped silently:
the plan an operator sees names them, and the ledger keeps a row for each,
cancelled with the reason :data:`SKIPPED` ("x budget: …"). Follow-ups
(corrections, cancellations, liftings) to posts already out are always posted:
a wrong post must not stay uncorrected to save a few cents. An operator can
send everything with ``--over-budget``, which the audit log records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.config import Config
from bot.db.schema import utcnow
from bot.store import deliveries as ledger
from channels.base import Limits
from channels.x import XChannel, XPricing

if TYPE_CHECKING:
    from bot.lifecycle import Prepared

SKIPPED = "x budget"  # the reason on the ledger row of a language left out
CHANNEL = "x"


@dataclass(frozen=True, kw_only=True)
class Window:
    """Posts and their cost in one budget window, queued posts included."""

    posts: int = 0
    cost: float = 0.0
    queued_posts: int = 0
    queued_cost: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Spent:
    """What the ledger says, at ``now``: today (city day), this month (city month) and
    the last 24 hours."""

    now: dt.datetime
    day: Window
    month: Window
    last_24h: Window


@dataclass(frozen=True, kw_only=True)
class Allotment:
    """Which languages of one alert are posted, what that costs, what is left."""

    posts: dict[str, int]  # language → posts (thread parts), every language planned
    cost: dict[str, float]  # language → cost
    posted: tuple[str, ...]  # the languages that go out, in config order
    skipped: dict[str, str] = field(default_factory=dict)  # language → reason
    over_budget: bool = False  # the operator sends all of them beyond the budget
    follow_up: bool = False  # replies under posts already out: always posted

    @property
    def posts_planned(self) -> int:
        return sum(self.posts[lang] for lang in self.posted)

    @property
    def cost_planned(self) -> float:
        return sum(self.cost[lang] for lang in self.posted)


def settings(config: Config) -> tuple[XPricing, Limits]:
    options = config.channels["x"].options if "x" in config.channels else {}
    return XChannel.pricing_for(options), XChannel.limits_for(options)


def parts_by_language(prepared: Prepared, languages: Sequence[str],
                      reply_to: Mapping[tuple[str, str], int] | None = None
                      ) -> dict[str, tuple[str, ...]]:
    """The parts each X language would post, in config order; a follow-up only in the
    languages whose original went out (``reply_to``)."""
    texts = {r.language: tuple(r.parts) for r in prepared.renderings if r.channel == CHANNEL}
    return {lang: texts.get(lang, ("",)) for lang in languages
            if reply_to is None or (CHANNEL, lang) in reply_to}


def day_start(now: dt.datetime, tz: str) -> dt.datetime:
    local = now.astimezone(ZoneInfo(tz))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


def month_start(now: dt.datetime, tz: str) -> dt.datetime:
    local = now.astimezone(ZoneInfo(tz))
    return local.replace(day=1, hour=0, minute=0, second=0,
                         microsecond=0).astimezone(dt.UTC)


def spent(conn: sa.Connection, config: Config, *, now: dt.datetime | None = None) -> Spent:
    """Posts and money spent on X, read from the ledger."""
    now = now or utcnow()
    pricing, _ = settings(config)
    starts = {"day": day_start(now, config.timezone), "month": month_start(now, config.timezone),
              "last_24h": now - dt.timedelta(hours=24)}
    rows = ledger.posts_made(conn, CHANNEL, min(starts.values()))
    windows = {}
    for name, since in starts.items():
        posts = cost = qposts = qcost = 0.0
        for r in rows:
            if r.queued:
                qposts += len(r.parts)
                qcost += pricing.cost(r.parts)
            elif since <= r.at <= now:
                posts += len(r.parts)
                cost += pricing.cost(r.parts)
        windows[name] = Window(posts=int(posts), cost=cost, queued_posts=int(qposts),
                               queued_cost=qcost)
    return Spent(now=now, **windows)


def left(config: Config, spent_: Spent) -> dict[str, float | int | None]:
    """What is left in each window (None: no budget set), queued posts counted."""
    pricing, limits = settings(config)

    def rest(budget: float | None, w: Window) -> float | None:
        return None if budget is None else budget - w.cost - w.queued_cost

    return {
        "day": rest(pricing.daily_budget, spent_.day),
        "month": rest(pricing.monthly_budget, spent_.month),
        "posts_24h": None if limits.posts_per_day is None else
        limits.posts_per_day - spent_.last_24h.posts - spent_.last_24h.queued_posts,
    }


_EPS = 1e-9  # money compared in floating point: 0.1 + 0.2 fits in 0.3


def allot(config: Config, spent_: Spent, parts: Mapping[str, Sequence[str]], *,
          over_budget: bool = False, follow_up: bool = False) -> Allotment:
    """Which of ``parts`` (language → the parts of its post, in the order of
    ``[channels.x] languages``) fit in what is left; see the module's rule."""
    pricing, _ = settings(config)
    posts = {lang: len(p) for lang, p in parts.items()}
    cost = {lang: pricing.cost(p) for lang, p in parts.items()}
    if over_budget or follow_up:
        return Allotment(posts=posts, cost=cost, posted=tuple(parts), over_budget=over_budget,
                         follow_up=follow_up)
    room = left(config, spent_)
    money = {k: v for k, v in room.items() if k in ("day", "month") and v is not None}
    count = room["posts_24h"]
    posted, skipped = [], {}
    for lang in parts:
        short = [k for k, v in money.items() if cost[lang] > v + _EPS]
        if count is not None and posts[lang] > count:
            short.append("posts_24h")
        if short:
            skipped[lang] = f"{SKIPPED}: " + ", ".join(_WHY[k] for k in short)
            continue
        posted.append(lang)
        money = {k: v - cost[lang] for k, v in money.items()}
        if count is not None:
            count -= posts[lang]
    return Allotment(posts=posts, cost=cost, posted=tuple(posted), skipped=skipped)


_WHY = {"day": "over the daily budget", "month": "over the monthly budget",
        "posts_24h": "over X's 24-hour post cap"}


def money(value: float | None, currency: str) -> str:
    return "-" if value is None else f"{value:.3f} {currency}"


def report(config: Config, spent_: Spent) -> dict[str, Any]:
    """Spent and left for the day, the month and the last 24 hours (``bousai x budget``,
    the plan)."""
    pricing, limits = settings(config)
    room = left(config, spent_)
    return {
        "currency": pricing.currency,
        "price_per_post": pricing.price_per_post,
        "price_per_post_with_url": pricing.price_per_post_with_url,
        "languages": list(config.channels["x"].options.get("languages", config.languages))
        if "x" in config.channels else [],
        "day": {"since": day_start(spent_.now, config.timezone).isoformat(),
                "posts": spent_.day.posts, "cost": round(spent_.day.cost, 6),
                "queued_posts": spent_.day.queued_posts,
                "queued_cost": round(spent_.day.queued_cost, 6),
                "budget": pricing.daily_budget, "left": _round(room["day"])},
        "month": {"since": month_start(spent_.now, config.timezone).isoformat(),
                  "posts": spent_.month.posts, "cost": round(spent_.month.cost, 6),
                  "queued_posts": spent_.month.queued_posts,
                  "queued_cost": round(spent_.month.queued_cost, 6),
                  "budget": pricing.monthly_budget, "left": _round(room["month"])},
        "last_24h": {"posts": spent_.last_24h.posts, "cap": limits.posts_per_day,
                     "left": room["posts_24h"]},
    }


def _round(v: float | int | None) -> float | None:
    return None if v is None else round(float(v), 6)
