"""Every table, imported in one place so Alembic sees the whole schema."""

from app.audit.models import AuditChainHead, AuditEvent
from app.db import Base
from app.decisions.models import Decision, DecisionReason

metadata = Base.metadata

__all__ = ["AuditChainHead", "AuditEvent", "Decision", "DecisionReason", "metadata"]
