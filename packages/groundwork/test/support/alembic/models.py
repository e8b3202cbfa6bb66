"""The service's SQLAlchemy model, as a FastAPI + SQLAlchemy team writes it: the revisions below build it."""
import enum

from sqlalchemy import (Column, DateTime, Enum, ForeignKey, Index, Integer, MetaData, Numeric, String, Text,
                        CheckConstraint, func, text)
from sqlalchemy.orm import declarative_base

Base = declarative_base(metadata=MetaData())


class Status(enum.Enum):
    draft = "draft"
    active = "active"
    archived = "archived"


class Project(Base):
    __tablename__ = "projects"
    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False, unique=True, comment="Display name")
    status = Column(Enum(Status, name="project_status"), nullable=False, server_default="draft")
    budget = Column(Numeric(12, 2), CheckConstraint("budget >= 0", name="projects_budget_positive"))
    created_at = Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    __table_args__ = (
        Index("projects_active_name", "name", postgresql_where=text("status = 'active'")),
        {"comment": "Every project the lab runs"},
    )


class Member(Base):
    __tablename__ = "members"
    project_id = Column(Integer, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    user_email = Column(String(320), primary_key=True)
    role = Column(Text, nullable=False, server_default="viewer")
