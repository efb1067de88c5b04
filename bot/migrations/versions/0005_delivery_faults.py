"""deliveries.timeouts (sends whose outcome is unknown) and channel_states (paused or
sending, for operators in other processes)

Revision ID: 0005_delivery_faults
Revises: 0004_webhook_events
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_delivery_faults"
down_revision = "0004_webhook_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("timeouts", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "channel_states",
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("worker", sa.String(100)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("channel_states")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("timeouts")
