"""DMDATA.jp push end to end: the fake DMDATA server (REST socket start + WebSocket),
the real push client, the intake, the database, the dispatcher and the real
python-telegram-bot client against the fake Telegram."""

from __future__ import annotations

import asyncio
import base64
import gzip
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from bot.config import Secret
from bot.db.schema import alerts, feed_state
from bot.fakes.dmdata import FakeDmdata, as_if_now
from bot.intake import Intake
from bot.push.dmdata import DmdataSource
from bot.push.settings import DmdataSettings
from tests.harness import Harness, harness
from tests.jma_helpers import load

WARNING_1 = "37_01_01_240613_VXSE43.xml"  # 第1報: 四国, 九州, 中国; not 熊本
WARNING_2 = "37_01_02_240613_VXSE43.xml"  # 第2報: 熊本県熊本 newly in the warning
CANCEL = "37_01_03_240613_VXSE43.xml"  # 取消
KEY = "test-dmdata-key"


def settings(fake: FakeDmdata, **kw: Any) -> DmdataSettings:
    return DmdataSettings(base_url=fake.url, api_key=Secret(KEY), keepalive=kw.pop("keepalive", 5),
                          reconnect_initial=0.05, reconnect_max=0.2, **kw)


def fresh(name: str, shift: float = 0.0) -> bytes:
    import datetime as dt

    return as_if_now(load(name), dt.datetime.now(dt.UTC) + dt.timedelta(seconds=shift))


def _rows(h: Harness) -> list[Any]:
    with h.engine.connect() as conn:
        return list(conn.execute(sa.select(alerts.c.id, alerts.c.source_id, alerts.c.status,
                                           alerts.c.msg_type, alerts.c.priority,
                                           alerts.c.policy_rule).order_by(alerts.c.id)))


