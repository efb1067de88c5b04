"""What policy decides for an ingested alert."""

from __future__ import annotations

import enum


class PolicyAction(enum.StrEnum):
    """A policy rule's action. The values are what ``[[policy.rules]] action`` and
    ``alerts.policy_action`` hold, so they must not change."""

    AUTO = "auto"  # send without an operator
    HOLD = "hold"  # store and wait for an operator's decision
    IGNORE = "ignore"  # record only (outside the jurisdiction, or noise)
    FOLLOW = "follow"  # update/cancel: sent when the alert it refers to was sent
