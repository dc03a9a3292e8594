"""What every service that decides asks for: the active policy document, optionally in a read it has open."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.policy.schema import PolicyDocument


class ActivePolicy(Protocol):
    async def __call__(self, session: AsyncSession | None = None) -> PolicyDocument: ...
