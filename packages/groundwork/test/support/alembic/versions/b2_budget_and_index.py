"""budget with a check, the partial index, comments"""
from alembic import op
import sqlalchemy as sa

revision = "b2c3d4e5f6a1"
down_revision = "a1b2c3d4e5f6"


def upgrade():
    op.add_column("projects", sa.Column("budget", sa.Numeric(12, 2)))
    op.create_check_constraint("projects_budget_positive", "projects", "budget >= 0")
    op.create_index("projects_active_name", "projects", ["name"], postgresql_where=sa.text("status = 'active'"))
    op.create_table_comment("projects", "Every project the lab runs")
    op.alter_column("projects", "name", existing_type=sa.String(200), comment="Display name")


def downgrade():
    op.alter_column("projects", "name", existing_type=sa.String(200), comment=None)
    op.drop_table_comment("projects")
    op.drop_index("projects_active_name", "projects")
    op.drop_constraint("projects_budget_positive", "projects")
    op.drop_column("projects", "budget")
