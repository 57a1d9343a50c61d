"""complaint events: a complaint's history

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 12:00:00.000000

One row per status a complaint reached, with when and from where ("open" from the channel
it was filed on, then each operator move), so an operator can follow one complaint
(GET /v1/operator/complaints/<ticket>). Complaints filed before this revision get their
history back as far as the ledger knows it: "open" at filing, then each status an outbox
notice was written for (`complaint:<ticket>:<status>`, at the notice's time), then the
current status if none of those reached it (at its resolution time, or at filing).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MOVES = ("in_progress", "resolved", "closed")


def upgrade() -> None:
    op.create_table(
        "complaint_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("complaint_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaint_events_complaint_id"), ["complaint_id"], unique=False
        )

    op.execute(
        "INSERT INTO complaint_events (complaint_id, status, source, at) "
        "SELECT id, 'open', channel, created_at FROM complaints"
    )
    for status in MOVES:  # constants, not input: spelled into the statement
        op.execute(
            "INSERT INTO complaint_events (complaint_id, status, source, at) "
            f"SELECT c.id, '{status}', 'operator', o.created_at FROM complaints c "
            # "\\:" keeps SQLAlchemy from reading ":in_progress" as a bind parameter.
            f"JOIN outbox o ON o.dedupe_key = 'complaint:' || c.ticket_number || '\\:{status}'"
        )
    op.execute(
        "INSERT INTO complaint_events (complaint_id, status, source, at) "
        "SELECT c.id, c.status, 'operator', COALESCE(c.resolved_at, c.created_at) "
        "FROM complaints c WHERE NOT EXISTS (SELECT 1 FROM complaint_events e "
        "WHERE e.complaint_id = c.id AND e.status = c.status)"
    )


def downgrade() -> None:
    with op.batch_alter_table("complaint_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_events_complaint_id"))
    op.drop_table("complaint_events")
