"""The Creditsafe adapter against a fake Connect API (httpx.MockTransport) built from documented responses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from pydantic import SecretStr

from app.providers.base import BadProviderResponse, CompanyNotFound, CompanyQuery, ProviderUnavailable, payload_hash
from app.providers.creditsafe import CreditsafeProvider
from tests.providers.fake_creditsafe import BASE_URL, PASSWORD, USERNAME, FakeCreditsafe, fixture

COMPANY = CompanyQuery("NL", "12345672", "Bakkerij Jansen B.V.")


@pytest.fixture
def fake() -> FakeCreditsafe:
    return FakeCreditsafe()


@pytest.fixture
async def adapter(fake: FakeCreditsafe) -> AsyncIterator[CreditsafeProvider]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as http:
        yield _adapter(http)


def _adapter(http: httpx.AsyncClient, password: str = PASSWORD) -> CreditsafeProvider:
    return CreditsafeProvider(
        base_url=BASE_URL,
        username=USERNAME,
        password=SecretStr(password),
        http=http,
        timeout=httpx.Timeout(1.0),
        report_cost=Decimal("10.00"),
        cost_currency="EUR",
    )


class TestSuccess:
    async def test_maps_the_common_rating_limit_score_and_payment_data(self, adapter: CreditsafeProvider) -> None:
        report = await adapter.fetch_report(COMPANY)
        assert report.provider == "creditsafe"
        assert report.reference == "NL-X-123456720000"
        assert report.risk_class == "B"
        assert report.score == 62  # "62" on Creditsafe's 1–100 scale
        assert report.recommended_limit == Decimal("25000")
        assert report.limit_currency == "EUR"
        assert report.days_beyond_terms == 4
        assert report.status == "active"
        assert report.negative_events == ()
        assert report.company_name == "Bakkerij Jansen B.V."
        assert report.cost == Decimal("10.00")
        assert report.raw["report"]["creditScore"]["currentCreditRating"]["commonValue"] == "B"
        assert report.raw_hash == payload_hash(report.raw)
        assert (datetime.now(UTC) - report.fetched_at).total_seconds() < 60

    async def test_maps_a_bankrupt_company_to_insolvent(
        self, adapter: CreditsafeProvider, fake: FakeCreditsafe
    ) -> None:
        fake.report_name = "report_insolvent"
        report = await adapter.fetch_report(CompanyQuery("NL", "12345679"))
        assert report.status == "insolvent"
        assert report.risk_class == "insolvent"
        assert report.days_beyond_terms == 61
        assert report.negative_events == ("insolvency", "insolvencies", "legal_count")

    async def test_logs_in_once_for_several_reports(self, adapter: CreditsafeProvider, fake: FakeCreditsafe) -> None:
        await adapter.fetch_report(COMPANY)
        await adapter.fetch_report(CompanyQuery("NL", "12345673"))
        assert fake.auth_requests == 1
        assert fake.report_requests == 2


class TestNotFound:
    async def test_search_without_hits_is_company_not_found(
        self, adapter: CreditsafeProvider, fake: FakeCreditsafe
    ) -> None:
        with pytest.raises(CompanyNotFound):
            await adapter.fetch_report(CompanyQuery("NL", "00000000"))
        assert fake.report_requests == 0  # nothing was bought

    async def test_report_404_is_company_not_found(self, adapter: CreditsafeProvider, fake: FakeCreditsafe) -> None:
        fake.fail_status, fake.fail_times = 404, 1
        with pytest.raises(CompanyNotFound):
            await adapter.fetch_report(COMPANY)


class TestAuthentication:
    async def test_expired_token_is_refreshed_once_and_the_call_succeeds(
        self, adapter: CreditsafeProvider, fake: FakeCreditsafe
    ) -> None:
        await adapter.fetch_report(COMPANY)
        fake.revoke_tokens()
        report = await adapter.fetch_report(COMPANY)
        assert report.risk_class == "B"
        assert fake.auth_requests == 2

    async def test_refused_credentials_are_unavailable_and_not_worth_a_retry(self, fake: FakeCreditsafe) -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as http:
            adapter = _adapter(http, password="wrong-password")
            with pytest.raises(ProviderUnavailable) as raised:
                await adapter.fetch_report(COMPANY)
        assert raised.value.transient is False
        assert fake.report_requests == 0

    async def test_refuses_to_start_without_credentials(self) -> None:
        async with httpx.AsyncClient() as http:
            with pytest.raises(ValueError, match="CREDITGATE_CREDITSAFE_USERNAME"):
                _adapter(http, password="")


class TestUnavailable:
    @pytest.mark.parametrize("status", [429, 500, 502, 503])
    async def test_rate_limit_and_server_errors_are_transient(
        self, adapter: CreditsafeProvider, fake: FakeCreditsafe, status: int
    ) -> None:
        fake.fail_status, fake.fail_times = status, 1
        with pytest.raises(ProviderUnavailable) as raised:
            await adapter.fetch_report(COMPANY)
        assert raised.value.transient is True

    async def test_a_client_error_is_not_transient(self, adapter: CreditsafeProvider, fake: FakeCreditsafe) -> None:
        fake.fail_status, fake.fail_times = 400, 1
        with pytest.raises(ProviderUnavailable) as raised:
            await adapter.fetch_report(COMPANY)
        assert raised.value.transient is False

    @pytest.mark.parametrize(
        "error", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ConnectError], ids=lambda e: e.__name__
    )
    async def test_timeouts_and_connection_errors_are_transient(self, error: type[httpx.TransportError]) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            raise error("simulated", request=request)

        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            with pytest.raises(ProviderUnavailable) as raised:
                await _adapter(http).fetch_report(COMPANY)
        assert raised.value.transient is True


def _answering(report_body: bytes | Callable[[], object]) -> Callable[[httpx.Request], httpx.Response]:
    """Connect that logs in and finds the company, then answers the report with `report_body`."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/authenticate"):
            return httpx.Response(200, json=fixture("authenticate"))
        if request.url.path.endswith("/companies"):
            return httpx.Response(200, json=fixture("search_found"))
        if callable(report_body):
            return httpx.Response(200, json=report_body())
        return httpx.Response(200, content=report_body, headers={"content-type": "application/json"})

    return handler


