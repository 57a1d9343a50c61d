"""exam periods

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:00:00.000000

Public-school exam periods an operator loads (POST /v1/operator/exam-periods or
EXAM_PERIODS_FILE): a disconnection for non-payment inside one is refused for the accounts of
its region (tasdeed/rules/disconnection.py). One row per start, end and region.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exam_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("region", sa.String(length=100), server_default="", nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("start_date", "end_date", "region", name="uq_exam_periods_span_region"),
    )
    with op.batch_alter_table("exam_periods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exam_periods_end_date"), ["end_date"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("exam_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exam_periods_end_date"))
    op.drop_table("exam_periods")
