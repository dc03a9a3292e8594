"""Webhook targets: what can never be delivered, or would reach inside, is refused when it is subscribed."""

from __future__ import annotations

import ipaddress
import re

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from app.webhooks.schemas import IPV6_PATTERN, URL_PATTERN
from app.webhooks.targets import TargetRefused, check_url, refusal, resolve
from tests.conftest import auth, count_rows

# Forms of loopback, private, link-local, metadata and multicast addresses, written so that a check of the
# plain dotted quad does not see them.
INWARD = [
    "https://[::127.0.0.1]/x",  # IPv4-compatible
    "https://[::ffff:127.0.0.1]/x",  # IPv4-mapped
    "https://[::ffff:169.254.169.254]/x",
    "https://[64:ff9b::7f00:1]/x",  # NAT64 of 127.0.0.1
    "https://[64:ff9b::a9fe:a9fe]/x",  # NAT64 of 169.254.169.254 (cloud metadata)
    "https://[2002:7f00:1::]/x",  # 6to4 of 127.0.0.1
    "https://[2002:a00:1::]/x",  # 6to4 of 10.0.0.1
    "https://[fe80::1]/x",
    "https://[fd00::1]/x",
    "https://[ff02::1]/x",  # multicast
    "https://224.0.0.1/x",
    "https://239.255.255.250/x",
    "https://100.64.0.1/x",  # carrier-grade NAT
    "https://0.0.0.0/x",
    "https://240.0.0.1/x",
    "https://localhost./x",
    "https://LOCALHOST/x",
    "https://hooks.localhost./x",
    "https://metadata.google.internal./x",
]
# Legacy IPv4 spellings that resolvers read as an address: refused even where private targets are allowed.
LEGACY_IPV4 = [
    "https://2130706433/x",
    "https://0177.0.0.1/x",
    "https://0x7f.0.0.1/x",
    "https://127.1/x",
    "https://0x7f000001/x",
    "https://1.2.3/x",
]
NEVER_DELIVERABLE = [
    "https://127.0.0.1:99999/x",
    "https://127.0.0.1:0/x",
    "https://hooks.example.com:65536/x",
    "https://exa mple.com/x",
    "https://-hooks.example.com/x",
    "https:///x",
    "https://1.2.3.4.5/x",  # not an address, and no DNS name ends in a number
    "https://hooks.123/x",
    "https://[1:2:3]/x",  # too few groups
    "https://[1:2:3:4:5:6:7:8:9]/x",  # too many
    "https://[::1/x",
    "https://[1::2::3]/x",
]


