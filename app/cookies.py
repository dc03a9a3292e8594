"""Console sessions (the console signs in with them): a signed cookie naming the API key's id and an expiry,
and the CSRF tokens tied to it.

The cookie never holds the key itself. It is an HMAC-SHA256 signed payload over a server secret; the server
maps the key id back to the configured key's scopes on every request, so removing a key from
CREDITGATE_API_KEYS ends its sessions at the next restart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import orjson

from app.settings import Settings

SESSION_COOKIE = "creditgate_console"
SIGN_IN_COOKIE = "creditgate_console_sign_in"
SIGN_IN_SECONDS = 15 * 60


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    key_id: str
    expires: int  # Unix seconds
    nonce: str  # random per sign-in: ties the CSRF token to this session only


class SessionSigner:
    """Issues and verifies session cookies and CSRF tokens with one secret."""

    def __init__(self, secret: bytes, lifetime_seconds: int) -> None:
        self._secret = secret
        self.lifetime_seconds = lifetime_seconds

    def issue(self, key_id: str, now: float | None = None) -> tuple[str, ConsoleSession]:
        session = ConsoleSession(key_id, int((now or time.time()) + self.lifetime_seconds), secrets.token_urlsafe(18))
        return self._sign(orjson.dumps([session.key_id, session.expires, session.nonce])), session

    def read(self, cookie: str | None, now: float | None = None) -> ConsoleSession | None:
        payload = self._verify(cookie)
        if payload is None:
            return None
        try:
            key_id, expires, nonce = orjson.loads(payload)
        except (orjson.JSONDecodeError, ValueError, TypeError):
            return None
        if not isinstance(key_id, str) or not isinstance(expires, int) or not isinstance(nonce, str):
            return None
        if expires <= (now or time.time()):
            return None
        return ConsoleSession(key_id, expires, nonce)

    def csrf_token(self, session: ConsoleSession) -> str:
        return self._mac(b"csrf|" + session.nonce.encode())

    def check_csrf(self, session: ConsoleSession, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(self.csrf_token(session), token)

    # The sign-in form has no session yet: its token is tied to a short-lived cookie of its own, so another
    # site cannot sign a browser into an attacker's key (login CSRF).
    def issue_sign_in(self, now: float | None = None) -> tuple[str, str]:
        nonce = secrets.token_urlsafe(18)
        expires = int((now or time.time()) + SIGN_IN_SECONDS)
        cookie = self._sign(orjson.dumps(["sign-in", expires, nonce]))
        return cookie, self._mac(b"sign-in|" + nonce.encode())

    def check_sign_in(self, cookie: str | None, token: str | None, now: float | None = None) -> bool:
        payload = self._verify(cookie)
        if payload is None or token is None:
            return False
        try:
            kind, expires, nonce = orjson.loads(payload)
        except (orjson.JSONDecodeError, ValueError, TypeError):
            return False
        if kind != "sign-in" or not isinstance(expires, int) or expires <= (now or time.time()):
            return False
        return hmac.compare_digest(self._mac(b"sign-in|" + str(nonce).encode()), token)

    def _sign(self, payload: bytes) -> str:
        return _b64(payload) + "." + self._mac(payload)

    def _verify(self, cookie: str | None) -> bytes | None:
        if not cookie or "." not in cookie or len(cookie) > 1024:
            return None
        encoded, _, mac = cookie.partition(".")
        try:
            payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError:
            return None
        return payload if hmac.compare_digest(self._mac(payload), mac) else None

    def _mac(self, message: bytes) -> str:
        return _b64(hmac.new(self._secret, message, hashlib.sha256).digest())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def signer_for(settings: Settings) -> SessionSigner:
    """The signer for the configured secret; without one, a random secret that lasts as long as the process."""
    secret = settings.console_secret.get_secret_value().encode() if settings.console_secret else None
    return SessionSigner(secret or secrets.token_bytes(32), settings.console_session_minutes * 60)
