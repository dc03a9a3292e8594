"""The review queue and its forms; every call to the review service goes through app.console.reviews."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from app.console import reviews
from app.console.web import ConsoleRoute, ConsoleUser, checked_form, needs, render

router = APIRouter(prefix="/console/reviews", route_class=ConsoleRoute, include_in_schema=False)
Reviewer = Annotated[ConsoleUser, Depends(needs("review"))]
ReviewForm = Annotated[ConsoleUser, Depends(checked_form("review"))]
QUEUE_PAGE = 20
REVIEW_OUTCOMES = ("accept", "prepayment", "reject")


@router.get("")
async def queue(
    request: Request,
    user: Reviewer,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    reviewed: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    page = await reviews.queue(request, QUEUE_PAGE, cursor or None)
    return render(
        request,
        "reviews.html",
        user,
        page=page,
        outcomes=REVIEW_OUTCOMES,
        reviewed=reviewed,
        refused=None,
        refused_id=None,
        form={},
    )


@router.post("/{decision_id}")
async def review(
    request: Request,
    user: ReviewForm,
    decision_id: Annotated[str, Path(max_length=64)],
    outcome: Annotated[str, Form(max_length=16)] = "",
    approved_credit_amount: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Takes the review; a refused one shows the queue again with the form filled in and the problem named."""
    result: reviews.Review | reviews.Refused
    if not reason.strip():
        result = reviews.Refused("Give a reason for the review.", {"reason": "A reason is required."})
    elif outcome not in REVIEW_OUTCOMES:
        result = reviews.Refused("Choose an outcome.", {"outcome": "Choose accept, prepayment or reject."})
    else:
        result = await reviews.submit(
            request, decision_id, user.principal, outcome, approved_credit_amount.strip() or None, reason.strip()
        )
    if isinstance(result, reviews.Review):
        return RedirectResponse(f"/console/reviews?reviewed={decision_id}", status_code=303)
    page = await reviews.queue(request, QUEUE_PAGE, None)
    return render(
        request,
        "reviews.html",
        user,
        status_code=result.status or (409 if not result.fields else 422),
        page=page,
        outcomes=REVIEW_OUTCOMES,
        reviewed=None,
        refused=result,
        refused_id=decision_id,
        form={"outcome": outcome, "approved_credit_amount": approved_credit_amount, "reason": reason},
    )
