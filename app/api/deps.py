"""Dependencies the routers share, as Annotated aliases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth import KeyRing, Principal
from app.db import Database
from app.decisions.service import DecisionService
from app.errors import UnsupportedMediaType
from app.observability.logging import bind
from app.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="An API key from CREDITGATE_API_KEYS.")


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_decision_service(request: Request) -> DecisionService:
    service: DecisionService = request.app.state.decisions
    return service


def _principal(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
) -> Principal:
    keys: KeyRing = request.app.state.keys
    principal = keys.authenticate(request.headers.get("authorization"))
    bind(key_id=principal.key_id)
    return principal


def require_scope(scope: str) -> Callable[..., Principal]:
    """A dependency that authenticates the caller and checks one scope."""

    def dependency(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
        principal.require(scope)
        return principal

    dependency.__name__ = f"require_{scope}"
    return dependency


def require_json(request: Request) -> None:
    """Bodies are JSON; anything else is refused before it is parsed."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(f"send the body as application/json, not {media_type or 'no content type'}")


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
DecisionServiceDep = Annotated[DecisionService, Depends(get_decision_service)]
Decide = Annotated[Principal, Depends(require_scope("decide"))]
Read = Annotated[Principal, Depends(require_scope("read"))]
JsonBody = Depends(require_json)
