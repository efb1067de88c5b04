"""feed_state.connected_since, feed_state.reconnects: the state of a push source
(DMDATA.jp WebSocket) beside the polled feeds

Revision ID: 0006_push_state
Revises: 0005_delivery_faults
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_push_state"
down_revision = "0005_delivery_faults"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed_state") as batch:
        batch.add_column(sa.Column("connected_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reconnects", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feed_state") as batch:
        batch.drop_column("reconnects")
        batch.drop_column("connected_since")
