"""``bousai deliveries …``: the delivery ledger."""

from __future__ import annotations

import csv
import datetime as dt
import sys
import time
from array import array
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import sqlalchemy as sa
import typer

from bot.cli.common import (
    echo_json,
    fail,
    handle_errors,
    jst,
    one_of,
    parse_since,
    service_context,
)
from bot.domain import DeliveryStatus
from bot.leases import holder_of
from bot.render.timefmt import format_jst
from bot.store import channels as channel_store
from bot.store import deliveries as ledger

if TYPE_CHECKING:
    from rich.console import RenderableType

app = typer.Typer(help="The delivery ledger: log, statistics, live progress.",
                  no_args_is_help=True)

FIELDS = ("id", "alert_id", "channel", "recipients", "language", "status", "attempts",
          "provider_message_id", "error", "created_at", "sent_at", "updated_at")


def _record(r: Any) -> dict[str, Any]:
    return {"id": r.id, "alert_id": r.alert_id, "channel": r.channel,
            "recipients": list(r.recipients), "recipient_count": r.recipient_count,
            "language": r.language, "status": r.status, "attempts": r.attempts,
            "provider_message_id": r.provider_message_id, "error": r.last_error,
            "created_at": r.created_at, "sent_at": r.sent_at, "updated_at": r.updated_at}


