"""The DMDATA.jp API v2 protocol, as data: no I/O here.

A client starts a socket with the REST API, then reads the WebSocket it names:

1. ``POST {base}/v2/socket`` (HTTP Basic, the API key as user name, no password)
   with ``{"classifications": ["eew.warning"], "test": "no", "appName": …,
   "formatMode": "raw"}``. The answer ``{"status": "ok", "ticket": …, "websocket":
   {"id": 123, "url": "wss://…/v2/websocket?ticket=…", "protocol": ["dmdata.v2"],
   "expiration": 300}, …}`` names the socket; an error is ``{"status": "error",
   "error": {"message": …, "code": 401}}``.
2. Connect to ``websocket.url`` with the sub-protocol ``dmdata.v2``. Messages are JSON
   text, told apart by ``type``:

   ``start``  ``{"type": "start", "socketId": 123, "classifications": […], "types":
              null, "test": "no", "formats": […], "appName": …, "time": …}``
   ``ping``   ``{"type": "ping", "pingId": "…"}``; answer ``{"type": "pong",
              "pingId": "…"}`` (the same id), or the server closes the socket.
              A client may send a ping too; the server answers with a pong.
   ``data``   ``{"type": "data", "version": "2.0", "id": "…", "classification":
              "eew.warning", "passing": […], "head": {"type": "VXSE43", "author":
              "気象庁", "time": …, "test": false, "xml": true}, "xmlReport": {…},
              "format": "xml", "compression": "gzip", "encoding": "base64",
              "body": "…"}``: the document is ``body`` decoded (base64) and
              decompressed (gzip); ``compression`` null and ``encoding`` "utf-8"
              mean plain text.
   ``error``  ``{"type": "error", "error": "…", "code": 4xxx, "close": true}``;
              with ``close`` the server ends the socket.

Errors (all :class:`~bot.errors.IngestError`)::

    ProtocolError            a message or answer that does not follow the protocol
     └─ DocumentError        a data message whose document cannot be read
                             (not base64, not gzip, too large, not UTF-8 XML)
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass
from typing import Any

from bot.errors import IngestError

SUBPROTOCOL = "dmdata.v2"
DEFAULT_BASE_URL = "https://api.dmdata.jp"
SOURCE = "dmdata"


class ProtocolError(IngestError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, source=SOURCE)


class DocumentError(ProtocolError):
    def __init__(self, reason: str, *, message_id: str = "") -> None:
        super().__init__(reason)
        self.message_id = message_id


@dataclass(frozen=True, kw_only=True, slots=True)
class Socket:
    id: int | None
    url: str
    protocols: tuple[str, ...]
    expiration: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Document:
    """One data message: DMDATA's id, the classification, JMA's type (VXSE43 …),
    DMDATA's test flag and the document's bytes."""

    id: str
    classification: str
    type: str
    test: bool
    body: bytes


def start_request(classifications: tuple[str, ...], app_name: str) -> dict[str, Any]:
    return {"classifications": list(classifications), "test": "no", "appName": app_name,
            "formatMode": "raw"}


def parse_socket_start(status: int, text: str) -> Socket:
    """The socket an answer to ``POST /v2/socket`` names; ProtocolError with DMDATA's
    own message otherwise."""
    try:
        data = json.loads(text)
    except ValueError:
        raise ProtocolError(f"socket start: HTTP {status}, not JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"socket start: HTTP {status}, unexpected answer")
    if data.get("status") != "ok":
        found = data.get("error")
        err: dict[str, Any] = found if isinstance(found, dict) else {}
        raise ProtocolError(f"socket start refused: HTTP {status}, "
                            f"{err.get('message') or 'no message'} (code {err.get('code')})")
    ws = data.get("websocket")
    if not isinstance(ws, dict) or not isinstance(ws.get("url"), str):
        raise ProtocolError("socket start: the answer has no websocket.url")
    protocols = ws.get("protocol") or [SUBPROTOCOL]
    if isinstance(protocols, str):
        protocols = [protocols]
    return Socket(id=ws.get("id") if isinstance(ws.get("id"), int) else None, url=ws["url"],
                  protocols=tuple(str(p) for p in protocols),
                  expiration=ws.get("expiration") if isinstance(ws.get("expiration"), int)
                  else None)


def parse_message(text: str | bytes) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise ProtocolError("a WebSocket message that is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError("a WebSocket message without a type")
    return data


def pong(message: dict[str, Any]) -> dict[str, Any]:
    return {"type": "pong", "pingId": message.get("pingId")}


def _gunzip(raw: bytes, max_bytes: int, message_id: str) -> bytes:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip only
    try:
        out = d.decompress(raw, max_bytes + 1)
    except zlib.error as exc:
        raise DocumentError(f"data {message_id}: body is not gzip ({exc})",
                            message_id=message_id) from None
    if len(out) > max_bytes:
        raise DocumentError(f"data {message_id}: document is over the {max_bytes}-byte limit",
                            message_id=message_id)
    if not d.eof:
        raise DocumentError(f"data {message_id}: gzip body is truncated",
                            message_id=message_id)
    return out


def decode_data(message: dict[str, Any], *, max_bytes: int = 5_000_000) -> Document:
    """The document a data message carries; DocumentError says why it cannot be read."""
    mid = str(message.get("id") or "")
    if not mid:
        raise DocumentError("data message without an id")
    found = message.get("head")
    head: dict[str, Any] = found if isinstance(found, dict) else {}
    if message.get("format") not in ("xml", None):
        raise DocumentError(f"data {mid}: format {message.get('format')!r} is not xml",
                            message_id=mid)
    body = message.get("body")
    if not isinstance(body, str):
        raise DocumentError(f"data {mid}: no body", message_id=mid)
    encoding, compression = message.get("encoding"), message.get("compression")
    if encoding == "base64":
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise DocumentError(f"data {mid}: body is not base64", message_id=mid) from None
    elif encoding == "utf-8":
        raw = body.encode("utf-8")
    else:
        raise DocumentError(f"data {mid}: unknown encoding {encoding!r}", message_id=mid)
    if compression == "gzip":
        raw = _gunzip(raw, max_bytes, mid)
    elif compression not in (None, ""):
        raise DocumentError(f"data {mid}: unknown compression {compression!r}", message_id=mid)
    elif len(raw) > max_bytes:
        raise DocumentError(f"data {mid}: document is over the {max_bytes}-byte limit",
                            message_id=mid)
    return Document(id=mid, classification=str(message.get("classification") or ""),
                    type=str(head.get("type") or ""), test=bool(head.get("test")), body=raw)
