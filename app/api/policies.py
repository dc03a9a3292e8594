"""Policy versions: read, store, activate, and replay history through a candidate (what-if)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from app.api import json as strict_json
from app.api.deps import JsonBody, PolicyServiceDep, require_any_scope, require_scope
from app.api.problems import JSON_WRITE_PROBLEMS, problem_responses
from app.auth import Principal
from app.db import HeavyReadsBusy
from app.decisions.query import Cursor
from app.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidCursor,
    InvalidRequest,
    MalformedRequest,
    NotFound,
    Unauthenticated,
    UnsupportedMediaType,
)
from app.policy.schema import PolicyDocument, PolicyDocumentError, load_policy_text, parse_policy
from app.policy_versions.query import ReplayFilters
from app.policy_versions.schemas import PolicyVersionList, PolicyVersionOut, SimulationOut, SimulationRequest
from app.policy_versions.service import PolicyCannotBeActivated

router = APIRouter(prefix="/v1/policies", tags=["policies"])

YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
DOCUMENT_BODY = {
    "required": True,
    "description": "The policy document as JSON (or, as a convenience, the same document as YAML). Beyond its "
    "schema, its parts must agree: default_segment is one of the segments; the grid has a row for each class "
    "(A-E, unknown) with a cell for each segment; unknown cells use the fixed rule; a worse class never gets more "
    "than a better one; score bands descend; amounts have at most the currency's decimals.",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/PolicyDocument"}},
        "application/yaml": {"schema": {"$ref": "#/components/schemas/PolicyDocument"}},
    },
}


Admin = Annotated[Principal, Depends(require_scope("admin"))]
ReadOrAdmin = Annotated[Principal, Depends(require_any_scope("read", "admin"))]


@router.get(
    "", responses=problem_responses(Unauthenticated, Forbidden), summary="Every stored policy version, newest first"
)
async def list_policies(_principal: ReadOrAdmin, service: PolicyServiceDep) -> PolicyVersionList:
    return await service.list()


@router.get(
    "/active",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="The active policy version with its document",
)
async def get_active_policy(_principal: ReadOrAdmin, service: PolicyServiceDep) -> PolicyVersionOut:
    return await service.get(None)


@router.get(
    "/{version}",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="One policy version with its document",
)
async def get_policy(version: str, _principal: ReadOrAdmin, service: PolicyServiceDep) -> PolicyVersionOut:
    return await service.get(version)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": DOCUMENT_BODY},
    responses={
        200: {"description": "The same version with the same content was already stored", "model": PolicyVersionOut},
        **problem_responses(*JSON_WRITE_PROBLEMS, Conflict),
    },
    summary="Store a new, inactive policy version",
)
async def create_policy(
    request: Request, response: Response, principal: Admin, service: PolicyServiceDep
) -> PolicyVersionOut:
    """Validates the document; nothing is stored unless it is valid. Stored versions never change."""
    document = await _document(request)
    stored, created = await service.create(document, principal)
    if not created:
        response.status_code = status.HTTP_200_OK
    return stored


@router.post(
    "/{version}/activate",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound, PolicyCannotBeActivated),
    summary="Make a stored version the one every new decision uses",
)
async def activate_policy(version: str, principal: Admin, service: PolicyServiceDep) -> PolicyVersionOut:
    return await service.activate(version, principal)


@router.post(
    "/{version}/simulate",
    dependencies=[JsonBody],
    responses=problem_responses(
        MalformedRequest, Unauthenticated, Forbidden, NotFound, UnsupportedMediaType, InvalidRequest, HeavyReadsBusy
    ),
    summary="Replay stored decisions through a version (what-if)",
)
async def simulate_policy(
    version: str, body: SimulationRequest, _principal: ReadOrAdmin, service: PolicyServiceDep
) -> SimulationOut:
    """Re-decides the matching stored decisions with the inputs they were taken on; buys no report, writes nothing.

    The transition matrix and credit totals cover every matching decision; the changed decisions come a page at
    a time, newest first (pass `next_cursor` back as `cursor`). A few replays and exports run at once per process
    (503 with Retry-After beyond them)."""
    filters = ReplayFilters(
        customer_id=body.customer_id,
        outcome=body.outcome,
        decided_from=body.decided_from,
        decided_to=body.decided_to,
        policy_version=body.policy_version,
    )
    if body.cursor is not None:
        _cursor(body.cursor)
    return await service.simulate(version, filters, body.limit, body.cursor)


async def _document(request: Request) -> PolicyDocument:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    raw = await request.body()
    try:
        if media_type in YAML_TYPES:
            return load_policy_text(raw.decode("utf-8", errors="replace"))
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise UnsupportedMediaType(f"send the policy as application/json or application/yaml, not {media_type}")
        try:
            data: Any = strict_json.loads(raw)
        except ValueError as exc:
            raise MalformedRequest(
                "the body is not valid JSON",
                errors=[FieldError(field="body", message=f"not valid JSON: {exc}", type="json_invalid")],
            ) from None
        return parse_policy(data)
    except PolicyDocumentError as exc:
        errors = [
            FieldError(
                field=error["field"],
                message=f"line {error['line']}: {error['message']}" if error.get("line") else error["message"],
                type="policy_invalid",
            )
            for error in exc.errors
        ]
        raise InvalidRequest("the policy document is not valid; nothing was stored", errors=errors) from None


def _cursor(token: str) -> Cursor:
    try:
        return Cursor.decode(token)
    except InvalidCursor:
        message = "not a cursor this API returned"
        raise InvalidRequest(message, errors=[FieldError(field="cursor", message=message)]) from None
