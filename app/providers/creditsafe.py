"""The Creditsafe Connect adapter: authenticate, find the company by country and registration number, buy its
report — over the one shared httpx client, every request with an explicit timeout.

Failures map to the domain errors: 404 or no search hit → CompanyNotFound; 429, 5xx, timeouts and
connection errors → ProviderUnavailable (transient, worth a retry); refused credentials, other 4xx →
ProviderUnavailable (not transient); a body that is not the documented JSON → BadProviderResponse."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from app.providers.base import (
    BadProviderResponse,
    CompanyNotFound,
    CompanyQuery,
    CreditReport,
    ProviderUnavailable,
)
from app.providers.creditsafe_report import PROVIDER, connect_id, normalise
from app.settings import Settings


class CreditsafeProvider:
    name = PROVIDER

    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        password: SecretStr,
        http: httpx.AsyncClient,
        timeout: httpx.Timeout,
        report_cost: Decimal,
        cost_currency: str,
    ) -> None:
        if not username or not password.get_secret_value():
            raise ValueError(
                "the creditsafe provider needs CREDITGATE_CREDITSAFE_USERNAME and CREDITGATE_CREDITSAFE_PASSWORD"
            )
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        self.http = http
        self.timeout = timeout
        self.report_cost = report_cost
        self.cost_currency = cost_currency
        self._token: str | None = None
        self._token_lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.AsyncClient) -> CreditsafeProvider:
        seconds = settings.provider_timeout_ms / 1000
        return cls(
            base_url=settings.creditsafe_base_url,
            username=settings.creditsafe_username,
            password=settings.creditsafe_password,
            http=http,
            timeout=httpx.Timeout(seconds, connect=min(seconds, 2.0)),
            report_cost=settings.creditsafe_report_cost,
            cost_currency=settings.creditsafe_cost_currency,
        )

    async def fetch_report(self, company: CompanyQuery) -> CreditReport:
        search = await self._get_json(
            "/companies",
            {"countries": company.country, "regNo": company.registration_number, "pageSize": "10"},
            "search",
        )
        company_id = connect_id(search, company)
        report = await self._get_json(f"/companies/{quote(company_id, safe='')}", {"language": "en"}, "report")
        return normalise(report, company, reference=company_id, cost=self.report_cost, cost_currency=self.cost_currency)

    async def _get_json(self, path: str, params: dict[str, str], what: str) -> Any:
        token = await self._current_token()
        response = await self._send("GET", path, what, params=params, token=token)
        if response.status_code == 401:
            # Tokens expire (about an hour): log in again once, then give up.
            token = await self._current_token(expired=token)
            response = await self._send("GET", path, what, params=params, token=token)
            if response.status_code == 401:
                raise ProviderUnavailable(f"creditsafe {what}: a fresh token was refused", transient=False)
        _check_status(response, what)
        return _json(response, what)

    async def _current_token(self, expired: str | None = None) -> str:
        """The cached token; concurrent callers that find it missing or expired log in once between them."""
        async with self._token_lock:
            if self._token is None or self._token == expired:
                self._token = await self._authenticate()
            return self._token

    async def _authenticate(self) -> str:
        body = {"username": self.username, "password": self.password.get_secret_value()}
        response = await self._send("POST", "/authenticate", "authenticate", json=body)
        if response.status_code in (401, 403, 404):
            raise ProviderUnavailable(
                f"creditsafe authenticate: HTTP {response.status_code} (credentials or base URL)", transient=False
            )
        _check_status(response, "authenticate")
        payload = _json(response, "authenticate")
        token = payload.get("token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            raise BadProviderResponse("creditsafe authenticate: no token in the answer")
        return token

    async def _send(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, str] | None = None,
        token: str | None = None,
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        try:
            return await self.http.request(
                method, self.base_url + path, params=params, json=json, headers=headers, timeout=self.timeout
            )
        except httpx.TimeoutException:
            raise ProviderUnavailable(f"creditsafe {what}: timed out") from None
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"creditsafe {what}: {type(exc).__name__}") from None


def _check_status(response: httpx.Response, what: str) -> None:
    status = response.status_code
    if status < 300:
        return
    if status == 404:
        raise CompanyNotFound(f"creditsafe {what}: no such company")
    if status == 429:
        raise ProviderUnavailable(f"creditsafe {what}: rate limited")
    if status >= 500:
        raise ProviderUnavailable(f"creditsafe {what}: HTTP {status}")
    raise ProviderUnavailable(f"creditsafe {what}: HTTP {status}", transient=False)


# A real report is tens of kilobytes; anything this large is refused rather than parsed and stored for audit.
MAX_RESPONSE_BYTES = 4 * 1024 * 1024


def _json(response: httpx.Response, what: str) -> Any:
    if len(response.content) > MAX_RESPONSE_BYTES:
        raise BadProviderResponse(f"creditsafe {what}: the body is larger than {MAX_RESPONSE_BYTES} bytes")
    try:
        return response.json()
    except ValueError:
        raise BadProviderResponse(f"creditsafe {what}: the body is not JSON") from None