class TestRefusedAtSubscription:
    @pytest.mark.parametrize("url", INWARD + LEGACY_IPV4 + NEVER_DELIVERABLE)
    def test_refused_in_production(self, url: str) -> None:
        with pytest.raises(TargetRefused):
            check_url(url, allow_private=False)

    @pytest.mark.parametrize("url", LEGACY_IPV4 + NEVER_DELIVERABLE)
    def test_refused_even_where_private_targets_are_allowed(self, url: str) -> None:
        with pytest.raises(TargetRefused):
            check_url(url, allow_private=True)

    @pytest.mark.parametrize(
        "url",
        [
            "https://hooks.example.com/creditgate",
            "https://hooks.example.com./creditgate",  # a fully qualified name
            "https://hooks.example.com:8443/creditgate",
            "https://93.184.215.14/x",
            "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/x",
            "https://[64:ff9b::5db8:d70e]/x",  # NAT64 of a public address
            "https://bücher.example/x",
        ],
    )
    def test_public_targets_are_accepted(self, url: str) -> None:
        check_url(url, allow_private=False)

    @pytest.mark.parametrize("url", ["http://127.0.0.1:18711/hooks", "http://localhost:8080/x", "http://[::1]/x"])
    def test_private_targets_where_allowed(self, url: str) -> None:
        check_url(url, allow_private=True)

    async def test_the_api_answers_422_naming_the_url_and_stores_nothing(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        for url in ["https://[::ffff:169.254.169.254]/latest", "https://2130706433/x", "https://h.example:99999/"]:
            body = {"url": url, "event_types": ["customer.blocked"]}
            response = await client.post("/v1/webhooks", json=body, headers=auth())
            assert response.status_code == 422, (url, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert [error["field"] for error in response.json()["errors"]] == ["url"]
        assert await count_rows(engine, "webhook_subscriptions") == 0


class TestAddressRules:
    @pytest.mark.parametrize(
        ("address", "refused"),
        [
            ("8.8.8.8", False),
            ("127.0.0.1", True),
            ("169.254.169.254", True),
            ("::7f00:1", True),
            ("::ffff:8.8.8.8", False),  # judged by the IPv4 address it reaches
            ("::ffff:10.1.2.3", True),
            ("64:ff9b::808:808", False),
            ("2002:808:808::1", False),
            ("2002:c0a8:101::1", True),
            ("ff0e::1", True),
        ],
    )
    def test_embedded_ipv4_addresses_are_judged_by_what_they_reach(self, address: str, refused: bool) -> None:
        assert (refusal(ipaddress.ip_address(address)) is not None) == refused


class Answers:
    """A resolver that gives each lookup the next answer, as a name under an attacker's control can."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        return self.answers.pop(0)


class TestResolution:
    async def test_a_name_resolving_inward_is_refused_before_delivery(self) -> None:
        for inward in (["93.184.215.14", "10.0.0.7"], ["::ffff:169.254.169.254"], ["64:ff9b::7f00:1"]):
            with pytest.raises(TargetRefused, match="resolves to"):
                await resolve("https://hooks.example.com/x", allow_private=False, lookup=Answers(inward))

    async def test_the_checked_addresses_are_what_a_delivery_connects_to(self) -> None:
        target = await resolve(
            "https://hooks.example.com/x", allow_private=False, lookup=Answers(["93.184.215.14", "93.184.215.14"])
        )
        assert target.addresses == ("93.184.215.14",)
        assert target.url.raw_host == b"hooks.example.com"

    async def test_an_address_literal_needs_no_lookup(self) -> None:
        answers = Answers()
        target = await resolve(
            "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/x", allow_private=False, lookup=answers
        )
        assert target.addresses == ("2606:2800:21f:cb07:6820:80da:af6b:8b2c",)
        assert answers.lookups == []


class TestTheDocumentedPattern:
    """The URL pattern in the OpenAPI document refuses what the service always refuses and takes what it takes."""

    @pytest.mark.parametrize("url", [*LEGACY_IPV4, *NEVER_DELIVERABLE, "https://0/x", "https://0x7f/x"])
    def test_refuses_what_is_never_deliverable(self, url: str) -> None:
        assert re.fullmatch(URL_PATTERN, url) is None
        with pytest.raises(TargetRefused):
            check_url(url, allow_private=True)

    @pytest.mark.parametrize(
        "url",
        [
            "https://hooks.example.com/creditgate",
            "http://127.0.0.1:18711/hooks",
            "https://a/x",
            "http://h0.x-1/",
            "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/x",
            "http://[::1]:18711/hooks",
            *INWARD[:6],
        ],
    )
    def test_takes_what_the_service_takes(self, url: str) -> None:
        assert re.fullmatch(URL_PATTERN, url) is not None
        check_url(url, allow_private=True)

    @given(address=st.ip_addresses(v=6))
    def test_describes_every_ipv6_address_in_either_spelling(self, address: ipaddress.IPv6Address) -> None:
        for written in (address.compressed, address.exploded):
            url = f"https://[{written}]:8443/hooks"
            assert re.fullmatch(URL_PATTERN, url) is not None, url
            check_url(url, allow_private=True)

    @given(written=st.from_regex(f"^{IPV6_PATTERN}$", fullmatch=True))
    def test_every_ipv6_host_it_describes_is_an_address_the_service_takes(self, written: str) -> None:
        assert isinstance(ipaddress.ip_address(written), ipaddress.IPv6Address)
        check_url(f"https://[{written}]/hooks", allow_private=True)
