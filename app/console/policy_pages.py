"""Policy pages: the stored versions, one version's document, activation and the what-if replay."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request, Response
from fastapi.responses import RedirectResponse

from app.console.views import parse_day, start_of_day
from app.console.web import ConsoleRoute, ConsoleUser, checked_form, needs, render
from app.policy_versions.query import ReplayFilters
from app.policy_versions.schemas import SimulationOut
from app.policy_versions.service import PolicyService
from app.services import services_of

router = APIRouter(prefix="/console/policies", route_class=ConsoleRoute, include_in_schema=False)
Viewer = Annotated[ConsoleUser, Depends(needs("read", "admin"))]
AdminForm = Annotated[ConsoleUser, Depends(checked_form("admin"))]
Version = Annotated[str, Path(max_length=64)]
FormText = Annotated[str, Form(max_length=64)]
OUTCOMES = ("accept", "prepayment", "review", "reject")
CHANGED_PER_PAGE = 25


def _service(request: Request) -> PolicyService:
    return services_of(request.app).policies


@router.get("")
async def policies(request: Request, user: Viewer) -> Response:
    listing = await _service(request).list()
    return render(request, "policies.html", user, listing=listing)


@router.get("/{version}")
async def policy(request: Request, user: Viewer, version: Version) -> Response:
    return await _policy_page(request, user, version, {}, {}, None)


@router.post("/{version}/activate")
async def activate(request: Request, user: AdminForm, version: Version) -> Response:
    await _service(request).activate(version, user.principal)
    return RedirectResponse(f"/console/policies/{version}?activated=1", status_code=303)


@router.post("/{version}/simulate")
async def simulate(
    request: Request,
    user: AdminForm,
    version: Version,
    customer_id: FormText = "",
    outcome: FormText = "",
    decided_from: FormText = "",
    decided_to: FormText = "",
    policy_version: FormText = "",
) -> Response:
    """Replays the matching stored decisions through this version; buys no report and writes nothing."""
    form = {
        "customer_id": customer_id.strip(),
        "outcome": outcome,
        "decided_from": decided_from,
        "decided_to": decided_to,
        "policy_version": policy_version.strip(),
    }
    errors: dict[str, str] = {}
    first, last = parse_day(decided_from, "decided_from", errors), parse_day(decided_to, "decided_to", errors)
    if outcome and outcome not in OUTCOMES:
        errors["outcome"] = "Choose one of the outcomes."
    result = None
    if not errors:
        filters = ReplayFilters(
            customer_id=form["customer_id"] or None,
            outcome=outcome or None,
            decided_from=start_of_day(first),
            decided_to=start_of_day(last + timedelta(days=1)) if last else None,
            policy_version=form["policy_version"] or None,
        )
        result = await _service(request).simulate(version, filters, CHANGED_PER_PAGE)
    return await _policy_page(request, user, version, form, errors, result)


async def _policy_page(
    request: Request,
    user: ConsoleUser,
    version: str,
    form: dict[str, str],
    errors: dict[str, str],
    result: SimulationOut | None,
) -> Response:
    stored = await _service(request).get(version)
    return render(
        request,
        "policy.html",
        user,
        policy=stored,
        document=stored.document.model_dump_json(indent=2, exclude_none=True),
        form=form,
        errors=errors,
        outcomes=OUTCOMES,
        result=result,
        matrix=_matrix(result) if result else None,
        activated=request.query_params.get("activated") == "1",
    )


def _matrix(result: SimulationOut) -> dict[str, Any]:
    """Old outcome × new outcome counts, for the transition table."""
    counts: dict[tuple[str, str], int] = {(t.old_outcome, t.new_outcome): t.count for t in result.transitions}
    rows = [
        {
            "outcome": old,
            "cells": [counts.get((old, new), 0) for new in OUTCOMES],
            "total": sum(counts.get((old, new), 0) for new in OUTCOMES),
        }
        for old in OUTCOMES
    ]
    return {"columns": OUTCOMES, "rows": rows}
