"""The console's one contact with manual reviews: everything it needs of `app.reviews` goes through here.

`ReviewService.queue(limit, cursor)` gives the open cases, oldest first; `ReviewService.review(decision_id,
body, principal)` stores a review and answers its response bytes, or raises a 409 problem
(`four_eyes_required_other_reviewer`, `not_under_review`, `decision_superseded`) or a 403 one
(`reviewer_requested_decision`: the key that asked for a decision does not review it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import Request
from pydantic import BaseModel, ValidationError

from app.auth import Principal
from app.decisions.schemas import DecisionOut
from app.errors import ProblemError
from app.reviews.schemas import ReviewIn, ReviewOut
from app.reviews.service import ReviewService
from app.services import services_of

Awaiting = Literal["first_review", "second_review"]


@dataclass(frozen=True, slots=True)
class Review:
    reviewer: str
    outcome: str
    approved_credit_amount: str | None
    prepayment_amount: str | None
    reason: str
    reviewed_at: Any
    step: int
    final: bool


@dataclass(frozen=True, slots=True)
class Case:
    decision: DecisionOut
    requested_by: str  # the key id that asked for the decision: that key does not review it
    reviews: list[Review]
    awaiting: Awaiting


@dataclass(frozen=True, slots=True)
class Queue:
    cases: list[Case]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a review was not taken, in words for the form: a conflict or the fields that are wrong."""

    message: str
    fields: dict[str, str] = field(default_factory=dict)
    status: int | None = None  # the refusal's own status; None: 409 without fields, 422 with them


def _service(request: Request) -> ReviewService:
    return services_of(request.app).reviews


def _plain(value: Any) -> dict[str, Any]:
    if isinstance(value, BaseModel):
        return value.model_dump()
    return dict(value)


def _review(value: Any) -> Review:
    data = _plain(value)
    return Review(
        reviewer=str(data["reviewer"]),
        outcome=str(data["outcome"]),
        approved_credit_amount=data.get("approved_credit_amount"),
        prepayment_amount=data.get("prepayment_amount"),
        reason=str(data["reason"]),
        reviewed_at=data.get("reviewed_at"),
        step=int(data["step"]),
        final=bool(data["final"]),
    )


async def queue(request: Request, limit: int, cursor: str | None) -> Queue:
    page = _plain(await _service(request).queue(limit, cursor))
    cases = []
    for item in page["items"]:
        data = _plain(item)
        decision = data["decision"]
        cases.append(
            Case(
                decision=decision if isinstance(decision, DecisionOut) else DecisionOut.model_validate(decision),
                requested_by=str(data["requested_by"]),
                reviews=[_review(review) for review in data.get("reviews", [])],
                awaiting=data["awaiting"],
            )
        )
    return Queue(cases, page.get("next_cursor"))


async def submit(
    request: Request,
    decision_id: str,
    principal: Principal,
    outcome: str,
    approved_credit_amount: str | None,
    reason: str,
) -> Review | Refused:
    """Takes one review; a refusal (four eyes, not under review, invalid fields) comes back as `Refused`."""
    service = _service(request)
    fields: dict[str, Any] = {"outcome": outcome, "reason": reason}
    if approved_credit_amount:
        fields["approved_credit_amount"] = approved_credit_amount
    try:
        body = ReviewIn.model_validate(fields)
    except ValidationError as exc:
        problems = {str(error["loc"][0]) if error["loc"] else "body": str(error["msg"]) for error in exc.errors()}
        return Refused(
            "Check the highlighted fields.", {k: v.removeprefix("Value error, ") for k, v in problems.items()}
        )
    try:
        stored = await service.review(decision_id, body, principal)
        return _review(ReviewOut.model_validate_json(stored.body))
    except ProblemError as exc:
        if exc.status in (409, 422):
            named = {error.field.rsplit(".", 1)[-1]: error.message for error in exc.errors or []}
            return Refused(_refusal_words(exc.code, exc.detail), named)
        if exc.code == "reviewer_requested_decision":
            return Refused(_refusal_words(exc.code, exc.detail), status=403)
        raise


def _refusal_words(code: str, detail: str | None) -> str:
    words = {
        "four_eyes_required_other_reviewer": "Four eyes: another reviewer has to take the second review of this case.",
        "not_under_review": "This decision is no longer waiting for a review.",
        "reviewer_requested_decision": "This key asked for the decision: another reviewer has to review it.",
    }
    return words.get(code, detail or "The review was not taken.")