def _with_rating(value: object) -> object:
    report = fixture("report_b")
    report["report"]["creditScore"]["currentCreditRating"]["commonValue"] = value
    return report


class TestMalformed:
    @pytest.mark.parametrize(
        "body",
        [
            b'{"report": {"creditScore": ',
            b"<html>Service Unavailable</html>",
            lambda: ["not", "an", "object"],
            lambda: {"companyId": "NL-X-1"},
            lambda: _with_rating("Z"),
            lambda: _with_rating(3),
            lambda: {"report": {"companySummary": {"companyStatus": {"status": "Sleeping"}}}},
        ],
        ids=["truncated", "html", "array", "no-report", "unknown-rating", "rating-number", "unknown-status"],
    )
    async def test_a_malformed_report_is_a_bad_response(self, body: bytes | Callable[[], object]) -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(_answering(body))) as http:
            with pytest.raises(BadProviderResponse):
                await _adapter(http).fetch_report(COMPANY)

    async def test_a_search_answer_without_company_ids_is_a_bad_response(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/authenticate"):
                return httpx.Response(200, json=fixture("authenticate"))
            return httpx.Response(200, json={"companies": [{"name": "no id"}], "totalSize": 1})

        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            with pytest.raises(BadProviderResponse):
                await _adapter(http).fetch_report(COMPANY)

    async def test_an_unrated_report_without_a_usable_limit_is_still_a_report(self) -> None:
        def unrated() -> object:
            report = fixture("report_b")
            del report["report"]["creditScore"]
            return report

        async with httpx.AsyncClient(transport=httpx.MockTransport(_answering(unrated))) as http:
            report = await _adapter(http).fetch_report(COMPANY)
        assert (report.risk_class, report.score, report.recommended_limit) == (None, None, None)
