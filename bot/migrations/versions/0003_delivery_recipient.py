"""deliveries.recipient: the one recipient of a per-chat row, indexed for erasure

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("recipient", sa.String(128), nullable=True))
        batch.create_index("ix_deliveries_channel_recipient", ["channel", "recipient"])
    first = ("recipients->>0" if op.get_bind().dialect.name == "postgresql"
             else "json_extract(recipients, '$[0]')")
    op.execute(f"UPDATE deliveries SET recipient = {first} "  # noqa: S608 - no user input
               "WHERE recipient_count = 1 AND recipients IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_channel_recipient")
        batch.drop_column("recipient")
