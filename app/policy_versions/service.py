"""Policy versions as the credit manager handles them: store, read, activate, replay; and the active policy."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError

from app.audit.service import EventType, append
from app.auth import Principal
from app.customers.rates import RateTable
from app.db import Database, Reader, utcnow
from app.decisions.query import Cursor
from app.errors import Conflict, FieldError, InvalidRequest, NotFound
from app.policy.schema import PolicyDocument, load_policy_file, parse_policy, upload_errors
from app.policy_versions import repository
from app.policy_versions.models import PolicyVersion
from app.policy_versions.query import ReplayFilters
from app.policy_versions.replay import ReplayTally, replay
from app.policy_versions.schemas import PolicyVersionList, PolicyVersionOut, PolicyVersionSummary, SimulationOut

logger = logging.getLogger("creditgate.policies")

STARTUP = "startup"


def digest(document: PolicyDocument) -> str:
    """SHA-256 of the canonical JSON: the same content gives the same digest whatever its layout or format."""
    canonical = orjson.dumps(document.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


class PolicyCannotBeActivated(Conflict):
    code, title = "policy_invalid", "The stored policy version cannot decide and cannot be activated"


def _field_errors(errors: list[dict[str, Any]]) -> list[FieldError]:
    return [FieldError(field=error["field"], message=error["message"], type="policy_invalid") for error in errors]


class PolicyService:
    """The active version lives in the database; parsed documents are immutable, so they are cached by version."""

    def __init__(self, database: Database, default_file: Path) -> None:
        self.database = database
        self.default_file = default_file
        self._documents: dict[str, PolicyDocument] = {}

    async def active_policy(self, session: Reader | None = None) -> PolicyDocument:
        """The document every decision uses: one indexed read (in `session` when given), then the cache."""
        if session is not None:
            version = await repository.active_version(session)
            if version is not None:
                return await self._document(session, version)
        for _attempt in range(2):
            async with self.database.read() as session:
                version = await repository.active_version(session)
                if version is not None:
                    return await self._document(session, version)
            await self.bootstrap()
        raise RuntimeError("no active policy after storing the default one")

    async def active_policy_and_rates(self, session: Reader) -> tuple[PolicyDocument, RateTable]:
        """`active_policy` and the stored rates, in one statement (the decision path's read before its report)."""
        version, rates = await repository.active_version_and_rates(session)
        if version is None:  # an empty database: the bootstrap stores and activates the configured policy
            return await self.active_policy(), rates
        return await self._document(session, version), rates

    async def bootstrap(self) -> None:
        """On an empty database, store and activate the configured policy file (once, even for racing replicas)."""
        async with self.database.transaction() as session:
            await repository.lock_bootstrap(session)
            if await repository.active_version(session) is not None:
                return
            document = load_policy_file(self.default_file)
            stored = await repository.get_version(session, document.version)
            if stored is None:
                values = _values(document, STARTUP)
                await repository.insert_version(session, values)
                await append(
                    session,
                    EventType.POLICY_CREATED,
                    document.version,
                    {"version": document.version, "digest": values["digest"]},
                    STARTUP,
                )
            elif stored.digest != digest(document):
                raise RuntimeError(
                    f"policy version {document.version} is stored with other content than {self.default_file}"
                )
            activated_at = utcnow()
            await repository.insert_activation(session, document.version, activated_at, STARTUP)
            await append(
                session,
                EventType.POLICY_ACTIVATED,
                document.version,
                {"version": document.version, "previous_version": None, "activated_at": activated_at},
                STARTUP,
            )
        logger.info("stored and activated policy %s from %s", document.version, self.default_file)

    async def document(self, version: str) -> PolicyDocument:
        if version in self._documents:
            return self._documents[version]
        async with self.database.read() as session:
            return await self._load(session, version)

    async def _document(self, session: Reader, version: str) -> PolicyDocument:
        """A version's parsed document: from the cache, else read and parsed once."""
        return self._documents.get(version) or await self._load(session, version)

    async def _load(self, session: Reader, version: str) -> PolicyDocument:
        stored = await repository.version_document(session, version)
        if stored is None:
            raise NotFound(f"no policy version {version}")
        document = parse_policy(stored, stored=True)
        self._documents[version] = document
        return document

    async def list(self) -> PolicyVersionList:
        async with self.database.read() as session:
            active = await repository.active_version(session)
            rows = await repository.list_versions(session)
            activated = await repository.last_activations(session)
        items = [PolicyVersionSummary(**_summary(row, active, activated.get(row.version))) for row in rows]
        return PolicyVersionList(active_version=active, items=items)

    async def get(self, version: str | None) -> PolicyVersionOut:
        """One version with its document; None means the active one."""
        async with self.database.read() as session:
            active = await repository.active_version(session)
            wanted = version or active
            row = await repository.get_version(session, wanted) if wanted is not None else None
            if row is None:
                raise NotFound(f"no policy version {version}" if version else "no policy is active")
            activated = await repository.last_activations(session, [row.version])
        return _policy_version_out(row, active, activated.get(row.version))

    async def create(self, document: PolicyDocument, principal: Principal) -> tuple[PolicyVersionOut, bool]:
        """Store a new inactive version; the same content again is a no-op, other content under its id a conflict."""
        try:
            async with self.database.transaction() as session:
                if await repository.get_version(session, document.version) is None:
                    values = _values(document, principal.key_id)
                    await repository.insert_version(session, values)
                    await append(
                        session,
                        EventType.POLICY_CREATED,
                        document.version,
                        {"version": document.version, "digest": values["digest"]},
                        principal.key_id,
                    )
                    created = True
                else:
                    created = False
        except IntegrityError:
            created = False  # a concurrent request stored the same version id first
        stored = await self.get(document.version)
        if stored.digest != digest(document):
            raise Conflict(
                f"policy version {document.version} already exists with other content; versions never change: "
                "store the change under a new version id",
                version=document.version,
            )
        return stored, created

    async def activate(self, version: str, principal: Principal) -> PolicyVersionOut:
        async with self.database.transaction() as session:
            row = await repository.get_version(session, version)
            if row is None:
                raise NotFound(f"no policy version {version}")
            errors = upload_errors(parse_policy(row.document, stored=True))
            if errors:  # stored before the check: every decision it would take in that cell would fail
                raise PolicyCannotBeActivated(
                    f"policy version {version} cannot decide: {errors[0]['field']}: {errors[0]['message']}",
                    errors=_field_errors(errors),
                )
            previous = await repository.active_version(session)
            if previous != version:
                activated_at = utcnow()
                await repository.insert_activation(session, version, activated_at, principal.key_id)
                await append(
                    session,
                    EventType.POLICY_ACTIVATED,
                    version,
                    {"version": version, "previous_version": previous, "activated_at": activated_at},
                    principal.key_id,
                )
                logger.info("policy %s activated by %s", version, principal.key_id)
        return await self.get(version)

    async def simulate(
        self,
        version: str,
        filters: ReplayFilters,
        page_size: int = 50,
        cursor: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> SimulationOut:
        policy = await self.document(version)
        errors = upload_errors(policy)
        if errors:  # what activation would refuse, shown before anyone tries
            raise InvalidRequest(
                f"policy version {version} cannot decide: {errors[0]['field']}: {errors[0]['message']}",
                errors=_field_errors(errors),
            )
        tally = ReplayTally(policy, page_size, Cursor.decode(cursor) if cursor else None)
        # A replay reads and re-decides every matching decision: a heavy read, one of a bounded few at a time.
        async with self.database.heavy_reads.turn():
            return await replay(self.database, tally, filters, progress)

    async def count(self, filters: ReplayFilters) -> int:
        async with self.database.read() as session:
            return await repository.count_decisions(session, filters)


def _values(document: PolicyDocument, created_by: str) -> dict[str, Any]:
    return {
        "version": document.version,
        "description": document.description,
        "currency": document.currency,
        "document": document.model_dump(mode="json"),
        "digest": digest(document),
        "created_at": utcnow(),
        "created_by": created_by,
    }


def _summary(row: PolicyVersion, active: str | None, activated_at: datetime | None) -> dict[str, Any]:
    return {
        "version": row.version,
        "description": row.description,
        "currency": row.currency,
        "digest": row.digest,
        "created_at": row.created_at,
        "created_by": row.created_by,
        "active": row.version == active,
        "last_activated_at": activated_at,
    }


def _policy_version_out(row: PolicyVersion, active: str | None, activated_at: datetime | None) -> PolicyVersionOut:
    return PolicyVersionOut(**_summary(row, active, activated_at), document=parse_policy(row.document, stored=True))
