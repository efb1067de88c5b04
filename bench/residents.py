"""Residents' chat: the cost of answering a shared location (ward by the real
boundaries, then the three nearest of the city's shelters) and of dropping a message
from a chat over its rate limit. Pure computation, no database, no network.

Baselines in the same process: for a location, the great-circle distance to every
shelter alone (the work any nearest-shelter answer must do); for a dropped message,
one dict lookup and store (the least a per-chat counter costs).

    .venv/bin/python bench/residents.py --repeat 5

Targets: a location answered (computation only) in ≤ 50 ms; a dropped message ≤ 50 µs
(a flood of 1,000 messages a second from one chat then costs under 5 % of a core).
"""

from __future__ import annotations

import argparse
import random
import time

from common import header, median, table

from bot.config import load_config
from bot.geo import distance_km
from bot.shelters import shelters_for
from bot.signup.location import nearest
from bot.signup.ratelimit import RateLimiter
from bot.wardmap import ward_map

# A reply a person waits for: well under the database and network time around it.
TARGET_LOCATION_MS = 50.0
# A flood of 1,000 messages a second from one chat costs under 5 % of a core.
TARGET_DROP_US = 50.0


def points(n: int, seed: int = 7) -> list[tuple[float, float]]:
    rnd = random.Random(seed)  # the city's bounding box and a margin around it
    return [(rnd.uniform(32.68, 32.93), rnd.uniform(130.55, 130.85)) for _ in range(n)]


def per_location(pts: list[tuple[float, float]]) -> tuple[float, float]:
    """(ms per location answered, ms per location for distances alone)."""
    config = load_config()
    wards = ward_map(config)
    table_ = list(shelters_for(config).values())
    located = [s for s in table_ if s.lat is not None and s.lon is not None]
    t0 = time.perf_counter()
    for lat, lon in pts:
        wards.ward_at(lat, lon)
        nearest(table_, lat, lon)
    product = (time.perf_counter() - t0) * 1000 / len(pts)
    t0 = time.perf_counter()
    for lat, lon in pts:
        [distance_km(lat, lon, s.lat, s.lon) for s in located]  # type: ignore[arg-type]
    baseline = (time.perf_counter() - t0) * 1000 / len(pts)
    return product, baseline


def per_drop(n: int) -> tuple[float, float]:
    """(µs per message dropped by the limiter, µs per dict lookup and store)."""
    limiter = RateLimiter(rate=1.0, burst=10)
    for _ in range(10):
        limiter.allow("flood")
    t0 = time.perf_counter()
    for _ in range(n):
        limiter.allow("flood")
    product = (time.perf_counter() - t0) * 1e6 / n
    counts: dict[str, int] = {}
    t0 = time.perf_counter()
    for _ in range(n):
        counts["flood"] = counts.get("flood", 0) + 1
    baseline = (time.perf_counter() - t0) * 1e6 / n
    return product, baseline


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--locations", type=int, default=500)
    ap.add_argument("--drops", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    header("residents: location answers and rate-limit drops")
    pts = points(args.locations)
    loc = [per_location(pts) for _ in range(args.repeat)]
    drop = [per_drop(args.drops) for _ in range(args.repeat)]
    lp, lb = median([p for p, _ in loc]), median([b for _, b in loc])
    dp, db = median([p for p, _ in drop]), median([b for _, b in drop])
    print(table(["what", "product", "baseline", "ratio", "target"], [
        ["location: ward + 3 nearest shelters (ms)", lp, lb, lp / lb,
         f"≤ {TARGET_LOCATION_MS} ms"],
        ["message dropped over the rate (µs)", dp, db, dp / db, f"≤ {TARGET_DROP_US} µs"],
    ]))
    ok = lp <= TARGET_LOCATION_MS and dp <= TARGET_DROP_US
    print(f"verdict: {'met' if ok else 'NOT met'} (median of {args.repeat} runs)")


if __name__ == "__main__":
    main()
