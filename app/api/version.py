"""GET /version: what is running, for operators and for support; no key needed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.build import package_version

router = APIRouter(tags=["health"])


class VersionOut(BaseModel):
    name: str = Field(examples=["creditgate"])
    version: str = Field(description="The installed package's version.", examples=["0.1.0"])
    api_version: str = Field(description="The version of the HTTP contract (the OpenAPI document's).")


@router.get("/version", summary="The running service's version")
async def version(request: Request) -> VersionOut:
    return VersionOut(name="creditgate", version=package_version(), api_version=request.app.version)
