"""The console's entry: sign in with an API key, sign out, and where each key lands."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from app.console import customer_actions, limit_pages, pages, policy_pages, portfolio_page, repository, review_pages
from app.console.web import (
    HERE,
    SECURITY_HEADERS,
    ConsoleRoute,
    ConsoleUser,
    checked_form,
    render,
    secure_cookie,
    signer,
)
from app.console.web import console_user as console_user_dep
from app.cookies import SESSION_COOKIE, SIGN_IN_COOKIE, SIGN_IN_SECONDS
from app.db import utcnow
from app.services import services_of

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
CookieUser = Annotated[ConsoleUser, Depends(console_user_dep)]


def landing(user: ConsoleUser) -> str:
    if user.can("read"):
        return "/console/decisions"
    if user.can("review"):
        return "/console/reviews"
    if user.can("admin"):
        return "/console/policies"
    return "/console/account"


def _safe_next(target: str | None) -> str | None:
    """Only a path inside the console: never an open redirect to another site."""
    if target and target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@router.get("")
@router.get("/")
async def index(user: CookieUser) -> RedirectResponse:
    return RedirectResponse(landing(user), status_code=303)


@router.get("/account")
async def account(request: Request, user: CookieUser) -> Response:
    return render(request, "account.html", user, scopes=sorted(user.principal.scopes))


@router.get("/sign-in")
async def sign_in_form(request: Request, next: str | None = None) -> Response:
    return _sign_in_page(request, _safe_next(next), None, 200)


@router.post("/sign-in")
async def sign_in(
    request: Request,
    api_key: Annotated[str, Form(max_length=512)] = "",
    csrf_token: Annotated[str | None, Form()] = None,
    next: Annotated[str | None, Form()] = None,
) -> Response:
    target = _safe_next(next)
    if not signer(request).check_sign_in(request.cookies.get(SIGN_IN_COOKIE), csrf_token):
        return _sign_in_page(request, target, "The form expired. Please sign in again.", 403)
    principal = services_of(request.app).keys.find(api_key) if api_key else None
    if principal is None:
        return _sign_in_page(request, target, "That API key is not valid.", 401)
    cookie, session = signer(request).issue(principal.key_id)
    user = ConsoleUser(principal, session, signer(request).csrf_token(session))
    response = RedirectResponse(target or landing(user), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=signer(request).lifetime_seconds,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=secure_cookie(request),
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/console")
    response.headers.update(SECURITY_HEADERS)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, user: Annotated[ConsoleUser, Depends(checked_form())]) -> Response:
    """Ends the session on the server too: the cookie, even a copy of it, is refused from now on."""
    expires_at = datetime.fromtimestamp(user.session.expires, UTC)
    async with services_of(request.app).database.transaction() as session:
        await repository.end_session(session, user.session.nonce, expires_at, utcnow())
    response = RedirectResponse("/console/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/console", httponly=True, samesite="strict")
    response.headers.update(SECURITY_HEADERS)
    return response


def _sign_in_page(request: Request, target: str | None, error: str | None, status_code: int) -> Response:
    cookie, token = signer(request).issue_sign_in()
    response = render(
        request, "sign_in.html", None, status_code=status_code, csrf_token=token, next=target, error=error
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        cookie,
        max_age=SIGN_IN_SECONDS,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=secure_cookie(request),
    )
    return response


def install_console(app: FastAPI) -> None:
    """The console's routes and its static files, served by the app itself (its signer is `Services`')."""
    app.include_router(router)
    app.include_router(pages.router)
    app.include_router(customer_actions.router)
    app.include_router(portfolio_page.router)
    app.include_router(limit_pages.router)
    app.include_router(policy_pages.router)
    app.include_router(review_pages.router)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
