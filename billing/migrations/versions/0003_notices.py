"""notices: outbox state machine, contact preferences

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 14:00:00.000000

The outbox gains what outbound notices need (billing/notices.py): a dedupe key that makes
every writer idempotent, a campaign, the delivery state machine and the provider's message
SID. Rows written before notices existed were never meant to be sent by a relay (a receipt
from months ago would only confuse): they are marked `suppressed` with error code `legacy`
(or `sent` when `sent_at` says they went out), so the relay only ever sees new rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("campaign", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("state", sa.String(length=20), server_default="new", nullable=False)
        )
        batch_op.add_column(sa.Column("channel", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("segments", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("provider_sid", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("error_code", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("bill_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint("uq_outbox_dedupe_key", ["dedupe_key"])
        batch_op.create_unique_constraint("uq_outbox_provider_sid", ["provider_sid"])
        batch_op.create_foreign_key("fk_outbox_bill_id", "bills", ["bill_id"], ["id"])
        batch_op.create_index(
            "ix_outbox_campaign_state_id", ["campaign", "state", "id"], unique=False
        )
        batch_op.create_index("ix_outbox_state_id", ["state", "id"], unique=False)

    outbox = sa.table(
        "outbox",
        sa.column("kind", sa.String),
        sa.column("campaign", sa.String),
        sa.column("state", sa.String),
        sa.column("error_code", sa.String),
        sa.column("sent_at", sa.DateTime),
    )
    op.execute(
        outbox.update().where(outbox.c.kind == "payment_receipt").values(campaign="receipts")
    )
    op.execute(outbox.update().where(outbox.c.sent_at.is_not(None)).values(state="sent"))
    op.execute(
        outbox.update()
        .where(outbox.c.sent_at.is_(None))
        .values(state="suppressed", error_code="legacy")
    )

    op.create_table(
        "contact_preferences",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("opted_in", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("account_id", "channel"),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_phone"), ["phone"], unique=False)
    with op.batch_alter_table("bills", schema=None) as batch_op:
        batch_op.create_index("ix_bills_month", ["month"], unique=False)
        batch_op.create_index("ix_bills_due_date", ["due_date"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bills", schema=None) as batch_op:
        batch_op.drop_index("ix_bills_due_date")
        batch_op.drop_index("ix_bills_month")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_phone"))
    op.drop_table("contact_preferences")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_state_id")
        batch_op.drop_index("ix_outbox_campaign_state_id")
        batch_op.drop_constraint("fk_outbox_bill_id", type_="foreignkey")
        batch_op.drop_constraint("uq_outbox_provider_sid", type_="unique")
        batch_op.drop_constraint("uq_outbox_dedupe_key", type_="unique")
        batch_op.drop_column("bill_id")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("error_code")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claim_token")
        batch_op.drop_column("attempts")
        batch_op.drop_column("provider_sid")
        batch_op.drop_column("segments")
        batch_op.drop_column("channel")
        batch_op.drop_column("state")
        batch_op.drop_column("campaign")
        batch_op.drop_column("dedupe_key")
