"""round teams, for rule sets that limit a round to its officials

Revision ID: 14eaacf22e6f
Revises: 84e2ccf02c76
Create Date: 2026-11-29 02:29:04.957246
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "14eaacf22e6f"
down_revision: str | None = "84e2ccf02c76"  # after the audit_pending table (chain helper)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "round_team_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("added_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "added_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_round_team_members_round_id_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_team_members")),
        sa.UniqueConstraint(
            "round_id", "subject", name=op.f("uq_round_team_members_round_id_subject")
        ),
    )
    with op.batch_alter_table("round_team_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_round_team_members_round_id"), ["round_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("round_team_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_round_team_members_round_id"))
    op.drop_table("round_team_members")
