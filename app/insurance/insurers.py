"""Credit insurers as adapters, the shape report providers have: a protocol, domain types, a few domain errors,
one built-in adapter (a JSON protocol over HTTP), and a registry by setting (`CREDITGATE_INSURER`).

A limit request is asynchronous: `submit` hands it to the insurer and gets its id; the answer comes later, by
`poll` (None while the insurer still investigates) or by the insurer's callback."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.errors import CrossFieldError
from app.fields import AMOUNT_PATTERN, parse_amount
from app.schema_types import CurrencyCode, IsoDate
from app.schemas import check_currency
from app.settings import Settings

RequestKind = Literal["new", "increase", "reduce", "cancel"]
AnswerKind = Literal["approved", "partly_approved", "conditional", "refused"]


@dataclass(frozen=True, slots=True)
class LimitRequestToInsurer:
    """What the insurer is asked: a limit on a buyer (none for a cancellation)."""

    reference: str  # creditgate's id of the request
    kind: RequestKind
    amount: Decimal | None
    currency: str | None
    buyer_country: str
    buyer_registration_number: str | None
    buyer_name: str | None
    buyer_reference: str | None  # the insurer's reference of the buyer, when a cover exists
    policy_number: str | None


class InsurerAnswer(BaseModel):
    """The insurer's answer, as its API or its callback sends it (validated: it changes a cover)."""

    model_config = ConfigDict(extra="forbid")

    decision: AnswerKind
    currency: CurrencyCode | None = None
    amount: str | None = Field(
        default=None, pattern=AMOUNT_PATTERN, description="The limit granted (approved, partly, conditional)."
    )
    conditions: str | None = Field(default=None, max_length=2000)
    buyer_reference: str | None = Field(default=None, min_length=1, max_length=64)
    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = None

    _currency = field_validator("currency")(lambda value: None if value is None else check_currency(value))

    @model_validator(mode="after")
    def _amount_for_a_grant(self) -> InsurerAnswer:
        if self.amount is not None:
            if self.currency is None:
                raise CrossFieldError("currency", "give the currency with the amount")
            parse_amount(self.amount, self.currency, allow_zero=True)
        if self.decision in ("partly_approved", "conditional") and self.amount is None:
            raise CrossFieldError("amount", f"a {self.decision} answer names the limit granted")
        if self.decision == "conditional" and not self.conditions:
            raise CrossFieldError("conditions", "a conditional answer states its conditions")
        if self.valid_from is not None and self.valid_to is not None and self.valid_to < self.valid_from:
            raise CrossFieldError("valid_to", "is before valid_from")
        return self


class InsurerError(Exception):
    """The insurer could not be asked."""


class InsurerUnavailable(InsurerError):
    """Transport failure, timeout or server error."""


class InsurerNotConfigured(InsurerError):
    """No insurer adapter is configured: nothing can be sent until one is (not a passing failure)."""


class BadInsurerResponse(InsurerError):
    """The insurer answered something that is not a valid answer."""


class InsurerAdapter(Protocol):
    name: str

    async def submit(self, request: LimitRequestToInsurer) -> str:
        """Hand the request to the insurer; its id for the request."""
        ...

    async def poll(self, insurer_request_id: str) -> InsurerAnswer | None:
        """The answer, or None while the insurer still investigates."""
        ...


class NoInsurer:
    """No insurer configured: requests cannot be sent."""

    name = "none"

    async def submit(self, request: LimitRequestToInsurer) -> str:
        raise InsurerNotConfigured("no insurer is configured (CREDITGATE_INSURER)")

    async def poll(self, insurer_request_id: str) -> InsurerAnswer | None:
        raise InsurerNotConfigured("no insurer is configured (CREDITGATE_INSURER)")


class _Status(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: Literal["pending", "answered"]
    answer: InsurerAnswer | None = None


class HttpInsurer:
    """The JSON protocol of docs/insurance.md: POST {base}/limit-requests, GET {base}/limit-requests/{id}."""

    name = "http"

    def __init__(self, http: httpx.AsyncClient, base_url: str, api_key: str, timeout_seconds: float) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = httpx.Timeout(timeout_seconds)

    async def submit(self, request: LimitRequestToInsurer) -> str:
        body = {
            "reference": request.reference,
            "kind": request.kind,
            "amount": None if request.amount is None else str(request.amount),
            "currency": request.currency,
            "buyer": {
                "country": request.buyer_country,
                "registration_number": request.buyer_registration_number,
                "name": request.buyer_name,
                "reference": request.buyer_reference,
            },
            "policy_number": request.policy_number,
        }
        data = await self._call("POST", "/limit-requests", body)
        insurer_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(insurer_id, str) or not 0 < len(insurer_id) <= 64:
            raise BadInsurerResponse("the insurer's answer to a request has no id")
        return insurer_id

    async def poll(self, insurer_request_id: str) -> InsurerAnswer | None:
        data = await self._call("GET", f"/limit-requests/{insurer_request_id}", None)
        try:
            status = _Status.model_validate(data)
        except ValidationError as exc:
            raise BadInsurerResponse(f"the insurer's status is not valid: {exc.error_count()} problem(s)") from None
        if status.status == "pending":
            return None
        if status.answer is None:
            raise BadInsurerResponse("the insurer says answered but sends no answer")
        return status.answer

    async def _call(self, method: str, path: str, body: object) -> object:
        try:
            response = await self.http.request(
                method, self.base_url + path, json=body, headers=self.headers, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            raise InsurerUnavailable(f"the insurer could not be reached: {type(exc).__name__}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise InsurerUnavailable(f"the insurer answered {response.status_code}")
        if response.status_code >= 400:
            raise BadInsurerResponse(f"the insurer refused the call: {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise BadInsurerResponse("the insurer's answer is not JSON") from None


def build_insurer(settings: Settings, http: httpx.AsyncClient) -> InsurerAdapter:
    name = settings.insurer
    if name == "none":
        return NoInsurer()
    if name == "http":
        if not settings.insurer_base_url:
            raise ValueError("CREDITGATE_INSURER=http needs CREDITGATE_INSURER_BASE_URL")
        return HttpInsurer(
            http,
            settings.insurer_base_url,
            settings.insurer_api_key.get_secret_value(),
            settings.insurer_timeout_ms / 1000,
        )
    if ":" in name:
        module_name, _, attribute = name.partition(":")
        factory = getattr(importlib.import_module(module_name), attribute)
        adapter: InsurerAdapter = factory(settings=settings, http=http)
        return adapter
    raise ValueError(f"unknown insurer {name!r}: use none, http or 'package.module:Factory'")
