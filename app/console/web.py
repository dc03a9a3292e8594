"""The console's plumbing: who is signed in, the CSRF check, rendering, and error pages instead of JSON."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from app.auth import Principal
from app.console import repository, views
from app.cookies import SESSION_COOKIE, ConsoleSession, SessionSigner
from app.errors import ProblemError
from app.services import services_of

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters.update(views.FILTERS)

# Everything the console serves comes from the app itself: no inline script, no third-party origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

NAVIGATION = (
    ("Decisions", "/console/decisions", ("read",)),
    ("Reviews", "/console/reviews", ("review",)),
    ("Credit files", "/console/customers", ("read",)),
    ("Warnings", "/console/signals", ("read",)),
    ("Portfolio", "/console/portfolio", ("read",)),
    ("Limits", "/console/limits", ("read", "review")),
    ("Lost sales", "/console/lost-sales", ("read",)),
    ("Policies", "/console/policies", ("read", "admin")),
    ("Provider spend", "/console/spend", ("read",)),
)


class SignInRequired(Exception):
    """No valid session: the browser is sent to the sign-in page."""


class CsrfRejected(ProblemError):
    status, code, title = 403, "csrf_rejected", "The form was not sent from this console"


class ConsoleForbidden(ProblemError):
    status, code, title = 403, "forbidden", "Your API key lacks the scope this page needs"


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    principal: Principal
    session: ConsoleSession
    csrf_token: str

    def can(self, *scopes: str) -> bool:
        return bool(self.principal.scopes.intersection(scopes))


def signer(request: Request) -> SessionSigner:
    return services_of(request.app).console_signer


def secure_cookie(request: Request) -> bool:
    setting = services_of(request.app).settings.console_secure_cookie
    return setting == "always" or (setting == "auto" and request.url.scheme == "https")


async def console_user(request: Request) -> ConsoleUser:
    session = signer(request).read(request.cookies.get(SESSION_COOKIE))
    services = services_of(request.app)
    principal = services.keys.by_id(session.key_id) if session is not None else None
    if session is None or principal is None:
        raise SignInRequired
    async with services.database.read() as db_session:
        if await repository.session_ended(db_session, session.nonce):  # signed out, on any replica
            raise SignInRequired
    return ConsoleUser(principal, session, signer(request).csrf_token(session))


def needs(*scopes: str) -> Callable[..., Coroutine[Any, Any, ConsoleUser]]:
    """A page's dependency: a signed-in user holding at least one of `scopes`."""

    async def dependency(user: Annotated[ConsoleUser, Depends(console_user)]) -> ConsoleUser:
        if not user.can(*scopes):
            raise ConsoleForbidden(f"this page needs one of the scopes: {', '.join(scopes)}")
        return user

    return dependency


def checked_form(*scopes: str) -> Callable[..., Coroutine[Any, Any, ConsoleUser]]:
    """A form post's dependency: the scope, and the session's CSRF token in the hidden `csrf_token` field."""

    async def dependency(
        request: Request,
        user: Annotated[ConsoleUser, Depends(console_user)],
        csrf_token: Annotated[str | None, Form()] = None,
    ) -> ConsoleUser:
        if not signer(request).check_csrf(user.session, csrf_token):
            raise CsrfRejected("reload the page and send the form again")
        if scopes and not user.can(*scopes):
            raise ConsoleForbidden(f"this action needs one of the scopes: {', '.join(scopes)}")
        return user

    return dependency


def render(
    request: Request, template: str, user: ConsoleUser | None, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    navigation = [(label, href) for label, href, scopes in NAVIGATION if user is not None and user.can(*scopes)]
    names: dict[str, str] = services_of(request.app).settings.key_names
    response = templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "navigation": navigation,
            "path": request.url.path,
            "who": lambda key_id: names.get(key_id, key_id),  # CREDITGATE_KEY_NAMES, else the key id
            **context,
        },
        status_code=status_code,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


class ConsoleRoute(APIRoute):
    """Console routes answer HTML: a missing session redirects to sign-in, a problem becomes an error page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="")
                response = RedirectResponse(f"/console/sign-in?next={target}", status_code=303)
                response.headers.update(SECURITY_HEADERS)
                return response
            except ProblemError as exc:
                # Its headers too: a 503 or 429 page tells the browser, as the API tells a client, when to retry.
                return _error_page(request, exc.status, exc.title, exc.detail, exc.headers)
            except RequestValidationError as exc:
                fields = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
                return _error_page(request, 422, "The request is not valid", fields)

        return guarded


def _error_page(
    request: Request, status_code: int, title: str, detail: str | None, headers: dict[str, str] | None = None
) -> HTMLResponse:
    session = signer(request).read(request.cookies.get(SESSION_COOKIE))
    principal = services_of(request.app).keys.by_id(session.key_id) if session is not None else None
    user = None
    if session is not None and principal is not None:
        user = ConsoleUser(principal, session, signer(request).csrf_token(session))
    response = render(request, "error.html", user, status_code=status_code, title=title, detail=detail)
    response.headers.update(headers or {})
    return response
