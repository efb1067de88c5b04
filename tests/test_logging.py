"""Logs: one line per event, JSON on request, ids in it, secrets never."""

from __future__ import annotations

import io
import json
import logging

from bot.logs import JsonFormatter, RedactSecrets, TextFormatter


def _logger(fmt: logging.Formatter, secrets: list[str]) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(fmt)
    handler.addFilter(RedactSecrets(secrets))
    logger = logging.getLogger(f"test.{id(stream)}")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger, stream


def test_json_lines_carry_ids_and_hide_secrets() -> None:
    token = "123456:AAE-super-secret-token"
    logger, stream = _logger(JsonFormatter(), [token])
    logger.warning("request to https://api.telegram.org/bot%s/sendMessage failed", token,
                   extra={"alert_id": 7, "delivery_id": 42})
    line = stream.getvalue().strip()
    assert "\n" not in line
    obj = json.loads(line)
    assert obj["alert_id"] == 7 and obj["delivery_id"] == 42 and obj["level"] == "warning"
    assert token not in line and "bot***/sendMessage" in obj["msg"]


def test_text_format_is_one_readable_line() -> None:
    logger, stream = _logger(TextFormatter(), ["s3cr3t-value"])
    logger.info("alert %d accepted with s3cr3t-value", 3, extra={"alert_id": 3})
    line = stream.getvalue()
    assert line.count("\n") == 1
    assert "alert 3 accepted with ***" in line and "[alert_id=3]" in line
    assert "s3cr3t-value" not in line


def test_tracebacks_hide_secrets() -> None:
    token = "123456:AAE-super-secret-token"
    for fmt in (TextFormatter(), JsonFormatter()):
        logger, stream = _logger(fmt, [token])
        try:
            raise ValueError(f"bad URL https://api.telegram.org/bot{token}/sendMessage")
        except ValueError:
            logger.exception("telegram: unexpected ValueError")
        out = stream.getvalue()
        assert "Traceback" in out and "ValueError" in out
        assert token not in out and "bot***/sendMessage" in out
