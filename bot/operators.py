"""The operators' chat: alerts that wait for a person are announced to a Telegram
group set in the config, with Approve and Reject buttons.

Only the accounts listed in ``[operators.accounts]`` may press them; a press acts
in the operator's name through the lifecycle, so the two-person rule holds here
exactly as at the CLI (the issuing operator's own press is refused). Every press,
allowed or refused, is in the audit log. An announcement that cannot be sent is
logged and never stops the alert.

Emergency override: with ``emergency_override = true`` one operator may send the
gravest alerts (evacuation level 5, a tsunami warning, an emergency warning)
without a second person, giving a reason; it is marked in the audit log and
announced to the operators' chat at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.domain import Alert, Kind, Severity
from bot.errors import BousaiError, ConfigError

if TYPE_CHECKING:
    from bot.lifecycle import Prepared
    from bot.service import Service

log = logging.getLogger(__name__)

APPROVE, REJECT = "op:approve:", "op:reject:"


@dataclass(frozen=True)
class OperatorSettings:
    two_person_rule: bool = True
    emergency_override: bool = False
    telegram_chat_id: str | None = None
    #: "telegram:<user id>" → operator name
    accounts: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Any) -> OperatorSettings:
        section = config.section("operators")
        chat = section.get("chat", {})
        accounts: dict[str, str] = {}
        for name, ids in dict(section.get("accounts", {})).items():
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise ConfigError('list the accounts as ["telegram:<user id>", …]',
                                  key=f"operators.accounts.{name}", path=config.path)
            for account in ids:
                if not account.startswith("telegram:") or not account[9:].isdigit():
                    raise ConfigError(f"{account!r} is not telegram:<numeric user id>",
                                      key=f"operators.accounts.{name}", path=config.path)
                accounts[account] = str(name)
        chat_id = str(chat.get("telegram_chat_id") or "").strip() or None
        if chat_id is not None and not chat_id.lstrip("-").isdigit():
            raise ConfigError("a Telegram chat id is a number such as -1001234567890",
                              key="operators.chat.telegram_chat_id", path=config.path)
        return cls(two_person_rule=bool(section.get("two_person_rule", True)),
                   emergency_override=bool(section.get("emergency_override", False)),
                   telegram_chat_id=chat_id, accounts=accounts)


def level_of(alert: Alert) -> int | None:
    """The alert's level where its payload has one (evacuation 3-5, volcano 1-5)."""
    level = getattr(alert.payload, "level", None)
    return None if level is None else int(level)


def grave(alert: Alert) -> bool:
    """Alerts that may be sent by one operator under the emergency override."""
    return ((alert.kind is Kind.EVACUATION and level_of(alert) == 5)
            or (alert.kind in (Kind.TSUNAMI, Kind.WEATHER_WARNING, Kind.EEW)
                and alert.severity >= Severity.EXTREME))


def announcement(svc: Service, alert_id: int, prepared: Prepared, headline: str) -> str:
    """The text posted to the operators' chat: what, where, to whom, ja and en."""
    a = prepared.alert
    config = svc.config
    where = ("the whole city" if not a.wards or set(a.wards) >= set(config.ward_codes)
             else ", ".join(config.ward(c).name("ja") for c in a.wards))
    recipients = sum(sum(v.values()) for v in prepared.counts.values())
    lines = [headline, f"alert {alert_id}: {a.kind.value} {a.msg_type.value}, "
             f"severity {a.severity.name.lower()}{' (TEST)' if a.test else ''}",
             f"where: {where}; recipients: {recipients}"]
    for language in ("ja", "en"):
        shown = next((r for r in prepared.renderings if r.language == language
                      and r.channel == "telegram"), None) \
            or next((r for r in prepared.renderings if r.language == language), None)
        if shown is not None:
            lines.append(f"[{language}] " + shown.parts[0][:600])
    return "\n".join(lines)


def announce(svc: Service, alert_id: int, headline: str, *, buttons: bool = True,
             prepared: Prepared | None = None) -> bool:
    """Post to the operators' chat (if configured); False when it could not be sent.
    ``prepared``: what the issuer was shown, when there is one (else it is prepared)."""
    settings = OperatorSettings.from_config(svc.config)
    token = svc.settings.secret("TELEGRAM_BOT_TOKEN").get()
    if settings.telegram_chat_id is None:
        return False
    if not token:
        log.warning("operators' chat: TELEGRAM_BOT_TOKEN is not set; alert %d not announced",
                    alert_id)
        return False
    try:
        prepared = prepared or svc.lifecycle.prepare_view(alert_id)
        text = announcement(svc, alert_id, prepared, headline)
        asyncio.run(_post(svc, token, settings.telegram_chat_id, text,
                          alert_id if buttons else None))
    except Exception as exc:  # never stops the alert
        log.warning("operators' chat: alert %d not announced: %s: %s", alert_id,
                    type(exc).__name__, exc)
        return False
    return True


async def _post(svc: Service, token: str, chat_id: str, text: str,
                alert_id: int | None) -> None:
    from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

    base = svc.settings.base_url("telegram").rstrip("/")
    markup = None if alert_id is None else InlineKeyboardMarkup([[
        InlineKeyboardButton("✅ Approve", callback_data=f"{APPROVE}{alert_id}"),
        InlineKeyboardButton("❌ Reject", callback_data=f"{REJECT}{alert_id}")]])
    async with Bot(token, base_url=f"{base}/bot") as bot:
        await bot.send_message(int(chat_id), text[:4000], reply_markup=markup)


def press(svc: Service, account: str, chat_id: str, data: str) -> str:
    """A button pressed in the operators' chat; returns what to tell the presser.
    Refused unless the chat is the operators' chat and the account is listed."""
    from bot.store import alerts as alert_store

    settings = OperatorSettings.from_config(svc.config)
    action, _, raw_id = data[3:].partition(":")
    alert_id = int(raw_id) if raw_id.isdigit() else 0
    operator = settings.accounts.get(account)
    if chat_id != settings.telegram_chat_id or operator is None:
        outcome = "refused: not an operator account in the operators' chat"
    else:
        try:
            if action == "approve":
                svc.lifecycle.approve(alert_id, operator)
                outcome = f"approved by {operator}; queued"
            elif action == "reject":
                svc.lifecycle.reject(alert_id, operator, "rejected in the operators' chat")
                outcome = f"rejected by {operator}"
            else:
                outcome = f"refused: unknown action {action!r}"
        except BousaiError as exc:
            outcome = f"refused: {exc}"
    with svc.engine.begin() as conn:
        alert_store.audit(conn, operator or account, f"chat_{action or 'press'}",
                          alert_id=alert_id or None, outcome=outcome, account=account)
    log.info("operators' chat: %s pressed %s on alert %d: %s", account, action, alert_id,
             outcome)
    return outcome
