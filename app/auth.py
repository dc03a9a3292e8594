"""Bearer API keys and their scopes."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from app.errors import FieldError, Forbidden, Unauthenticated
from app.settings import key_id


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's non-secret id and its scopes."""

    key_id: str
    scopes: frozenset[str]

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this operation needs the '{scope}' scope")


class KeyRing:
    """The configured keys, held only as digests never as plain text."""

    def __init__(self, keys: dict[str, frozenset[str]]) -> None:
        self._by_digest = {_digest(key): Principal(key_id(key), scopes) for key, scopes in keys.items()}
        self._by_id = {principal.key_id: principal for principal in self._by_digest.values()}

    def __len__(self) -> int:
        return len(self._by_digest)

    def find(self, api_key: str) -> Principal | None:
        """The key's principal, or None: for the console's sign-in form."""
        return self._by_digest.get(_digest(api_key.strip()))

    def by_id(self, api_key_id: str) -> Principal | None:
        """A configured key's principal by its non-secret id (a console session names only the id)."""
        return self._by_id.get(api_key_id)

    def authenticate(self, authorization: str | Sequence[str] | None) -> Principal:
        """The principal of an Authorization header's bearer key (all of a request's headers of that name may be
        given: more than one is refused, as a proxy and the service could otherwise each read another)."""
        challenge = {"WWW-Authenticate": 'Bearer realm="creditgate"'}
        if not isinstance(authorization, str) and authorization is not None:
            if len(authorization) > 1:
                message = "send one Authorization header, not several"
                raise Unauthenticated(
                    message, headers=challenge, errors=[FieldError(field="header.authorization", message=message)]
                )
            authorization = authorization[0] if authorization else None
        if not authorization:
            raise Unauthenticated("send 'Authorization: Bearer <api key>'", headers=challenge)
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("send 'Authorization: Bearer <api key>'", headers=challenge)
        # Looked up by SHA-256 digest: timing reveals nothing about the stored keys themselves.
        principal = self._by_digest.get(_digest(token))
        if principal is None:
            raise Unauthenticated("the API key is not valid", headers=challenge)
        return principal


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()
