"""the active projects view, and the first rows (a data migration)"""
from alembic import op

revision = "c3d4e5f6a1b2"
down_revision = "b2c3d4e5f6a1"


def upgrade():
    op.execute(
        "CREATE VIEW active_projects AS SELECT id, name, budget FROM projects WHERE status = 'active'"
    )
    op.execute(
        "INSERT INTO projects (name, status, budget) VALUES ('Enzyme screen', 'active', 1200.50), "
        "('Archive scans', 'archived', NULL)"
    )
    op.execute(
        "INSERT INTO members (project_id, user_email, role) VALUES (1, 'ada@lab.example', 'owner'), "
        "(1, 'bo@lab.example', DEFAULT), (2, 'ada@lab.example', 'owner')"
    )


def downgrade():
    op.execute("DELETE FROM members")
    op.execute("DELETE FROM projects")
    op.execute("DROP VIEW active_projects")
