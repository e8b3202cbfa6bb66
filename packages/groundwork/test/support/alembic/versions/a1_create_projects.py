"""create projects and members"""
from alembic import op
import sqlalchemy as sa

revision = "a1b2c3d4e5f6"
down_revision = None

status = sa.Enum("draft", "active", "archived", name="project_status")


def upgrade():
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("status", status, nullable=False, server_default="draft"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "members",
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id", ondelete="CASCADE")),
        sa.Column("user_email", sa.String(320)),
        sa.Column("role", sa.Text(), nullable=False, server_default="viewer"),
        sa.PrimaryKeyConstraint("project_id", "user_email"),
    )


def downgrade():
    op.drop_table("members")
    op.drop_table("projects")
    status.drop(op.get_bind())