async def until(cond: Callable[[], Any], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def running(h: Harness, fake: FakeDmdata, **kw: Any) -> AsyncIterator[DmdataSource]:
    dispatcher = h.dispatcher(poll_interval=0.5)
    source = DmdataSource(Intake.for_service(h.service), settings(fake, **kw),
                          on_accept=dispatcher.wake)
    await source.open_channels(st.channel for st in dispatcher.states.values())
    stop = asyncio.Event()
    tasks = [asyncio.ensure_future(dispatcher.run()), asyncio.ensure_future(source.run(stop))]
    try:
        await until(lambda: source.state.connected_since is not None)
        yield source
    finally:
        stop.set()
        dispatcher.stop()
        await asyncio.gather(*tasks)
        for st in dispatcher.states.values():
            await st.channel.close()


def test_an_eew_for_kumamoto_reaches_telegram_within_a_second(db_url: str) -> None:
    with harness(db_url) as h, FakeDmdata(api_key=KEY) as fake:
        subscribers = h.seed(32, channels=("telegram", "line", "x"))

        async def go() -> None:
            async with running(h, fake) as source:
                assert fake.requests[0]["classifications"] == ["eew.warning"]
                await asyncio.to_thread(fake.push, fresh(WARNING_1, -11))
                await until(lambda: len(_rows(h)) == 1)
                assert _rows(h)[0].policy_rule == "outside-jurisdiction"
                assert h.telegram.sent == []

                pushed = time.monotonic()
                await asyncio.to_thread(fake.push, fresh(WARNING_2))
                await until(lambda: h.telegram.sent, timeout=5)
                latency = h.telegram.sent[0].at - pushed
                print(f"\nDMDATA push -> first Telegram request: {latency * 1000:.0f} ms")
                assert latency < 1.0
                chats = len(subscribers["telegram"])
                await until(lambda: len(h.telegram.sent) >= chats)
                first = h.telegram.sent[0].text.splitlines()[0]
                assert first in ("Strong shaking expected in Kumamoto City. Protect yourself now.",
                                 "熊本市で強い揺れに警戒してください。今すぐ身を守ってください。") \
                    or "熊本" in first or "Kumamoto" in first
                eew = _rows(h)[-1]
                assert eew.priority == 100 and eew.policy_rule == "eew-city"

                sent_before = len(h.telegram.sent)
                await asyncio.to_thread(fake.push, fresh(CANCEL))
                await until(lambda: len(h.telegram.sent) >= 2 * sent_before)
                replies = h.telegram.sent[sent_before:]
                assert _rows(h)[-1].msg_type == "cancel"
                assert replies and all(m.reply_to_message_id for m in replies)
                assert _rows(h)[-2].status == "cancelled"
                assert source.state.reconnects == 0

        asyncio.run(go())


def test_reconnects_and_never_hands_a_document_over_twice(db_url: str) -> None:
    with harness(db_url) as h, FakeDmdata(api_key=KEY) as fake:
        h.seed(8, channels=("telegram",))

        async def go() -> None:
            async with running(h, fake) as source:
                doc = fresh(WARNING_2)
                message = fake.data_message(doc)
                await asyncio.to_thread(fake.push_message, message)
                await until(lambda: len(_rows(h)) == 1 and _rows(h)[0].status == "sent")
                sent = len(h.telegram.sent)

                fake.refuse_next(1)  # the first socket start after the drop fails too
                await asyncio.to_thread(fake.drop)
                await until(lambda: source.state.reconnects >= 2
                            and source.state.connected_since is not None)
                assert fake.socket_starts == 2 and fake.connections == 2
                # DMDATA sends the document again (same id), and once more under a new id.
                await asyncio.to_thread(fake.push_message, message)
                await asyncio.to_thread(fake.push, doc)
                await asyncio.to_thread(fake.ping)
                await until(lambda: fake.pongs >= 1)
                await asyncio.sleep(0.3)
                assert len(_rows(h)) == 1
                assert len(h.telegram.sent) == sent

            with h.engine.connect() as conn:
                row = conn.execute(sa.select(feed_state).where(
                    feed_state.c.name == "dmdata")).one()
            assert row.reconnects == 2 and row.connected_since is None
            assert row.documents_seen == 1 and row.last_error

        asyncio.run(go())


def test_bad_documents_are_refused_and_the_connection_goes_on(
        db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with harness(db_url) as h, FakeDmdata(api_key=KEY) as fake:
        async def go() -> None:
            async with running(h, fake) as source:
                not_gzip = fake.data_message(b"")
                not_gzip["body"] = base64.b64encode(b"<Report>plain, not gzip</Report>").decode()
                bad_xml = fake.data_message(b"<Report><Control>")
                not_base64 = fake.data_message(b"")
                not_base64["body"] = "***"
                for message in (not_gzip, bad_xml, not_base64):
                    await asyncio.to_thread(fake.push_message, message)
                await asyncio.to_thread(fake.push, fresh(WARNING_2))
                await until(lambda: len(_rows(h)) == 1)
                assert source.state.reconnects == 0 and fake.connections == 1

        with caplog.at_level(logging.INFO):
            asyncio.run(go())
        lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert any(f"data {ident}: body is not gzip" in line
                   for line in lines for ident in [not_gzip_id(lines)])
        assert any("body is not base64" in line for line in lines)
        assert any("rejected dmdata:VXSE43:" in line and "XML" in line.upper() for line in lines)
        assert not any(KEY in r.getMessage() for r in caplog.records)


def not_gzip_id(lines: list[str]) -> str:
    line = next(line for line in lines if "body is not gzip" in line)
    return line.split("data ", 1)[1].split(":", 1)[0]


def test_a_wrong_key_is_reported_without_the_key(db_url: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    with harness(db_url) as h, FakeDmdata(api_key="the-right-key") as fake:
        async def go() -> DmdataSource:
            source = DmdataSource(Intake.for_service(h.service), settings(fake))
            stop = asyncio.Event()
            task = asyncio.ensure_future(source.run(stop))
            await until(lambda: source.state.reconnects >= 2)
            stop.set()
            await task
            return source

        with caplog.at_level(logging.WARNING):
            source = asyncio.run(go())
        assert "socket start refused: HTTP 401, Unauthorized." in (source.state.last_error or "")
        assert not source.readiness().ok
        assert not any(KEY in r.getMessage() for r in caplog.records)


def test_decoding_a_data_message() -> None:
    from bot.push.dmdata_protocol import DocumentError, decode_data

    xml = load(WARNING_2)
    fake = FakeDmdata()
    doc = decode_data(fake.data_message(xml, message_id="abc"))
    assert (doc.id, doc.type, doc.classification, doc.body) == ("abc", "VXSE43", "eew.warning",
                                                               xml)
    plain = fake.data_message(xml) | {"compression": None, "encoding": "utf-8",
                                      "body": xml.decode()}
    assert decode_data(plain).body == xml
    big = fake.data_message(b"x" * 2000)
    with pytest.raises(DocumentError, match="over the 1000-byte limit"):
        decode_data(big, max_bytes=1000)
    truncated = fake.data_message(xml)
    truncated["body"] = base64.b64encode(gzip.compress(xml)[:-20]).decode()
    with pytest.raises(DocumentError, match=r"truncated|not gzip"):
        decode_data(truncated)


def test_a_document_the_database_refused_is_tried_again(db_url: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    with harness(db_url) as h, FakeDmdata(api_key=KEY) as fake:
        h.seed(4, channels=("telegram",))
        failures = [sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))]
        real = Intake.process

        def flaky(self: Intake, data: bytes, origin: str) -> Any:
            if failures:
                raise failures.pop()
            return real(self, data, origin)

        monkeypatch.setattr(Intake, "process", flaky)

        async def go() -> None:
            async with running(h, fake) as source:
                await asyncio.to_thread(fake.push, fresh(WARNING_2))
                await until(lambda: len(h.telegram.sent) == 4)
                assert len(_rows(h)) == 1 and source.state.reconnects == 0

        asyncio.run(go())
