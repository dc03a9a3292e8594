"""Every table, imported in one place so Alembic sees the whole schema."""

from app.db import Base
from app.decisions.models import Decision
from app.policies.models import PolicyActivation, PolicyVersion

metadata = Base.metadata

__all__ = ["Decision", "PolicyActivation", "PolicyVersion", "metadata"]
