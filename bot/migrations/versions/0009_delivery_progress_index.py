"""The ledger's (alert_id, status) index also covers channel, language and
recipient_count: an alert's progress by channel and language (the console's Now page,
`bousai alert show`) is then read from the index alone, not the table.

Revision ID: 0009_delivery_progress_index
Revises: 0008_operator_accounts
"""

from __future__ import annotations

from alembic import op

revision = "0009_delivery_progress_index"
down_revision = "0008_operator_accounts"
branch_labels = None
depends_on = None

COLUMNS = ["alert_id", "status", "channel", "language", "recipient_count"]


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_index("ix_deliveries_alert_id_status")
        batch_op.create_index("ix_deliveries_alert_progress", COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_index("ix_deliveries_alert_progress")
        batch_op.create_index("ix_deliveries_alert_id_status", ["alert_id", "status"],
                              unique=False)
