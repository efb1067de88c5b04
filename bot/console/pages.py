"""The console's pages, read-only: what they show comes from
:mod:`bot.store.console` (a few grouped queries each) and :mod:`bot.console.svgmap`.

    GET /                    Now: alerts waiting for approval, alerts in force and in
                             progress with live progress per channel and language
    GET /parts/now           the Now page's live part (htmx polls it every 2 s)
    GET /alerts/{id}         one alert: renderings, ledger with filters, audit trail,
                             follow-ups and their progress
    GET /parts/alerts/{id}   its live progress part
    GET /map                 the wards as inline SVG, by subscribers or by the
                             delivery progress of ?alert=ID; shelters open/closed
    GET /feeds               feeds and channels
    GET /subscribers         counts by channel, language, ward and kind, and over time
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from starlette.responses import Response
from starlette.routing import Route

from bot.console.app import Console, Page
from bot.console.svgmap import ShelterPoint, ward_map_svg
from bot.domain import AlertStatus, Kind
from bot.store import console as queries
from bot.store.alerts import list_rows

PAGE_SIZE = 100
# alerts whose delivery progress the map can show
SENDING = [s.value for s in (AlertStatus.QUEUED, AlertStatus.SENT, AlertStatus.FAILED,
                             AlertStatus.LIFTED, AlertStatus.CANCELLED)]
REFRESH = "every 2s"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _read(page: Page, fn: Any, *args: Any, **kw: Any) -> Any:
    """``fn(conn, *args, **kw)`` on a connection of its own, off the loop."""
    def go() -> Any:
        with page.svc.engine.connect() as conn:
            return fn(conn, *args, **kw)
    return page.run(go)


def ward_names(page: Page) -> dict[str, str]:
    config = page.svc.config
    return {w.code: w.name(page.lang) for w in config.wards}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


async def now(page: Page) -> Response:
    data = await _read(page, queries.now_page, now=_now())
    return page.render("now.html", data=data, wards=ward_names(page), refresh=REFRESH,
                       duration=_duration)


async def now_part(page: Page) -> Response:
    data = await _read(page, queries.now_page, now=_now())
    return page.render("_now.html", data=data, wards=ward_names(page), duration=_duration)


def _filters(page: Page) -> dict[str, Any]:
    q = page.request.query_params
    try:
        offset = max(0, int(q.get("offset") or 0))
    except ValueError:
        offset = 0
    return {"status": q.get("status") or None, "channel": q.get("channel") or None,
            "language": q.get("language") or None, "error": q.get("error") or None,
            "offset": offset}


async def alert(page: Page) -> Response:
    alert_id = int(page.request.path_params["id"])
    filters = _filters(page)
    data = await _read(page, queries.alert_page, alert_id, limit=PAGE_SIZE, **filters)
    renderings = list(data.renderings)
    if not renderings:  # not accepted yet: rendered now, as it would be sent
        prepared = await page.run(page.svc.lifecycle.prepare_view, alert_id)
        renderings = [queries.RenderingRow(language=r.language, channel=r.channel,
                                           parts=tuple(r.parts),
                                           machine_translated=r.machine_translated)
                      for r in prepared.renderings]
    languages = sorted({r.language for r in renderings},
                       key=lambda x: (x not in ("ja", "en", "ja-easy"), x))
    shown = page.request.query_params.get("show") or ("ja" if "ja" in languages else "")
    return page.render("alert.html", data=data, renderings=renderings,
                       rendered_languages=languages,
                       shown=shown, filters=filters, wards=ward_names(page),
                       done=page.request.query_params.get("done", ""), duration=_duration,
                       page_size=PAGE_SIZE, refresh=REFRESH)


async def alert_part(page: Page) -> Response:
    alert_id = int(page.request.path_params["id"])
    data = await _read(page, queries.alert_page, alert_id, limit=1)
    return page.render("_progress.html", a=data.alert, duration=_duration)


async def ward_map(page: Page) -> Response:
    svc = page.svc
    q = page.request.query_params
    alert_id = int(q["alert"]) if (q.get("alert") or "").isdigit() else None
    names = ward_names(page)

    def data() -> tuple[dict[str, float], dict[str, bool], list[Any]]:
        with svc.engine.connect() as conn:
            values = (queries.ward_progress(conn, alert_id, config=svc.config)
                      if alert_id is not None else queries.ward_shares(conn, svc.config))
            states = queries.shelter_states(conn)
            recent = list_rows(conn, status=SENDING, limit=20)
        return values, states, list(recent)

    values, states, recent = await page.run(data)
    from bot.shelters import shelters_for

    points = [ShelterPoint(id=s.id, name=s.name, lat=s.lat, lon=s.lon, open=states.get(s.id))
              for s in shelters_for(svc.config).values()
              if s.lat is not None and s.lon is not None]
    labels = {code: f"{name} {100 * values[code]:.0f}%" if code in values else name
              for code, name in names.items()}
    svg = ward_map_svg(svc.config, values, labels=labels, titles=labels, shelters=points,
                       caption=page.t("map.by_progress") + f" {alert_id}"
                       if alert_id is not None else page.t("map.by_subscribers"))
    counts = {"open": sum(1 for p in points if p.open is True),
              "closed": sum(1 for p in points if p.open is False),
              "unknown": sum(1 for p in points if p.open is None)}
    return page.render("map.html", svg=svg, alert_id=alert_id, recent=recent,
                       counts=counts, values=values, wards=names)


def _line_quota(page: Page) -> dict[str, Any] | None:
    """LINE's monthly message quota, asked of LINE now (5 s at most), when LINE is on
    and has its token; None otherwise."""
    from bot.budget import line_quota

    svc = page.svc
    if "line" not in svc.plans or not svc.settings.secret("LINE_CHANNEL_ACCESS_TOKEN").get():
        return None
    return line_quota(svc, 0)


async def feeds(page: Page) -> Response:
    data = await _read(page, queries.feeds_and_channels, now=_now(), config=page.svc.config)
    quota = await page.run(_line_quota, page)
    return page.render("feeds.html", data=data, duration=_duration, line_quota=quota)


async def subscribers(page: Page) -> Response:
    local = _now().astimezone(ZoneInfo(page.svc.config.timezone))  # the city's days
    data = await _read(page, queries.subscribers_page, now=local)
    top = max([d.active for d in data.days] or [1]) or 1
    return page.render("subscribers.html", data=data, wards=ward_names(page), top=top,
                       kinds=[k.value for k in Kind])


def routes(console: Console) -> list[Route]:
    return [
        Route("/", console.page(now), methods=["GET"]),
        Route("/parts/now", console.page(now_part), methods=["GET"]),
        Route("/alerts/{id:int}", console.page(alert), methods=["GET"]),
        Route("/parts/alerts/{id:int}", console.page(alert_part), methods=["GET"]),
        Route("/map", console.page(ward_map), methods=["GET"]),
        Route("/feeds", console.page(feeds), methods=["GET"]),
        Route("/subscribers", console.page(subscribers), methods=["GET"]),
    ]
