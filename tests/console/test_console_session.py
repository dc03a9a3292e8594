"""Console sessions: no page without one, a cookie that holds no key, CSRF on every form, scopes decide pages."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from app.cookies import SESSION_COOKIE, SessionSigner
from app.main import create_app
from app.settings import Settings
from tests.conftest import ALL_KEY, key_for
from tests.console.console import csrf_token, decide, sign_in

PAGES = [
    "/console/",
    "/console/decisions",
    "/console/decisions/00000000-0000-0000-0000-000000000000",
    "/console/customers",
    "/console/customers/C-42",
    "/console/policies",
    "/console/policies/default-2026.11",
    "/console/spend",
    "/console/reviews",
    "/console/account",
]


class TestNoPageWithoutSession:
    @pytest.mark.parametrize("path", PAGES)
    async def test_sends_the_browser_to_sign_in(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/console/sign-in?next=")

    async def test_a_tampered_cookie_is_no_session(self, client: httpx.AsyncClient) -> None:
        await sign_in(client)
        value = client.cookies[SESSION_COOKIE]
        client.cookies.set(SESSION_COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"), path="/console")
        response = await client.get("/console/decisions")
        assert response.status_code == 303

    async def test_a_cookie_signed_with_another_secret_is_no_session(self, client: httpx.AsyncClient) -> None:
        from app.settings import key_id

        forged, _ = SessionSigner(b"another secret", 3600).issue(key_id(ALL_KEY))
        client.cookies.set(SESSION_COOKIE, forged, domain="creditgate.test", path="/console")
        assert (await client.get("/console/decisions")).status_code == 303

    def test_an_expired_session_is_no_session(self) -> None:
        signer = SessionSigner(b"secret", 60)
        cookie, _ = signer.issue("key_abc", now=1_000_000.0)
        assert signer.read(cookie, now=1_000_030.0) is not None
        assert signer.read(cookie, now=1_000_061.0) is None

    async def test_signing_out_ends_the_session(self, client: httpx.AsyncClient) -> None:
        await sign_in(client)
        page = await client.get("/console/decisions")
        response = await client.post("/console/sign-out", data={"csrf_token": csrf_token(page)})
        assert response.status_code == 303
        assert (await client.get("/console/decisions")).status_code == 303


class TestSignIn:
    async def test_a_wrong_key_is_refused_without_a_session(self, client: httpx.AsyncClient) -> None:
        form = await client.get("/console/sign-in")
        response = await client.post(
            "/console/sign-in", data={"api_key": "not-a-key-00000000000", "csrf_token": csrf_token(form)}
        )
        assert response.status_code == 401
        assert "not valid" in response.text
        assert SESSION_COOKIE not in client.cookies

    async def test_the_form_needs_its_own_token(self, client: httpx.AsyncClient) -> None:
        await client.get("/console/sign-in")
        response = await client.post("/console/sign-in", data={"api_key": ALL_KEY, "csrf_token": "forged"})
        assert response.status_code == 403
        assert SESSION_COOKIE not in client.cookies

    async def test_the_cookie_is_http_only_strict_and_holds_no_key(self, client: httpx.AsyncClient) -> None:
        response = await sign_in(client)
        header = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "="))
        assert "HttpOnly" in header
        assert "SameSite=strict" in header or "SameSite=Strict" in header
        assert "Path=/console" in header
        assert "Secure" not in header  # served over plain http in this test
        assert ALL_KEY not in header
        assert response.headers["location"] == "/console/decisions"

    async def test_the_cookie_is_secure_when_the_setting_says_so(self, settings: Settings, engine: object) -> None:
        from app.main import create_app

        app = create_app(settings.model_copy(update={"console_secure_cookie": "always"}))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="https://creditgate.test") as client:
                response = await sign_in(client)
        header = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "="))
        assert "Secure" in header

    async def test_returns_to_the_page_asked_for_but_never_off_site(self, client: httpx.AsyncClient) -> None:
        form = await client.get("/console/sign-in?next=/console/spend")
        token = csrf_token(form)
        response = await client.post(
            "/console/sign-in", data={"api_key": ALL_KEY, "csrf_token": token, "next": "/console/spend"}
        )
        assert response.headers["location"] == "/console/spend"
        form = await client.get("/console/sign-in")
        response = await client.post(
            "/console/sign-in",
            data={"api_key": ALL_KEY, "csrf_token": csrf_token(form), "next": "//evil.example/console/"},
        )
        assert response.headers["location"] == "/console/decisions"

    async def test_a_session_follows_the_configured_keys(self, settings: Settings, engine: object) -> None:
        """A key removed from the configuration ends its sessions, even with a validly signed cookie."""
        from app.main import create_app

        secret = {"console_secret": SecretStr("s" * 32)}
        first = create_app(settings.model_copy(update=secret))
        async with (
            first.router.lifespan_context(first),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://creditgate.test") as browser,
        ):
            await sign_in(browser, key_for("read"))
            cookie = browser.cookies[SESSION_COOKIE]
        fewer = SecretStr('{"test-key-admin-0000000000": ["admin"]}')
        second = create_app(settings.model_copy(update={**secret, "api_keys": fewer}))
        async with (
            second.router.lifespan_context(second),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://creditgate.test") as browser,
        ):
            browser.cookies.set(SESSION_COOKIE, cookie, domain="creditgate.test", path="/console")
            assert (await browser.get("/console/decisions")).status_code == 303


class TestCsrf:
    async def test_a_form_without_the_token_is_refused(self, client: httpx.AsyncClient) -> None:
        await sign_in(client)
        response = await client.post("/console/sign-out", data={})
        assert response.status_code == 403
        assert (await client.get("/console/decisions")).status_code == 200

    async def test_another_sessions_token_is_refused(self, client: httpx.AsyncClient) -> None:
        await sign_in(client)
        old_token = csrf_token(await client.get("/console/policies/default-2026.11"))
        await sign_in(client)  # a new session, a new token
        response = await client.post("/console/policies/default-2026.11/simulate", data={"csrf_token": old_token})
        assert response.status_code == 403
        assert "not sent from this console" in response.text

    async def test_activation_with_a_bad_token_changes_nothing(self, client: httpx.AsyncClient) -> None:
        from tests.conftest import auth

        await sign_in(client)
        before = (await client.get("/v1/policies", headers=auth())).json()["active_version"]
        response = await client.post("/console/policies/default-2026.11/activate", data={"csrf_token": "x"})
        assert response.status_code == 403
        assert (await client.get("/v1/policies", headers=auth())).json()["active_version"] == before


class TestScopes:
    async def test_a_read_key_sees_no_admin_forms_and_cannot_post_them(self, client: httpx.AsyncClient) -> None:
        await sign_in(client, key_for("read"))
        page = await client.get("/console/policies/default-2026.11")
        assert page.status_code == 200
        assert "/simulate" not in page.text
        response = await client.post(
            "/console/policies/default-2026.11/simulate", data={"csrf_token": csrf_token(page)}
        )
        assert response.status_code == 403

    async def test_a_read_key_sees_no_review_form(self, client: httpx.AsyncClient) -> None:
        await decide(client, 1, registration_number="12345678")  # class E: sent to review or rejected
        await sign_in(client, key_for("read"))
        page = await client.get("/console/decisions")
        assert 'href="/console/reviews"' not in page.text
        assert "review-form" not in page.text
        assert (await client.get("/console/reviews")).status_code == 403

    async def test_a_review_key_cannot_read_the_history(self, client: httpx.AsyncClient) -> None:
        await sign_in(client, key_for("review"))
        response = await client.get("/console/decisions")
        assert response.status_code == 403
        assert "read" in response.text

    async def test_a_key_without_console_scopes_lands_on_its_account(self, client: httpx.AsyncClient) -> None:
        response = await sign_in(client, key_for("decide"))
        assert response.headers["location"] == "/console/account"
        page = await client.get("/console/account")
        assert "no scope the console can show" in page.text
        assert (await client.get("/console/spend")).status_code == 403

    async def test_an_admin_activates_a_version(self, client: httpx.AsyncClient) -> None:
        await sign_in(client, key_for("admin"))
        page = await client.get("/console/policies/default-2026.11")
        response = await client.post(
            "/console/policies/default-2026.11/activate", data={"csrf_token": csrf_token(page)}
        )
        assert response.status_code == 303
        assert response.headers["location"].endswith("?activated=1")


class TestSigningOutEndsTheSessionOnTheServer:
    """A cookie copied before signing out (a shared computer, a proxy log) is refused afterwards, by every
    replica that shares the console secret and the database."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"console_secret": SecretStr("a-shared-console-secret-0000000000")})

    async def test_a_copied_cookie_no_longer_signs_in(self, client: httpx.AsyncClient, settings: Settings) -> None:
        await sign_in(client)
        page = await client.get("/console/decisions")
        copied = client.cookies[SESSION_COOKIE]
        other = create_app(settings)  # a second replica
        async with other.router.lifespan_context(other):
            transport = httpx.ASGITransport(app=other)
            async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as replica:
                replica.cookies.set(SESSION_COOKIE, copied, domain="creditgate.test", path="/console")
                assert (await replica.get("/console/decisions")).status_code == 200
                response = await client.post("/console/sign-out", data={"csrf_token": csrf_token(page)})
                assert response.status_code == 303
                client.cookies.set(SESSION_COOKIE, copied, domain="creditgate.test", path="/console")
                assert (await client.get("/console/decisions")).status_code == 303
                assert (await replica.get("/console/decisions")).status_code == 303

    async def test_another_sign_in_is_not_ended(self, client: httpx.AsyncClient) -> None:
        await sign_in(client)
        first = client.cookies[SESSION_COOKIE]
        client.cookies.clear()
        await sign_in(client)
        second = client.cookies[SESSION_COOKIE]
        page = await client.get("/console/decisions")
        await client.post("/console/sign-out", data={"csrf_token": csrf_token(page)})
        client.cookies.set(SESSION_COOKIE, first, domain="creditgate.test", path="/console")
        assert (await client.get("/console/decisions")).status_code == 200
        client.cookies.set(SESSION_COOKIE, second, domain="creditgate.test", path="/console")
        assert (await client.get("/console/decisions")).status_code == 303
