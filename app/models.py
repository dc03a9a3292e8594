"""Every table, imported in one place so Alembic sees the whole schema."""

from app.db import Base
from app.decisions.models import Decision
from app.providers.models import CreditReportRecord, InsurerLimit, ProviderCacheHits, ProviderCall, ReportLease

metadata = Base.metadata

__all__ = [
    "CreditReportRecord",
    "Decision",
    "InsurerLimit",
    "ProviderCacheHits",
    "ProviderCall",
    "ReportLease",
    "metadata",
]
