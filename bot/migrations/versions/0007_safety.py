"""安否確認: safety_answers, and reply buttons on renderings

Revision ID: 0007_safety
Revises: 0006_push_state
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_safety"
down_revision = "0006_push_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("renderings") as batch:
        batch.add_column(sa.Column("buttons", sa.JSON, nullable=True))
    op.create_table(
        "safety_answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey(
            "alerts.id", ondelete="CASCADE", name="fk_safety_answers_alert_id_alerts"),
            nullable=False),
        sa.Column("subscriber_id", sa.Integer, sa.ForeignKey(
            "subscribers.id", ondelete="CASCADE",
            name="fk_safety_answers_subscriber_id_subscribers"), nullable=False),
        sa.Column("ward", sa.String(16)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_safety_answers"),
        sa.UniqueConstraint("alert_id", "subscriber_id",
                            name="uq_safety_answers_alert_id_subscriber_id"),
    )
    op.create_index("ix_safety_answers_alert_id_status", "safety_answers",
                    ["alert_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_safety_answers_alert_id_status", table_name="safety_answers")
    op.drop_table("safety_answers")
    with op.batch_alter_table("renderings") as batch:
        batch.drop_column("buttons")
