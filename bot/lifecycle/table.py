"""The one transition table of an alert's life: which event may happen in which
state, and the state it leads to. :func:`check` is the only place that reads it."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from bot.domain import AlertStatus, MsgType
from bot.errors import OperatorError

S = AlertStatus


class Event(enum.StrEnum):
    HOLD = "hold"  # stored by ingest; an operator decides
    SUBMIT = "submit"  # waits for a second operator
    IGNORE = "ignore"  # recorded only (outside the city, policy says so)
    ACCEPT = "accept"  # rendered and queued without a second person
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"  # cancelled before anything went out
    CANCEL = "cancel"  # the original, when its cancellation is accepted
    LIFT = "lift"  # the original, when its lifting is accepted
    RESEND = "resend"  # failed rows queued again
    FINISH = "finish"  # every row done, some sent
    FAIL = "fail"  # every row done, none sent, none expired
    EXPIRE = "expire"  # past its expiry with nothing sent, or never approved in time


NEW = None
WAITING = frozenset({S.PENDING_APPROVAL, S.HELD})
OUT = frozenset({S.QUEUED, S.SENT, S.FAILED, S.EXPIRED})

#: event → (states it may happen in, state it leads to)
TRANSITIONS: Mapping[Event, tuple[frozenset[AlertStatus | None], AlertStatus]] = {
    Event.HOLD: (frozenset({NEW}), S.HELD),
    Event.SUBMIT: (frozenset({NEW}), S.PENDING_APPROVAL),
    Event.IGNORE: (frozenset({NEW}), S.IGNORED),
    Event.ACCEPT: (frozenset({NEW}), S.QUEUED),
    Event.APPROVE: (WAITING, S.QUEUED),
    Event.REJECT: (WAITING, S.REJECTED),
    Event.WITHDRAW: (WAITING, S.CANCELLED),
    Event.CANCEL: (OUT | {S.LIFTED}, S.CANCELLED),
    Event.LIFT: (OUT, S.LIFTED),
    Event.RESEND: (frozenset({S.QUEUED, S.SENT, S.FAILED}), S.QUEUED),
    Event.FINISH: (frozenset({S.QUEUED}), S.SENT),
    Event.FAIL: (frozenset({S.QUEUED}), S.FAILED),
    Event.EXPIRE: (frozenset({S.QUEUED}) | WAITING, S.EXPIRED),
}

#: what happens to the original when a follow-up of this type is accepted
ON_ORIGINAL = {MsgType.CANCEL: Event.CANCEL, MsgType.LIFT: Event.LIFT}


def check(event: Event, current: AlertStatus | str | None, alert_id: int | None = None
          ) -> AlertStatus:
    """The state ``event`` leads to from ``current``, or an OperatorError saying why not."""
    allowed, target = TRANSITIONS[event]
    state = None if current is None else S(current)
    if state not in allowed:
        names = " or ".join(sorted(s.value for s in allowed if s is not None)) or "new"
        needs = _NEEDS.get(event, f"{event.value} is only possible when it is {names}")
        raise OperatorError(f"alert {alert_id} is {state.value if state else 'new'}; {needs}")
    return target


_NEEDS = {
    Event.APPROVE: "only alerts waiting for approval (held or pending_approval) can be "
                   "approved",
    Event.REJECT: "only alerts waiting for approval (held or pending_approval) can be "
                  "rejected",
    Event.WITHDRAW: "only alerts that have not gone out can be withdrawn",
}
