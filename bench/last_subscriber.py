"""Time to the last subscriber, and memory at scale: N subscribers (60 % Telegram,
40 % LINE, all sixteen languages, five wards), one alert for everyone, sent by a
real ``bousai run`` process to fake Telegram and LINE servers that enforce the
platforms' flood limits scaled by ``--scale`` (the service's configured limits are
scaled by the same factor through ``[channels.*]``, so a 33-minute send takes
minutes). Reports the time from the alert's submission until the last delivery
accepted by a fake, as a ratio to the floor the limits set (the slowest channel's
requests divided by its limit), the time until the first message in every
language, and the peak RSS of the ``bousai run`` process.

    .venv/bin/python bench/last_subscriber.py --subscribers 100000 --scale 10 --db sqlite
    .venv/bin/python bench/last_subscriber.py --subscribers 3000          # quick (~15 s)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import math
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from common import (
    LANGUAGES,
    TOKEN,
    fresh_db,
    header,
    median,
    seed_subscribers,
    subscriber,
    table,
)

ROOT = Path(__file__).resolve().parent.parent
LINE_TOKEN = "bench-line-token"
LINE_SHARE = 0.4
TARGET_RATIO = 1.05
TARGET_RSS_MB = 300.0
# The platforms' published limits (requests per second) the fakes enforce, times --scale.
PLATFORM_RATE = {"telegram": 30.0, "line": 200.0}


# ---------------------------------------------------------------- the floor

def floor_seconds(recipients: Mapping[tuple[str, str], int], parts: Mapping[tuple[str, str], int],
                  rates: Mapping[str, float]) -> dict[str, float]:
    """Seconds each channel needs at least: its API requests divided by its limit.

    ``recipients`` counts subscribers by (channel, language), ``parts`` the text
    parts of that language's message on that channel, ``rates`` the platform's
    requests per second. A request carries ``recipients_per_request`` users of one
    language and ``parts_per_request`` parts (the platform's published limits in
    channels/*.py): Telegram one chat and one part, LINE 500 users and 5 parts."""
    from channels.registry import spec

    out: dict[str, float] = {}
    for (channel, language), n in recipients.items():
        limits = spec(channel).limits
        requests = (math.ceil(n / limits.recipients_per_request)
                    * limits.requests_for(parts[(channel, language)]))
        out[channel] = out.get(channel, 0.0) + requests / rates[channel]
    return out


# ------------------------------------------------------- fakes in a child

def _fakes_main(conn: Any, scale: float) -> None:
    import gc

    from bot.fakes.line import FakeLine
    from bot.fakes.telegram import FakeTelegram

    # The fakes stand in for the platforms' servers, which do not pause when this
    # machine is busy: a fake descheduled for 20 ms answers the requests that queued
    # meanwhile at once, and its one-second window counts them as a burst. Ahead of
    # other processes (when allowed), it stalls less.
    with contextlib.suppress(OSError):
        os.nice(-10)
    tg = FakeTelegram(TOKEN, rate_limit=PLATFORM_RATE["telegram"] * scale,
                      chat_rate_limit=1.0).start()
    refused: list[float] = []
    error = tg._error

    def recorded(status: int, description: str, **parameters: Any) -> Any:
        if status == 429:
            refused.append(time.monotonic())
        return error(status, description, **parameters)

    tg._error = recorded  # type: ignore[method-assign]
    line = FakeLine(LINE_TOKEN, rate_limit=PLATFORM_RATE["line"] * scale).start()
    conn.send((tg.url, line.url))
    while True:
        # The fakes keep every request; a full garbage collection walking all of them
        # would stall the fake's loop, and requests answered in a burst after a stall
        # look like a burst to its rate window (a 429 the service did not cause).
        # Objects already kept are frozen out of the collector's way.
        gc.freeze()
        cmd = conn.recv()
        if cmd == "count":
            with tg.lock:
                n_tg = len(tg.sent)
            with line.lock:
                n_line = sum(len(r.delivered_to) for r in line.requests)
                menus = line.default_rich_menu is not None
            conn.send((n_tg, n_line, menus))
        elif cmd == "stats":
            with tg.lock:
                first_tg: dict[str, float] = {}
                copies: Counter[str] = Counter()
                for m in tg.sent:
                    copies[m.chat_id] += 1
                    first_tg.setdefault(m.chat_id, m.at)
                times = [m.at for m in tg.sent]
                tg_stats = {"first": first_tg, "copies": copies, "too_many": tg.too_many,
                            "requests": len(tg.sent), "max_gap": max(
                                (b - a for a, b in itertools.pairwise(times)),
                                default=0.0),
                            "busiest_second": _busiest_second(times),
                            "refused_at": list(refused), "times": times}
            with line.lock:
                accepted = [(r.delivered_to, r.at) for r in line.requests if r.delivered_to]
                line_stats = {"accepted": accepted, "too_many": line.too_many,
                              "requests": len(accepted)}
            conn.send({"telegram": tg_stats, "line": line_stats})
        else:
            break
    tg.stop()
    line.stop()
    conn.send("stopped")


def _busiest_second(times: list[float]) -> int:
    """The most accepted requests in any one-second window (the fake's own measure)."""
    most, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        most = max(most, hi - lo + 1)
    return most


@contextlib.contextmanager
def fakes_process(scale: float) -> Iterator[tuple[str, str, Any]]:
    """Fake Telegram and LINE in their own process (their CPU is not the service's):
    yields (telegram url, line url, pipe); send "count" or "stats" and recv."""
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    proc = ctx.Process(target=_fakes_main, args=(theirs, scale), daemon=True)
    proc.start()
    try:
        if not ours.poll(60):
            raise RuntimeError("the fake platforms did not start")
        tg_url, line_url = ours.recv()
        yield tg_url, line_url, ours
    finally:
        with contextlib.suppress(BrokenPipeError, EOFError, OSError):
            ours.send("stop")
            ours.poll(30)
        proc.join(10)
        if proc.is_alive():
            proc.kill()


def ask(pipe: Any, cmd: str) -> Any:
    pipe.send(cmd)
    return pipe.recv()


# ----------------------------------------------------------- the service

def write_config(folder: Path, scale: float) -> Path:
    """The city's configuration with both channels on at the scaled limits and no
    feeds (nothing to reach on the Internet)."""
    from bot.config import DEFAULT_CONFIG_PATH

    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    text = text.split("# " + "-" * 72 + " feeds")[0]
    tg_rate = PLATFORM_RATE["telegram"] * scale
    line_rate = PLATFORM_RATE["line"] * scale
    for old, new in (("messages_per_second = 30", f"messages_per_second = {tg_rate:g}"),
                     ("[channels.line]\nenabled = false\nrequests_per_second = 200",
                      f"[channels.line]\nenabled = true\nrequests_per_second = {line_rate:g}")):
        if old not in text:
            raise RuntimeError(f"config/bousai.toml changed: {old!r} not found")
        text = text.replace(old, new)
    data = folder / "data"
    data.symlink_to(DEFAULT_CONFIG_PATH.parent / "data", target_is_directory=True)
    path = folder / "bousai.toml"
    path.write_text(text, encoding="utf-8")
    return path


def service_env(config: Path, url: str, tg_url: str, line_url: str, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "LINE_", "X_API", "X_ACCESS", "BOUSAI_"))}
    return env | {
        "BOUSAI_CONFIG": str(config), "BOUSAI_DATABASE_URL": url, "BOUSAI_HTTP_PORT": "0",
        "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": tg_url,
        "LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN, "LINE_CHANNEL_SECRET": "bench-secret",
        "LINE_API_BASE_URL": line_url, "XDG_DATA_HOME": str(tmp / "xdg"),
    }


@dataclass
class Memory:
    """Samples /proc/<pid>/status of the service: VmRSS now and then, VmHWM (peak)."""

    pid: int
    rss_mb: float = 0.0
    hwm_mb: float = 0.0
    samples: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def read(self) -> None:
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return
        for line in status.splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                mb = int(value.split()[0]) / 1024
                if key == "VmRSS":
                    self.rss_mb = mb
                    self.samples.append(mb)
                else:
                    self.hwm_mb = max(self.hwm_mb, mb)

    def _loop(self) -> None:
        while not self._stop.wait(0.25):
            self.read()

    def __enter__(self) -> Memory:
        self.read()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def make_service(config_path: Path, url: str) -> Any:
    from bot.config import Settings, load_config
    from bot.db import make_engine
    from bot.render import load_renderer
    from bot.service import Service, channel_plans

    config = load_config(config_path)
    settings = Settings(database_url=url, secrets={}, base_urls={}, http_host="127.0.0.1",
                        http_port=0, log_format="text")
    return Service(config=config, settings=settings, engine=make_engine(url),
                   renderer=load_renderer(config), plans=channel_plans(config))


def alert_for_everyone(wards: tuple[str, ...]) -> Any:
    import uuid

    from bot.domain import Alert, Kind, Severity, Urgency

    return Alert(source="cli", source_id=f"bench-{uuid.uuid4().hex}", kind=Kind.CITY_NOTICE,
                 severity=Severity.SEVERE, urgency=Urgency.IMMEDIATE, wards=wards,
                 body_ja="給水車が来ます。", texts={"en": "A water truck is coming."},
                 issued=dt.datetime.now(dt.UTC))


def parts_by_language(engine: sa.Engine, alert_id: int) -> dict[tuple[str, str], int]:
    from bot.db.schema import renderings

    with engine.connect() as conn:
        rows = conn.execute(sa.select(renderings.c.channel, renderings.c.language,
                                      renderings.c.parts)
                            .where(renderings.c.alert_id == alert_id)).all()
    return {(ch, lang): len(parts) for ch, lang, parts in rows}


def wait_for(predicate: Any, timeout: float, what: str, proc: subprocess.Popen[bytes],
             log: Path, every: float = 0.1) -> None:
    t0 = time.monotonic()
    while not predicate():
        if proc.poll() is not None:
            raise RuntimeError(f"bousai run exited ({proc.returncode}) while waiting for "
                               f"{what}:\n{log.read_text(errors='replace')[-3000:]}")
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}:\n"
                               f"{log.read_text(errors='replace')[-3000:]}")
        time.sleep(every)


# ------------------------------------------------------------ one run

def one_run(db: str, n: int, scale: float) -> dict[str, Any]:
    """Seed, start the fakes and ``bousai run``, submit one alert for everyone, wait
    until every subscriber has it; the figures of that run."""
    with fresh_db(db) as url, tempfile.TemporaryDirectory(prefix="bousai-reach-") as tmp_s:
        tmp = Path(tmp_s)
        t = time.perf_counter()
        counts = seed_subscribers(url, n, line_share=LINE_SHARE)
        seeded_s = time.perf_counter() - t
        by_lang: Counter[tuple[str, str]] = Counter()
        for i in range(1, n + 1):
            ch, _, lang, _ = subscriber(i, LINE_SHARE)
            by_lang[(ch, lang)] += 1
        config_path = write_config(tmp, scale)
        svc = make_service(config_path, url)
        with fakes_process(scale) as (tg_url, line_url, pipe):
            log = tmp / "bousai-run.log"
            with log.open("wb") as out:
                proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run",
                                         "--no-poll-feeds"], cwd=ROOT,
                                        env=service_env(config_path, url, tg_url, line_url, tmp),
                                        stdout=out, stderr=subprocess.STDOUT)
            try:
                with Memory(proc.pid) as mem:
                    wait_for(lambda: "running with channels" in log.read_text(errors="replace"),
                             180, "bousai run to start", proc, log)
                    # The LINE rich menus are drawn at start-up; let that finish first.
                    with contextlib.suppress(RuntimeError):
                        wait_for(lambda: ask(pipe, "count")[2], 120, "the rich menus", proc,
                                 log, every=0.5)
                    time.sleep(1.0)
                    mem.read()
                    rss_idle = mem.rss_mb
                    load0 = os.getloadavg()[0]
                    t0 = time.monotonic()
                    alert_id = svc.lifecycle.submit(alert_for_everyone(svc.config.ward_codes),
                                                    operator="bench", action="auto").id
                    accepted_s = time.monotonic() - t0
                    parts = parts_by_language(svc.engine, alert_id)
                    floors = floor_seconds(by_lang, parts, {c: r * scale for c, r in
                                                            PLATFORM_RATE.items()})
                    floor = max(floors.values())
                    wait_for(lambda: sum(ask(pipe, "count")[:2]) >= n,
                             floor * 3 + 120, f"all {n:,} subscribers", proc, log, every=0.5)
                    done_wall = time.monotonic() - t0
                    time.sleep(1.0)  # anything sent twice would arrive now
                    mem.read()
                    load1 = os.getloadavg()[0]
                    stats = ask(pipe, "stats")
            finally:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                try:
                    code = proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    code = proc.wait(10)
            log_text = log.read_text(errors="replace")
        svc.engine.dispose()
    return judge(stats, n, counts, by_lang, t0, floors, floor) | {
        "db": db, "subscribers": n, "scale": scale, "seeded_s": seeded_s,
        "accepted_s": accepted_s, "done_wall": done_wall, "rss_idle": rss_idle,
        "rss_peak": mem.hwm_mb, "load": (load0, load1), "exit": code,
        "errors": [ln for ln in log_text.splitlines()
                   if " ERROR " in ln or " WARNING " in ln][:10]}


def judge(stats: dict[str, Any], n: int, counts: dict[str, int],
          by_lang: Counter[tuple[str, str]], t0: float, floors: dict[str, float],
          floor: float) -> dict[str, Any]:
    tg, line = stats["telegram"], stats["line"]
    line_first: dict[str, float] = {}
    line_copies: Counter[str] = Counter()
    for users, at in line["accepted"]:
        for u in users:
            line_copies[u] += 1
            line_first.setdefault(u, at)
    reached = len(tg["first"]) + len(line_first)
    duplicates = (sum(c - 1 for c in tg["copies"].values())
                  + sum(c - 1 for c in line_copies.values()))
    last = {"telegram": max(tg["first"].values(), default=t0),
            "line": max(line_first.values(), default=t0)}
    first_in: dict[str, float] = {}
    for i in range(1, n + 1):  # the first message in each language, either channel
        ch, uid, lang, _ = subscriber(i, LINE_SHARE)
        at = (tg["first"] if ch == "telegram" else line_first).get(uid)
        if at is not None and (lang not in first_in or at < first_in[lang]):
            first_in[lang] = at
    last_at = max(last.values())
    return {
        "reached": reached, "lost": n - reached, "duplicates": duplicates,
        "telegram": counts.get("telegram", 0), "line": counts.get("line", 0),
        "floors": floors, "floor": floor, "last_s": last_at - t0,
        "last_by": {c: v - t0 for c, v in last.items()},
        "ratio": (last_at - t0) / floor,
        "every_language_s": (max(first_in.values()) - t0
                             if len(first_in) == len(LANGUAGES) else float("nan")),
        "languages": len(first_in), "too_many": tg["too_many"] + line["too_many"],
        "tg_max_gap": tg["max_gap"], "tg_busiest": tg["busiest_second"],
        "refusals": [_before(tg["times"], at) for at in tg["refused_at"][:5]],
        "requests": {"telegram": tg["requests"], "line": line["requests"]},
        "languages_seen": sorted({lang for _, lang in by_lang}),
    }


def _before(times: list[float], at: float) -> str:
    """Accepted Telegram requests in each tenth of the second before a 429 at ``at``."""
    bins = [0] * 10
    for t in times:
        if at - 1.0 <= t < at:
            bins[min(9, int((t - (at - 1.0)) * 10))] += 1
    return f"{sum(bins)} in the second before: {'/'.join(map(str, bins))}"


# ------------------------------------------------------------------ main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subscribers", type=int, default=100_000)
    ap.add_argument("--scale", type=float, default=10.0,
                    help="factor on the platforms' limits and the service's (default 10)")
    ap.add_argument("--db", default="sqlite", help="sqlite, postgres or both (comma-separated)")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    header("time to the last subscriber: bousai run → fake Telegram and LINE, flood limits "
           f"×{args.scale:g}")
    tg_rate, line_rate = (PLATFORM_RATE[c] * args.scale for c in ("telegram", "line"))
    print(f"{args.subscribers:,} subscribers, {LINE_SHARE:.0%} on LINE, "
          f"{len(LANGUAGES)} languages; fakes enforce Telegram {tg_rate:g} msg/s (and 1/s per "
          f"chat), LINE {line_rate:g} requests/s with 429s; the service is configured with "
          f"the same rates; targets: time to the last subscriber ≤ {TARGET_RATIO} × the "
          f"floor, peak RSS of bousai run < {TARGET_RSS_MB:.0f} MB", flush=True)
    rows: list[list[Any]] = []
    verdicts: list[str] = []
    for db in args.db.split(","):
        runs = []
        for i in range(args.repeat):
            r = one_run(db, args.subscribers, args.scale)
            runs.append(r)
            floors = ", ".join(f"{c} {s:.1f} s" for c, s in r["floors"].items())
            print(f"  {db} run {i + 1}: floor {floors}; accepted in {r['accepted_s']:.2f} s; "
                  f"last Telegram {r['last_by']['telegram']:.1f} s, last LINE "
                  f"{r['last_by']['line']:.2f} s; ratio {r['ratio']:.3f}; every language by "
                  f"{r['every_language_s']:.2f} s; {r['reached']:,} reached, {r['lost']} lost, "
                  f"{r['duplicates']} duplicates, {r['too_many']} × 429 (Telegram: busiest second "
                  f"{r['tg_busiest']}, longest gap {r['tg_max_gap'] * 1000:.0f} ms); requests "
                  f"{r['requests']}; RSS idle {r['rss_idle']:.0f} MB, peak {r['rss_peak']:.0f} "
                  f"MB; load average {r['load'][0]:.2f} → {r['load'][1]:.2f}; seeding "
                  f"{r['seeded_s']:.1f} s; bousai run exited {r['exit']}", flush=True)
            for x in r["refusals"]:
                print(f"    429: {x}")
            for e in r["errors"]:
                print(f"    log: {e}")
        row = [db, args.subscribers, len(runs), median([r["floor"] for r in runs]),
               median([r["accepted_s"] for r in runs]), median([r["last_s"] for r in runs]),
               median([r["ratio"] for r in runs]),
               median([r["every_language_s"] for r in runs]),
               max(r["lost"] for r in runs), max(r["duplicates"] for r in runs),
               max(r["too_many"] for r in runs), median([r["rss_idle"] for r in runs]),
               max(r["rss_peak"] for r in runs)]
        rows.append(row)
        ok_time = row[6] <= TARGET_RATIO and row[8] == 0
        ok_mem = row[12] < TARGET_RSS_MB
        verdicts.append(f"verdict {db} time: {row[6]:.3f} × floor (≤ {TARGET_RATIO}), "
                        f"{row[8]} lost → {'PASS' if ok_time else 'MISS'}")
        verdicts.append(f"verdict {db} memory: peak RSS {row[12]:.0f} MB (< "
                        f"{TARGET_RSS_MB:.0f}) → {'PASS' if ok_mem else 'MISS'}")
    print(table(["db", "subscribers", "runs", "floor s", "accepted s", "last s", "ratio",
                 "every language s", "lost", "dups", "429s", "RSS idle MB", "RSS peak MB"],
                rows))
    for v in verdicts:
        print(v)


if __name__ == "__main__":
    main()
