"""What a careful ERP knows of its credit: each order's reservation, each invoice's open amount, who granted it.

The invariant test (tests/test_credit_invariants.py) keeps this ledger beside the service and checks after
every step that the service's stored rows and answers agree with it, and that no credit the policy granted
goes beyond what the limit allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

FIRST_ORDER_CAP = 500_000  # the default policy's new_customers.first_order_cap, in cents
FOUR_EYES_ABOVE = 2_500_000  # the default policy's review.four_eyes_above, in cents
COUNTED = ("active", "shipped")


def cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    registration_number: str
    manual_limit: int  # cents
    parent_id: str | None = None
    group_limit: int | None = None  # on a group's root


@dataclass(slots=True)
class Reservation:
    customer_id: str
    status: str  # active | shipped | invoiced | cancelled | released
    amount: int
    granted_by: str  # "policy" (a decision) or "review" (a credit manager's authority)
    invoice_id: str | None = None


@dataclass(slots=True)
class Invoice:
    customer_id: str
    open_amount: int
    granted_by: str | None  # an order's credit become a receivable; None for an invoice the ERP pushed


@dataclass(slots=True)
class Decided:
    id: str
    order_id: str
    customer_id: str
    outcome: str
    amount: int
    requester: str
    reviewers: list[str] = field(default_factory=list)
    settled: bool = False


@dataclass(slots=True)
class Ledger:
    customers: dict[str, Customer]
    reservations: dict[str, Reservation] = field(default_factory=dict)
    invoices: dict[tuple[str, str], Invoice] = field(default_factory=dict)
    decisions: dict[str, Decided] = field(default_factory=dict)
    latest: dict[str, str] = field(default_factory=dict)  # order id → its latest decision's id
    credited: set[tuple[str, str]] = field(default_factory=set)  # (customer, order) ever decided with credit
    blocked: set[str] = field(default_factory=set)

    # What the service must answer.
    def owner(self, order_id: str) -> str | None:
        latest = self.latest.get(order_id)
        return self.decisions[latest].customer_id if latest is not None else None

    def decision_refusal(self, customer_id: str, order_id: str) -> str | None:
        owner = self.owner(order_id)
        if owner is not None and owner != customer_id:
            return "order_of_another_customer"
        reservation = self.reservations.get(order_id)
        if reservation is not None and reservation.status in ("shipped", "invoiced"):
            return f"order_already_{reservation.status}"
        return None

    def first_order(self, customer_id: str, order_id: str) -> bool:
        return not any(c == customer_id and o != order_id for c, o in self.credited)

    def limit(self, customer_id: str, order_id: str) -> int:
        manual = self.customers[customer_id].manual_limit
        return min(manual, FIRST_ORDER_CAP) if self.first_order(customer_id, order_id) else manual

    # Exposure as the ledger has it.
    def reserved(self, customer_id: str, excluding: str | None = None) -> int:
        return sum(
            r.amount
            for order_id, r in self.reservations.items()
            if r.customer_id == customer_id and r.status in COUNTED and order_id != excluding
        )

    def receivables(self, customer_id: str) -> int:
        return sum(i.open_amount for i in self.invoices.values() if i.customer_id == customer_id)

    def exposure(self, customer_id: str, excluding: str | None = None) -> int:
        return self.reserved(customer_id, excluding) + self.receivables(customer_id)

    def root(self, customer_id: str) -> Customer | None:
        customer = self.customers[customer_id]
        root = self.customers[customer.parent_id] if customer.parent_id else customer
        return root if root.group_limit is not None else None

    def members(self, root_id: str) -> list[str]:
        return [c.id for c in self.customers.values() if root_id in (c.id, c.parent_id)]

    def group_exposure(self, root_id: str, excluding: str | None = None) -> int:
        return sum(self.exposure(member, excluding) for member in self.members(root_id))

    def policy_credit(self, customer_id: str) -> int:
        """Credit counted that a decision (not a credit manager) granted: reserved, or still open invoiced."""
        reserved = sum(
            r.amount
            for r in self.reservations.values()
            if r.customer_id == customer_id and r.status in COUNTED and r.granted_by == "policy"
        )
        invoiced = sum(
            i.open_amount for i in self.invoices.values() if i.customer_id == customer_id and i.granted_by == "policy"
        )
        return reserved + invoiced

    # The ledger moves as the service answered.
    def decided(self, decided: Decided, approved: int) -> None:
        self.decisions[decided.id] = decided
        self.latest[decided.order_id] = decided.id
        self.reserve(decided.order_id, decided.customer_id, approved, "policy")
        if approved > 0:
            self.credited.add((decided.customer_id, decided.order_id))

    def reserve(self, order_id: str, customer_id: str, approved: int, granted_by: str) -> None:
        if approved > 0 or order_id in self.reservations:
            status = "active" if approved > 0 else "released"
            self.reservations[order_id] = Reservation(customer_id, status, approved, granted_by)

    def event_outcome(self, order_id: str, kind: str) -> int:
        """The status the service answers an order event with; the ledger follows a 200."""
        reservation = self.reservations.get(order_id)
        if reservation is None:
            return 404
        status = reservation.status
        if kind == "shipped":
            if status not in ("active", "shipped"):
                return 409
            reservation.status = "shipped"
        elif kind == "cancelled":
            if status == "invoiced":
                return 409
            reservation.status = "cancelled"
        elif status == "invoiced":
            return 200 if reservation.invoice_id == f"INV-{order_id}" else 409
        elif status not in ("active", "shipped"):
            return 409
        else:
            reservation.status, reservation.invoice_id = "invoiced", f"INV-{order_id}"
            self.invoices[(reservation.customer_id, f"INV-{order_id}")] = Invoice(
                reservation.customer_id, reservation.amount, reservation.granted_by
            )
        return 200

    def review_refusal(self, decided: Decided, reviewer: str) -> tuple[int, str] | None:
        if decided.outcome != "review":
            return 409, "not_under_review"
        if reviewer == decided.requester:
            return 403, "reviewer_requested_decision"
        if decided.settled:
            return 409, "not_under_review"
        if self.latest[decided.order_id] != decided.id:
            return 409, "decision_superseded"
        if decided.reviewers and decided.reviewers[0] == reviewer:
            return 409, "four_eyes_required_other_reviewer"
        reservation = self.reservations.get(decided.order_id)
        final = bool(decided.reviewers) or decided.amount <= FOUR_EYES_ABOVE
        if final and reservation is not None and reservation.status not in ("active", "released"):
            return 409, "conflict"
        return None
