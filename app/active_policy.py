"""What every service that decides asks for: the active policy document, optionally in a read it has open."""

from __future__ import annotations

from typing import Protocol

from app.db import Reader
from app.policy.schema import PolicyDocument


class ActivePolicy(Protocol):
    async def __call__(self, session: Reader | None = None) -> PolicyDocument: ...
