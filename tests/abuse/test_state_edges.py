"""One state change at a time (issue case 7): two operators cancelling the same
alert at once send one cancellation; the second is told "already cancelled"."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.db.schema import alerts, deliveries
from bot.domain import Alert, Evacuation, EvacuationLevel, Kind, MsgType, Severity
from bot.errors import OperatorError
from tests.harness import Harness, harness


@pytest.fixture
def h(db_url: str) -> Iterator[Harness]:
    with harness(db_url) as hh:
        yield hh


def _order() -> Alert:
    return Alert(source="cli", source_id="order-race", kind=Kind.EVACUATION,
                 payload=Evacuation(level=EvacuationLevel.EVACUATE), wards=("43101",),
                 severity=Severity.EXTREME, issued=dt.datetime.now(dt.UTC),
                 headline_ja="中央区に避難指示", body_ja="白川周辺の方は直ちに避難してください。")


@pytest.mark.parametrize("msg_type", [MsgType.CANCEL, MsgType.LIFT])
def test_two_racing_follow_ups_send_once(h: Harness, msg_type: MsgType) -> None:
    h.seed(20, channels=("telegram",), wards=("43101",))
    life = h.service.lifecycle
    original = h.submit(_order(), operator="sato")
    assert h.run_until_idle()
    text = "誤って送信しました。" if msg_type is MsgType.CANCEL else "解除しました。"
    # Both operators are shown the preview before either submits (the race).
    prepared = [life.follow_up(original, msg_type, text_ja=text) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[object] = []

    def go(i: int) -> None:
        barrier.wait()
        try:
            results.append(life.submit(prepared[i], operator=f"op{i}", action="auto"))
        except OperatorError as exc:
            results.append(exc)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    refused = [r for r in results if isinstance(r, OperatorError)]
    assert len(results) == 2 and len(refused) == 1, results
    assert "already" in str(refused[0])
    with h.engine.connect() as conn:
        follow_ups = conn.execute(sa.select(alerts.c.id).where(
            alerts.c.ref_alert_id == original)).scalars().all()
        rows = conn.execute(sa.select(sa.func.count()).select_from(deliveries).where(
            deliveries.c.alert_id.in_(follow_ups), deliveries.c.channel == "telegram")).scalar()
    assert len(follow_ups) == 1
    assert rows == 20  # one follow-up to each of the 20 recipients, not 40
