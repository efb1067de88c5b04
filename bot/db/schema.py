"""Tables, as SQLAlchemy Core. The Alembic migrations in bot/migrations create them.

Times are stored in UTC and always come back timezone-aware (SQLite keeps no
zone, so :class:`UTCDateTime` re-attaches it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


class UTCDateTime(TypeDecorator[dt.datetime]):
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("source_id", sa.String(300), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("msg_type", sa.String(8), nullable=False),
    sa.Column("references", sa.String(300)),
    sa.Column("ref_alert_id", sa.Integer, sa.ForeignKey("alerts.id")),
    sa.Column("severity", sa.SmallInteger, nullable=False),
    sa.Column("urgency", sa.SmallInteger, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("wards", sa.JSON, nullable=False),
    sa.Column("areas", sa.JSON, nullable=False),
    sa.Column("headline_ja", sa.Text, nullable=False),
    sa.Column("body_ja", sa.Text, nullable=False),
    sa.Column("texts", sa.JSON, nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("issued", UTCDateTime, nullable=False),
    sa.Column("expires", UTCDateTime),
    sa.Column("send_at", UTCDateTime),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("test", sa.Boolean, nullable=False),
    sa.Column("in_jurisdiction", sa.Boolean, nullable=False),
    sa.Column("policy_action", sa.String(16)),
    sa.Column("policy_rule", sa.String(100)),
    sa.Column("created_by", sa.String(100)),
    sa.Column("approved_by", sa.String(100)),
    sa.Column("status_reason", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    sa.Column("updated_at", UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow),
    sa.UniqueConstraint("source", "source_id"),
    sa.Index(None, "status"),
    sa.Index(None, "references"),
)

renderings = sa.Table(
    "renderings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("language", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("parts", sa.JSON, nullable=False),
    sa.Column("machine_translated", sa.Boolean, nullable=False, default=False),
    # Reply buttons under the last part: [[label, data], ...] (a safety check's answers).
    sa.Column("buttons", sa.JSON),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    sa.UniqueConstraint("alert_id", "language", "channel"),
)

subscribers = sa.Table(
    "subscribers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("user_id", sa.String(128), nullable=False),
    sa.Column("language", sa.String(16), nullable=False),
    sa.Column("kinds_mask", sa.Integer, nullable=False),
    sa.Column("min_severity", sa.SmallInteger, nullable=False, default=0),
    sa.Column("test", sa.Boolean, nullable=False, default=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("signup_state", sa.String(32)),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    sa.Column("updated_at", UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow),
    sa.UniqueConstraint("channel", "user_id"),
    sa.Index(None, "channel", "active", "language"),
)

subscriber_wards = sa.Table(
    "subscriber_wards",
    metadata,
    sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("ward", sa.String(16), primary_key=True),
    sa.Index(None, "ward", "subscriber_id"),
)

# 安否確認: one answer per subscriber and alert that called for a safety check,
# changeable, deleted with the subscriber. ``ward``: the subscriber's first ward
# (configuration order) among those the check went to.
safety_answers = sa.Table(
    "safety_answers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("ward", sa.String(16)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("answered_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("alert_id", "subscriber_id"),
    sa.Index(None, "alert_id", "status"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("language", sa.String(16), nullable=False),
    sa.Column("recipients", sa.JSON, nullable=False),
    # The one recipient of a per-chat row (NULL for batches and posts): erasure finds
    # a subscriber's rows through the index below.
    sa.Column("recipient", sa.String(128)),
    sa.Column("recipient_count", sa.Integer, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("provider_message_id", sa.String(64)),
    sa.Column("message_ids", sa.JSON),
    sa.Column("reply_to", sa.String(64)),
    # A follow-up (correction, cancellation) replies to this delivery's message once
    # that delivery has a final outcome.
    sa.Column("reply_to_delivery", sa.Integer),
    sa.Column("last_error", sa.Text),
    # Sends whose outcome is unknown (timed out: the platform may have delivered it).
    # A row that timed out is sent at most once more; a non-zero count on a sent row
    # marks a possible duplicate.
    sa.Column("timeouts", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("idempotency_key", sa.String(36), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("updated_at", UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow),
    sa.Index(None, "status", "channel", "priority", "next_attempt_at"),
    # an alert's rows by status, and its progress by channel and language from the
    # index alone (migration 0009)
    sa.Index("ix_deliveries_alert_progress", "alert_id", "status", "channel", "language",
             "recipient_count"),
    sa.Index("ix_deliveries_channel_recipient", "channel", "recipient"),
)

feed_state = sa.Table(
    "feed_state",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("etag", sa.String(300)),
    sa.Column("last_modified", sa.String(100)),
    sa.Column("last_success_at", UTCDateTime),
    sa.Column("last_error_at", UTCDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("documents_seen", sa.Integer, nullable=False, default=0),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, default=0),
    sa.Column("next_poll_at", UTCDateTime),
    # A push source (bot/push/): connected now since (None while disconnected), and
    # how many times it had to connect again.
    sa.Column("connected_since", UTCDateTime),
    sa.Column("reconnects", sa.Integer),
)

feed_documents = sa.Table(
    "feed_documents",
    metadata,
    sa.Column("feed", sa.String(100), primary_key=True),
    sa.Column("doc_key", sa.String(500), primary_key=True),
    sa.Column("seen_at", UTCDateTime, nullable=False, default=utcnow),
    sa.Column("outcome", sa.String(200)),
)

# Webhook events already handled (LINE's webhookEventId): a replay or a
# redelivery of one is not handled twice.
webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("channel", sa.String(20), primary_key=True),
    sa.Column("event_id", sa.String(100), primary_key=True),
    sa.Column("seen_at", UTCDateTime, nullable=False, default=utcnow, index=True),
)

translation_cache = sa.Table(
    "translation_cache",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("source_lang", sa.String(16), nullable=False),
    sa.Column("target_lang", sa.String(16), nullable=False),
    sa.Column("source_hash", sa.String(64), nullable=False),
    sa.Column("source_text", sa.Text, nullable=False),
    sa.Column("translated", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    sa.UniqueConstraint("provider", "source_lang", "target_lang", "source_hash"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False, default=utcnow),
    sa.Column("operator", sa.String(100), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("alert_id", sa.Integer),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Index(None, "at"),
)

# What each channel's sender is doing, as its worker last wrote it (operators read it
# from other processes: ``bousai channels status``, ``deliveries watch``).
channel_states = sa.Table(
    "channel_states",
    metadata,
    sa.Column("channel", sa.String(16), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),  # sending, paused, stopped
    sa.Column("since", UTCDateTime, nullable=False),
    sa.Column("detail", sa.Text),
    sa.Column("worker", sa.String(100)),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("holder", sa.String(100), nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

# Who may sign in to the web console (bot/accounts.py). ``name`` is the operator name
# that audit_log.operator and alerts.created_by carry; ``password_hash`` is Argon2id.
# ``failed_logins`` and ``locked_until`` mirror the throttle for `bousai operators list`.
operator_accounts = sa.Table(
    "operator_accounts",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # viewer, issuer, approver
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("locked_until", UTCDateTime),
    sa.Column("password_changed_at", UTCDateTime, nullable=False),
    sa.Column("last_login_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    sa.Column("updated_at", UTCDateTime, nullable=False, default=utcnow),
)

# Failed console sign-ins of the last half hour, for throttling by name and by client
# across processes. ``name_key`` is a SHA-256 of the name as typed (a password typed
# into the name field is not kept in the clear); rows older than the look-back are
# deleted as new ones are written.
login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client", sa.String(100), nullable=False),
    sa.Column("name_key", sa.String(64), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index(None, "client", "at"),
    sa.Index(None, "name_key", "at"),
    sa.Index(None, "at"),
)
