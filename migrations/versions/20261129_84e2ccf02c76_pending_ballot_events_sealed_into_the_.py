"""pending ballot events, sealed into the audit chain

A cast writes its ballot events here instead of locking the round's chain head; the sealer
moves them into ``audit_events`` in id order and deletes them (stemmen.audit.log).

Revision ID: 84e2ccf02c76
Revises: e86ed092fdbb
Create Date: 2026-11-29 02:29:05.907373
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "84e2ccf02c76"
down_revision: str | None = "e86ed092fdbb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_pending",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("round_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("actor_role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_pending")),
    )
    with op.batch_alter_table("audit_pending", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_pending_chain"), ["chain"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_pending", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_pending_chain"))
    op.drop_table("audit_pending")
