"""GET /v1/audit/verify: walk the hash chain and name the first broken event."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.api.deps import AuditServiceDep, require_scope
from app.api.problems import problem_responses
from app.audit.canonical import Head
from app.audit.schemas import VerificationOut
from app.auth import Principal
from app.errors import FieldError, Forbidden, InvalidRequest, Unauthenticated
from app.observability.metrics import record_audit_verification

router = APIRouter(prefix="/v1/audit", tags=["audit"])

Admin = Annotated[Principal, Depends(require_scope("admin"))]


@router.get(
    "/verify",
    responses=problem_responses(Unauthenticated, Forbidden, InvalidRequest),
    summary="Verify the audit log's hash chain",
)
async def verify(
    _principal: Admin,
    audit: AuditServiceDep,
    anchor_seq: Annotated[int | None, Query(ge=1, description="A seq recorded earlier (with anchor_hash).")] = None,
    anchor_hash: Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$", description="Its hash.")] = None,
) -> VerificationOut:
    """Streams through every event in seq order; 200 with `intact: false` and `first_broken` when it does not hold."""
    if (anchor_seq is None) != (anchor_hash is None):
        field = "query.anchor_hash" if anchor_hash is None else "query.anchor_seq"
        message = "anchor_seq and anchor_hash go together"
        raise InvalidRequest(message, errors=[FieldError(field=field, message=message)])
    anchor = Head(anchor_seq, anchor_hash) if anchor_seq is not None and anchor_hash is not None else None
    started = time.perf_counter()
    result = await audit.verify(anchor)
    record_audit_verification(result.first_broken is None)
    return VerificationOut.of(result, (time.perf_counter() - started) * 1000)
