"""The audit API's response bodies."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.audit.verify import Problem, Verification


class ChainHeadOut(BaseModel):
    seq: int
    hash: str


class BrokenEventOut(BaseModel):
    seq: int = Field(description="The first event that does not hold (for `missing`, the first absent seq).")
    problem: Problem = Field(
        description="`missing`: a gap in seq; `altered`: fields do not match the hash; `unlinked`: prev_hash "
        "does not match the previous event; `head_mismatch` / `anchor_mismatch`: the hash differs from the "
        "chain head's or the given anchor's."
    )
    detail: str


class VerificationOut(BaseModel):
    intact: bool
    events_checked: int
    last_seq: int = Field(description="The last event that verified.")
    last_hash: str = Field(description="Its hash: record it outside the database and pass it back as an anchor.")
    head: ChainHeadOut | None
    first_broken: BrokenEventOut | None
    duration_ms: float

    @classmethod
    def of(cls, result: Verification, duration_ms: float) -> VerificationOut:
        broken = result.first_broken
        return cls(
            intact=result.intact,
            events_checked=result.events_checked,
            last_seq=result.last_seq,
            last_hash=result.last_hash,
            head=ChainHeadOut(seq=result.head.seq, hash=result.head.hash) if result.head else None,
            first_broken=BrokenEventOut(seq=broken.seq, problem=broken.problem, detail=broken.detail)
            if broken
            else None,
            duration_ms=round(duration_ms, 3),
        )
