"""Sign-in sessions and API tokens (hashed); the guardrails' verdict kept with each approved version.

Revision ID: 0002_sessions_vetting
Revises: 0001_initial
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_sessions_vetting"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user", sa.String(120), sa.ForeignKey("kb_users.name"), nullable=False, index=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    # Versions approved before this migration carry no verdict: they are vetted again (with every
    # shown line) before they are served, so nothing approved under the old single-text check slips through.
    with op.batch_alter_table("kb_entry_versions") as batch:
        batch.add_column(sa.Column("vetting", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kb_entry_versions") as batch:
        batch.drop_column("vetting")
    op.drop_table("kb_sessions")
