"""Dependencies the routers share, as Annotated aliases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request, Response, Security
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.json import duplicate_keys
from app.arrangements.service import ArrangementService
from app.audit.verify import AuditService
from app.auth import Principal
from app.customers.service import CustomerService
from app.decisions.service import DecisionService
from app.errors import FieldError, Forbidden, InvalidRequest, UnsupportedMediaType
from app.idempotency.service import Handler, IdempotencyService, StoredResponse, fingerprint
from app.insurance.insurer_requests import InsurerRequestService
from app.insurance.reporting import OverdueReportService
from app.insurance.service import CoverService
from app.limits.lost_sales import LostSalesService
from app.limits.opportunities import OpportunitiesService
from app.limits.review_dates import LimitReviewService
from app.limits.service import LimitRequestService
from app.monitoring.notifications import NotificationService
from app.notes.service import NoteService
from app.observability.logging import bind
from app.orders.service import OrderService
from app.policy_versions.service import PolicyService
from app.providers.reports import ReportService
from app.ratelimit.service import RateLimiter
from app.readiness import Readiness
from app.readside.credit_file import CreditFileService
from app.readside.customer_list import CustomerListService
from app.readside.open_items import OpenItemsService
from app.reviews.service import ReviewService
from app.services import Services, services_of
from app.settings import Settings
from app.signals.service import SignalService
from app.webhooks.service import WebhookService

_bearer = HTTPBearer(auto_error=False, description="An API key from CREDITGATE_API_KEYS.")


Provided = TypeVar("Provided")


def provided(pick: Callable[[Services], Provided]) -> Callable[[Request], Awaitable[Provided]]:
    """A dependency answering one of the app's services: `Depends(provided(lambda s: s.decisions))`.

    `pick` is type-checked against `Services`, so a misspelt service is a mypy error."""

    async def dependency(request: Request) -> Provided:
        return pick(services_of(request.app))

    return dependency


async def _services(request: Request) -> Services:
    return services_of(request.app)


Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Repeat a write safely: the same key and body replay the stored response (kept 24 h+).",
    ),
]


def _authenticate(request: Request) -> Principal:
    principal = services_of(request.app).keys.authenticate(request.headers.getlist("authorization"))
    bind(key_id=principal.key_id)
    return principal


async def _principal(request: Request, _credentials: Credentials) -> Principal:
    return _authenticate(request)


Dependency = TypeVar("Dependency", bound=Callable[..., Any])


def scoped(dependency: Dependency, *scopes: str) -> Dependency:
    """Mark a scope check with the scopes it accepts (any one of them) as `.scopes`: the authorisation tests and
    any other reader of the routes learn a route's scopes from this data, not from the function's name."""
    dependency.scopes = frozenset(scopes)  # type: ignore[attr-defined]
    return dependency


def require_scope(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates the caller and checks one scope."""

    async def dependency(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
        principal.require(scope)
        return principal

    dependency.__name__ = f"require_{scope}"
    return scoped(dependency, scope)


def require_any_scope(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates the caller and checks it has at least one of `scopes`."""

    async def dependency(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
        if not principal.scopes.intersection(scopes):
            raise Forbidden(f"this operation needs one of the scopes: {', '.join(scopes)}")
        return principal

    dependency.__name__ = "require_" + "_or_".join(scopes)
    return scoped(dependency, *scopes)


async def reject_unknown_query(request: Request) -> None:
    """A misspelt filter must not silently widen a query: unknown query parameters are a 422 naming them.

    A NUL character in a query or path value is refused here too: PostgreSQL cannot store or compare it.
    """
    nul = [f"query.{name}" for name, value in request.query_params.multi_items() if "\x00" in value]
    nul += [f"path.{name}" for name, value in request.path_params.items() if "\x00" in str(value)]
    if nul:
        errors = [FieldError(field=field, message="contains a NUL character") for field in nul]
        raise InvalidRequest(f"NUL characters are not allowed: {', '.join(nul)}", errors=errors)
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None or not request.query_params:
        return
    unknown = sorted(set(request.query_params) - _query_names(dependant))
    if unknown:
        errors = [
            FieldError(field=f"query.{name}", message="unknown query parameter", type="extra_forbidden")
            for name in unknown
        ]
        raise InvalidRequest(f"unknown query parameters: {', '.join(unknown)}", errors=errors)


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def require_json(request: Request) -> None:
    """Bodies are JSON; anything else is refused before it is parsed."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        message = f"send the body as application/json, not {media_type or 'no content type'}"
        raise UnsupportedMediaType(message, errors=[FieldError(field="body", message=message, type="media_type")])
    if b"\\u0000" in await request.body():  # a JSON-escaped NUL: PostgreSQL cannot store it in text
        message = "strings must not contain a NUL character (\\u0000)"
        raise InvalidRequest(message, errors=[FieldError(field="body", message=message)])
    duplicate_keys(await request.body())


class IdempotentWrite:
    """A write route's handle on idempotency: `run` executes the write once per Idempotency-Key."""

    def __init__(self, service: IdempotencyService, api_key_id: str, key: str | None, fingerprint: str) -> None:
        self.service = service
        self.api_key_id = api_key_id
        self.key = key
        self.fingerprint = fingerprint

    async def run(self, handler: Handler) -> Response:
        return stored_response(await self.service.run(self.api_key_id, self.key, self.fingerprint, handler))


REPLAY_HEADER = "Idempotent-Replayed"


def stored_response(stored: StoredResponse) -> Response:
    """A write's stored response as sent: its JSON bytes, and the replay header when it is a repeat's."""
    headers = {REPLAY_HEADER: "true"} if stored.replayed else None
    return Response(stored.body, status_code=stored.status_code, media_type="application/json", headers=headers)


async def idempotent_write(
    request: Request, principal: Annotated[Principal, Depends(_principal)], idempotency_key: IdempotencyKey = None
) -> IdempotentWrite:
    return await _idempotent(request, principal, idempotency_key)


async def _idempotent(request: Request, principal: Principal, idempotency_key: str | None) -> IdempotentWrite:
    service = services_of(request.app).idempotency
    if idempotency_key is None:  # nothing to compare a repeat with: the body is not fingerprinted
        return IdempotentWrite(service, principal.key_id, None, "")
    body = await request.body()
    return IdempotentWrite(
        service, principal.key_id, idempotency_key, fingerprint(request.method, request.url.path, body)
    )


@dataclass(frozen=True, slots=True)
class DecisionCall:
    """What POST /v1/decisions needs besides its body: the caller, its idempotent write and the services."""

    principal: Principal
    idempotent: IdempotentWrite
    service: DecisionService
    rate: RateLimiter


async def require_decide(
    request: Request, _credentials: Credentials, idempotency_key: IdempotencyKey = None
) -> DecisionCall:
    """The checkout's route in one dependency: the `decide` scope, the idempotent write and the services.

    Built from the scope check, `Idempotent` and the state aliases, it would solve nine nested dependencies
    on every request; that was a sixth of a decision's CPU. Marked `scoped` as every scope check is, which is
    how the authorisation tests find a route's scopes."""
    principal = _authenticate(request)
    principal.require("decide")
    services = services_of(request.app)
    return DecisionCall(
        principal, await _idempotent(request, principal, idempotency_key), services.decisions, services.decision_rate
    )


scoped(require_decide, "decide")

ServicesDep = Annotated[Services, Depends(_services)]
SettingsDep = Annotated[Settings, Depends(provided(lambda s: s.settings))]
DecisionServiceDep = Annotated[DecisionService, Depends(provided(lambda s: s.decisions))]
ArrangementServiceDep = Annotated[ArrangementService, Depends(provided(lambda s: s.arrangements))]
CustomerServiceDep = Annotated[CustomerService, Depends(provided(lambda s: s.customers))]
CreditFileServiceDep = Annotated[CreditFileService, Depends(provided(lambda s: s.credit_files))]
CustomerListServiceDep = Annotated[CustomerListService, Depends(provided(lambda s: s.customer_list))]
OpenItemsServiceDep = Annotated[OpenItemsService, Depends(provided(lambda s: s.open_items))]
OrderServiceDep = Annotated[OrderService, Depends(provided(lambda s: s.orders))]
ReviewServiceDep = Annotated[ReviewService, Depends(provided(lambda s: s.reviews))]
NoteServiceDep = Annotated[NoteService, Depends(provided(lambda s: s.notes))]
LimitRequestServiceDep = Annotated[LimitRequestService, Depends(provided(lambda s: s.limit_requests))]
LimitReviewServiceDep = Annotated[LimitReviewService, Depends(provided(lambda s: s.limit_reviews))]
OpportunitiesServiceDep = Annotated[OpportunitiesService, Depends(provided(lambda s: s.opportunities))]
LostSalesServiceDep = Annotated[LostSalesService, Depends(provided(lambda s: s.lost_sales))]
PolicyServiceDep = Annotated[PolicyService, Depends(provided(lambda s: s.policies))]
WebhookServiceDep = Annotated[WebhookService, Depends(provided(lambda s: s.webhooks))]
NotificationServiceDep = Annotated[NotificationService, Depends(provided(lambda s: s.notifications))]
ReportServiceDep = Annotated[ReportService, Depends(provided(lambda s: s.reports))]
InsurerRequestServiceDep = Annotated[InsurerRequestService, Depends(provided(lambda s: s.insurer_requests))]
OverdueReportServiceDep = Annotated[OverdueReportService, Depends(provided(lambda s: s.overdue_reports))]
CoverServiceDep = Annotated[CoverService, Depends(provided(lambda s: s.covers))]
AuditServiceDep = Annotated[AuditService, Depends(provided(lambda s: s.audit))]
SignalServiceDep = Annotated[SignalService, Depends(provided(lambda s: s.signals))]
ReadinessDep = Annotated[Readiness, Depends(provided(lambda s: s.readiness))]
Idempotent = Annotated[IdempotentWrite, Depends(idempotent_write)]
DecisionCallDep = Annotated[DecisionCall, Depends(require_decide)]
Read = Annotated[Principal, Depends(require_scope("read"))]
Receivables = Annotated[Principal, Depends(require_scope("receivables"))]
JsonBody = Depends(require_json)
