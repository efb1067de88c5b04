"""Logging: one line per event, readable by default, JSON with BOUSAI_LOG_FORMAT=json.

Alert and delivery ids travel as ``extra={"alert_id": …, "delivery_id": …}``.
A filter masks every configured secret, wherever it would appear.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable
from typing import Any

_IDS = ("alert_id", "delivery_id", "channel", "feed")


_KNOWN: set[str] = set()  # every secret this process was configured with


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """``text`` with every configured secret (or ``secrets``) masked as ``***``: the
    one redaction for logs, stored errors, the audit log and command output."""
    for s in sorted(_KNOWN if secrets is None else secrets, key=len, reverse=True):
        if s and len(s) >= 4:
            text = text.replace(s, "***")
    return text


def remember_secrets(secrets: Iterable[str]) -> None:
    _KNOWN.update(s for s in secrets if s and len(s) >= 4)


class RedactSecrets(logging.Filter):
    """Masks the secrets in a record. Never raises and never drops a record: a
    message whose arguments do not format is logged as its template and a note."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            try:
                message = record.getMessage()
            except Exception:  # bad format arguments: keep the template, mark it
                message = f"{record.msg} (unformattable arguments)"
                record.msg, record.args = message, None
            redacted = self._redact(message)
            if redacted != message:
                record.msg, record.args = redacted, None
            if record.exc_info:  # a traceback may quote a URL with a token in it
                record.exc_text = self._redact(
                    record.exc_text or _PLAIN.formatException(record.exc_info))
        except Exception:  # a logging filter must never break its caller
            record.msg, record.args, record.exc_info = "(log record withheld: redaction " \
                "failed)", None, None
            record.exc_text = None
        return True

    def _redact(self, text: str) -> str:
        return redact(str(text), self.secrets)


_PLAIN = logging.Formatter()


def _exception(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    """The record's traceback, as the secret filter left it when it ran."""
    if record.exc_text:
        return record.exc_text
    return formatter.formatException(record.exc_info) if record.exc_info else ""


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(f"{k}={getattr(record, k)}" for k in _IDS if hasattr(record, k))
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
        line = f"{ts} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if ids:
            line += f" [{ids}]"
        if record.exc_info or record.exc_text:
            line += "\n" + _exception(self, record)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        obj: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for k in _IDS:
            if hasattr(record, k):
                obj[k] = getattr(record, k)
        if record.exc_info or record.exc_text:
            obj["exc"] = _exception(self, record)
        return json.dumps(obj, ensure_ascii=False)


def setup_logging(fmt: str = "text", level: int = logging.INFO,
                  secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    secrets = list(secrets)
    remember_secrets(secrets)
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_bousai", False):
            root.removeHandler(h)
    handler._bousai = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # SDK loggers are chatty at INFO and may print request URLs, which for
    # Telegram contain the bot token.
    for name in ("httpx", "httpcore", "telegram", "apscheduler", "aiohttp.access",
                 "linebot", "tweepy", "urllib3", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