@app.command("log")
@handle_errors
def log_(
    alert: Annotated[int | None, typer.Option(help="only this alert")] = None,
    status: Annotated[str | None, typer.Option(help="pending, in_flight, sent, failed, "
                                                   "cancelled, expired")] = None,
    channel: Annotated[str | None, typer.Option()] = None,
    since: Annotated[str | None, typer.Option(help="ISO time or 30m/6h/2d")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, jsonl or csv")] = "table",
) -> None:
    """Read the delivery ledger: every send, its outcome and its error.

    Example: bousai deliveries log --alert 12 --status failed --format csv
    """
    one_of(fmt, ("table", "jsonl", "csv"), "--format")
    one_of(status, [s.value for s in DeliveryStatus], "--status")
    since_t = parse_since(since)
    writer = csv.writer(sys.stdout) if fmt == "csv" else None
    if writer:
        writer.writerow(FIELDS)
    with service_context() as svc, svc.engine.connect() as conn:
        one_of(channel, list(svc.config.channels), "--channel")
        for r in ledger.log_rows(conn, alert_id=alert, status=status, channel=channel,
                                 since=since_t):
            rec = _record(r)
            if fmt == "jsonl":
                echo_json(rec)
            elif writer:
                writer.writerow([" ".join(rec[f]) if f == "recipients" else
                                 (jst(rec[f], "") if f.endswith("_at") else rec[f])
                                 for f in FIELDS])
            else:
                who = rec["recipients"][0] if rec["recipient_count"] == 1 else \
                    f"{rec['recipient_count']} users"
                typer.echo(f"{rec['id']:>7} {jst(rec['updated_at'])} alert {rec['alert_id']:<5} "
                           f"{rec['channel']:<8} "
                           f"{rec['language']:<8} {who:<22} {rec['status']:<10} "
                           f"try {rec['attempts']} {rec['provider_message_id'] or '':<12} "
                           f"{rec['error'] or ''}")


# ------------------------------------------------------------------ watch

OPEN = ("pending", "in_flight")


@dataclass(frozen=True)
class GroupCounts:
    """Recipients of one (channel, language) of an alert, by delivery status."""

    sent: int = 0
    pending: int = 0  # includes in flight
    failed: int = 0
    other: int = 0  # cancelled or expired

    @property
    def total(self) -> int:
        return self.sent + self.pending + self.failed + self.other


@dataclass(frozen=True)
class Snapshot:
    """What ``deliveries watch`` shows, read from the database at one moment."""

    alert_id: int
    alert_status: str
    at: float  # time.monotonic() when taken
    groups: dict[tuple[str, str], GroupCounts]
    errors: tuple[str, ...]  # "channel: error (×rows)", newest first
    send_at: dt.datetime | None = None
    unattended: tuple[str, ...] = ()  # channels with work that no worker holds
    halted: tuple[str, ...] = ()  # "telegram paused since 10:02 JST: <why>" (channel_states)

    @property
    def status_label(self) -> str:
        if self.alert_status == "queued" and self.send_at is not None \
                and self.send_at > dt.datetime.now(dt.UTC):
            return f"queued: scheduled for {format_jst(self.send_at, 'en')}"
        if self.alert_status == "queued" and self.pending:
            return "queued: sending"
        return self.alert_status

    @property
    def sent(self) -> int:
        return sum(g.sent for g in self.groups.values())

    @property
    def pending(self) -> int:
        return sum(g.pending for g in self.groups.values())

    @property
    def failed(self) -> int:
        return sum(g.failed for g in self.groups.values())

    @property
    def done(self) -> bool:
        """Nothing left to send (an alert waiting for approval is not done)."""
        return self.pending == 0 and self.alert_status not in ("pending_approval", "held")


def take_snapshot(conn: sa.Connection, alert_id: int, *, errors: int = 5) -> Snapshot:
    """Read one snapshot; raises AlertNotFound for an unknown id."""
    from bot.store.alerts import get_row

    row = get_row(conn, alert_id)
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for ch, lang, status, recips in ledger.recipients_by_status(conn, alert_id):
        key = "pending" if status in OPEN else status if status in ("sent", "failed") \
            else "other"
        c = counts.setdefault((ch, lang), {})
        c[key] = c.get(key, 0) + int(recips or 0)
    latest = [f"{ch}: {err}" + (f" (×{n})" if n > 1 else "")
              for ch, err, n in ledger.latest_errors(conn, alert_id, errors)]
    busy = sorted({ch for (ch, _), c in counts.items() if c.get("pending")})
    unattended = tuple(ch for ch in busy if holder_of(conn, f"channel:{ch}") is None)
    states = channel_store.states(conn)
    halted = tuple(f"{ch} {st['state']} since {format_jst(st['since'], 'en')}: {st['detail']}"
                   for ch in busy if ch not in unattended
                   and (st := states.get(ch, {})).get("state") in ("paused", "stopped"))
    return Snapshot(alert_id=alert_id, alert_status=str(row.status), at=time.monotonic(),
                    groups={k: GroupCounts(**v) for k, v in sorted(counts.items())},
                    errors=tuple(latest), send_at=row.send_at, unattended=unattended,
                    halted=halted)


class RateMeter:
    """Sent recipients per second over the last ``window`` seconds of snapshots."""

    def __init__(self, window: float = 5.0) -> None:
        self.window = window
        self.samples: deque[tuple[float, int]] = deque()

    def add(self, snap: Snapshot) -> float | None:
        self.samples.append((snap.at, snap.sent))
        while len(self.samples) > 2 and snap.at - self.samples[1][0] >= self.window:
            self.samples.popleft()
        (t0, s0), (t1, s1) = self.samples[0], self.samples[-1]
        if t1 - t0 <= 0:
            return None
        return max(0.0, (s1 - s0) / (t1 - t0))


def _duration(seconds: float) -> str:
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def render_snapshot(snap: Snapshot, rate: float | None) -> RenderableType:
    """The watch screen for one snapshot: a pure function, no I/O."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"alert {snap.alert_id} ({snap.status_label})", title_justify="left")
    for col in ("channel", "language", "sent", "pending", "failed", "cancelled/expired"):
        table.add_column(col, justify="left" if col in ("channel", "language") else "right")
    for (ch, lang), g in snap.groups.items():
        table.add_row(ch, lang, str(g.sent), str(g.pending),
                      Text(str(g.failed), style="red" if g.failed else ""), str(g.other))
    if len(snap.groups) > 1:
        table.add_row("total", "", str(snap.sent), str(snap.pending), str(snap.failed),
                      str(sum(g.other for g in snap.groups.values())), style="bold")
    if snap.done:
        summary = f"done: {snap.sent} sent, {snap.failed} failed"
    elif snap.alert_status in ("pending_approval", "held"):
        summary = "waiting for approval: nothing is sent until an operator approves"
    elif not snap.groups:
        summary = "no deliveries yet"
    else:
        rate_s = "not known yet" if rate is None else f"{rate:.1f} recipients/s"
        eta = "unknown" if not rate else _duration(snap.pending / rate)
        summary = f"rate {rate_s}; {snap.pending} pending; time remaining {eta}"
    parts: list[RenderableType] = [table, Text(summary)]
    if snap.unattended and not snap.done and snap.alert_status not in ("pending_approval",
                                                                        "held"):
        parts.append(Text(f"no worker is sending on {', '.join(snap.unattended)}: is "
                          "`bousai run` running?", style="bold red"))
    if not snap.done:
        parts.extend(Text(f"{h[:200]} (its deliveries wait; nothing is lost)",
                          style="bold yellow") for h in snap.halted)
    if snap.errors:
        parts.append(Text("errors by channel (newest first):"))
        parts.extend(Text(f"  {e[:200]}", style="red") for e in snap.errors)
    return Group(*parts)


@app.command("watch")
@handle_errors
def watch(
    alert_id: Annotated[int, typer.Argument(help="the alert's id")],
    interval: Annotated[float, typer.Option(min=0.2, help="seconds between refreshes")] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="print one snapshot and exit")] = False,
) -> None:
    """Live delivery progress of one alert: per channel and language sent, pending,
    failed, the current rate, the time remaining and the latest errors. Exits when
    nothing is left to send (run `bousai run` to send).

    Example: bousai deliveries watch 12 --interval 2
    """
    from rich.console import Console
    from rich.live import Live

    console = Console(width=None if sys.stdout.isatty() else 100)
    meter = RateMeter()
    with service_context() as svc:
        with svc.engine.connect() as conn:
            snap = take_snapshot(conn, alert_id)
        rate = meter.add(snap)
        if once or snap.done:
            console.print(render_snapshot(snap, rate))
            return
        try:
            with Live(render_snapshot(snap, rate), console=console,
                      refresh_per_second=4) as live:
                while not snap.done:
                    time.sleep(interval)
                    with svc.engine.connect() as conn:
                        snap = take_snapshot(conn, alert_id)
                    rate = meter.add(snap)
                    live.update(render_snapshot(snap, rate))
        except KeyboardInterrupt:
            raise fail(f"stopped watching; alert {alert_id} still has {snap.pending} "
                       "pending", code=130) from None


# ------------------------------------------------------------------ stats

def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100) by linear interpolation; None for no values."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@dataclass
class _ChannelStats:
    rows: int = 0
    recipients: int = 0
    recipients_sent: int = 0
    attempts: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    latencies: array[float] = field(default_factory=lambda: array("d"))

    def result(self) -> dict[str, Any]:
        sent = self.by_status.get("sent", 0)
        failed = self.by_status.get("failed", 0)
        expired = self.by_status.get("expired", 0)
        final = sent + failed + expired
        lat = sorted(self.latencies)

        def p(q: float) -> float | None:
            v = percentile(lat, q)
            return None if v is None else round(v, 3)

        return {
            "rows": self.rows, "recipients": self.recipients,
            "recipients_sent": self.recipients_sent,
            "sent": sent, "failed": failed,
            "pending": sum(self.by_status.get(s, 0) for s in OPEN),
            "cancelled": self.by_status.get("cancelled", 0), "expired": expired,
            "delivery_rate": round(sent / final, 4) if final else None,
            "latency_seconds": {"p50": p(50), "p90": p(90), "p99": p(99),
                                "max": round(lat[-1], 3) if lat else None},
            "attempts_avg": round(self.attempts / self.rows, 2) if self.rows else None,
        }


@app.command("stats")
@handle_errors
def stats(
    since: Annotated[str | None, typer.Option(
        help="only rows created since: ISO time or 30m/6h/2d")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Delivery statistics per channel: rows, recipients, sent/failed/pending, delivery
    rate (sent ÷ rows that reached sent, failed or expired; cancelled rows were stopped
    on purpose and do not count), latency p50/p90/p99 from creation to sending, and
    average attempts.

    Example: bousai deliveries stats --since 6h --json
    """
    since_t = parse_since(since)
    per: dict[str, _ChannelStats] = {}
    with service_context() as svc, svc.engine.connect() as conn:
        for r in ledger.stats_rows(conn, since_t):
            st = per.setdefault(r.channel, _ChannelStats())
            st.rows += 1
            st.recipients += r.recipient_count
            st.attempts += r.attempts
            st.by_status[r.status] = st.by_status.get(r.status, 0) + 1
            if r.status == "sent":
                st.recipients_sent += r.recipient_count
                if r.sent_at is not None:
                    st.latencies.append(max(0.0, (r.sent_at - r.created_at).total_seconds()))
    data = {name: per[name].result() for name in sorted(per)}
    if as_json:
        echo_json({"since": since_t, "channels": data})
        return
    if not data:
        typer.echo("no deliveries" + (f" since {jst(since_t)}" if since_t else ""))
        return

    def fmt(v: float | None, unit: str = "") -> str:
        return "-" if v is None else f"{v:g}{unit}"

    for name, s in data.items():
        lat = s["latency_seconds"]
        rate = "-" if s["delivery_rate"] is None else f"{s['delivery_rate'] * 100:.1f}%"
        typer.echo(f"{name:<9} rows {s['rows']}, recipients {s['recipients']}: "
                   f"sent {s['sent']}, failed {s['failed']}, pending {s['pending']}, "
                   f"cancelled {s['cancelled']}, expired {s['expired']}; delivered {rate}; "
                   f"latency p50 {fmt(lat['p50'], 's')} p90 {fmt(lat['p90'], 's')} "
                   f"p99 {fmt(lat['p99'], 's')}; attempts avg {fmt(s['attempts_avg'])}")
