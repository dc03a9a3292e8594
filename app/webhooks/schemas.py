"""Webhook API bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EventType = Literal[
    "decision.reviewed",
    "customer.limit_changed",
    "customer.risk_changed",
    "customer.blocked",
    "customer.unblocked",
    "customer.warning",
    "customer.cover_changed",
    "customer.insurer_request_answered",
    "limit_request.decided",
]
# scheme://host[:port][/path][?query]: no user info, a port from 1 to 65535. The host is an IPv4 address in four
# decimal numbers, an IPv6 address in brackets (RFC 3986's grammar, no zone), or a DNS name whose last label
# starts with a letter (so no legacy IPv4 spelling such as 2130706433, 0x7f.1 or 127.1 can pass as a name).
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(\.{_OCTET}){{3}}"
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_H16 = r"[0-9A-Fa-f]{1,4}"
_LS32 = rf"({_H16}:{_H16}|{_IPV4})"
# RFC 3986, 3.2.2: the nine forms of an IPv6 address, by where "::" stands.
IPV6_PATTERN = (
    "("
    + "|".join(
        (
            rf"({_H16}:){{6}}{_LS32}",
            rf"::({_H16}:){{5}}{_LS32}",
            rf"({_H16})?::({_H16}:){{4}}{_LS32}",
            rf"(({_H16}:){{0,1}}{_H16})?::({_H16}:){{3}}{_LS32}",
            rf"(({_H16}:){{0,2}}{_H16})?::({_H16}:){{2}}{_LS32}",
            rf"(({_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}",
            rf"(({_H16}:){{0,4}}{_H16})?::{_LS32}",
            rf"(({_H16}:){{0,5}}{_H16})?::{_H16}",
            rf"(({_H16}:){{0,6}}{_H16})?::",
        )
    )
    + ")"
)
URL_PATTERN = (
    rf"^https?://({_IPV4}|\[{IPV6_PATTERN}\]|({_LABEL}\.)*[A-Za-z]([A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?)"
    r"(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
    r"(/([A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*)?(\?([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$"
)
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=8,
        max_length=2000,
        description="Where events are POSTed: https and a public host, unless the service allows private targets "
        "(CREDITGATE_WEBHOOKS_ALLOW_PRIVATE_TARGETS: http, loopback and private addresses too); no credentials.",
        json_schema_extra={"format": "uri", "pattern": URL_PATTERN},
    )
    event_types: list[EventType] = Field(min_length=1)
    description: str | None = Field(default=None, max_length=500)


class SubscriptionOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    description: str | None
    created_at: datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="The whsec_ signing secret. Shown only in this response: store it now.")


class SubscriptionList(BaseModel):
    items: list[SubscriptionOut]


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryList(BaseModel):
    items: list[DeliveryOut]
