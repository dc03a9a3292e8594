"""Credit is never granted beyond the limit, whatever the sequence: a seeded random walk through the API.

Decisions (alone and several at once), order events, invoices, payments, blocks and reviews over a few
customers and a group, each checked against tests/credit_ledger.py. After every step: the stored
reservations and invoices are the ledger's, the credit files report its exposure, the review queue holds
its open cases, and per customer and per group the credit the policy granted that still counts stays
within the limit that allowed it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import key_id
from tests.conftest import ALL_KEY, auth, key_for, order_body
from tests.credit_ledger import Customer, Decided, Invoice, Ledger, cents
from tests.erp import manual_limit, put_customer

SEEDS = (11, 23, 47)
STEPS = 60
DECIDER = key_for("decide")
REVIEWERS = (key_for("review"), ALL_KEY)  # ALL_KEY also asks for some decisions: it never reviews those
KEY_IDS = {key: key_id(key) for key in (DECIDER, *REVIEWERS)}  # as decisions and reviews record them
CUSTOMERS = (
    Customer("C-1", "12345670", 300_000),
    Customer("C-2", "12345672", 200_000),
    Customer("C-3", "12345671", 800_000),  # above the first-order cap
    Customer("C-NF", "00000000", 200_000),  # company not found: its larger orders go to review
    Customer("G-R", "12345670", 300_000, group_limit=400_000),
    Customer("G-1", "12345673", 300_000, parent_id="G-R"),
    Customer("G-2", "12345674", 300_000, parent_id="G-R"),
)
AMOUNTS = ("50.00", "120.00", "240.00", "300.00", "800.00", "1500.00", "2500.00", "4000.00")


def _money(cents_: int) -> str:
    return str(Decimal(cents_) / 100)


@dataclass(frozen=True, slots=True)
class _Expected:
    """What the ledger expects of one decision, as it stood before the decision was asked for."""

    refusal: str | None
    exposure: int  # the customer's, leaving the order itself out
    limit: int  # the manual limit, or the first-order cap below it
    root: Customer | None
    group_exposure: int | None

    @classmethod
    def of(cls, ledger: Ledger, customer_id: str, order_id: str) -> _Expected:
        root = ledger.root(customer_id)
        return cls(
            ledger.decision_refusal(customer_id, order_id),
            ledger.exposure(customer_id, order_id),
            ledger.limit(customer_id, order_id),
            root,
            ledger.group_exposure(root.id, order_id) if root is not None else None,
        )

    def check(self, customer: Customer, decision: dict[str, Any], amount: int) -> int:
        """The decision reports the exposure the stored rows make (the ledger equals them: checked after
        every step) and grants no more than the limit, and the group's, leave of it. Answers the credit."""
        approved = cents(decision["approved_credit_amount"])
        codes = {reason["code"] for reason in decision["reasons"]}
        assert cents(decision["exposure"]) == self.exposure, (decision, self.exposure)
        assert approved <= cents(decision["available_credit"])
        if decision["outcome"] in ("accept", "prepayment"):
            assert approved + cents(decision["prepayment_amount"]) == amount
        if "MANUAL_LIMIT" in codes:
            assert cents(decision["credit_limit"]) == self.limit, decision
            assert ("FIRST_ORDER_CAP" in codes) == (self.limit < customer.manual_limit)
        if approved > 0:
            assert self.exposure + approved <= cents(decision["credit_limit"]) <= customer.manual_limit
            if self.root is not None:
                assert self.group_exposure is not None
                assert self.group_exposure + approved <= (self.root.group_limit or 0)
        return approved


class Walk:
    def __init__(self, client: httpx.AsyncClient, engine: AsyncEngine, seed: int) -> None:
        self.client, self.engine, self.random = client, engine, random.Random(seed)
        self.ledger = Ledger({c.id: c for c in CUSTOMERS})
        self.serial = 0
        self.answers: Counter[str] = Counter()  # what the service answered, by step: the walk's coverage
        self.touched: set[str] = set()  # customers whose credit file the step may have changed

    def _next(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial}"

    async def setup(self) -> None:
        for c in CUSTOMERS:
            await self._put_customer(c, blocked=False)

    async def _put_customer(self, c: Customer, *, blocked: bool) -> None:
        fields: dict[str, Any] = {"registration_number": c.registration_number, **manual_limit(_money(c.manual_limit))}
        if c.parent_id:
            fields["parent_id"] = c.parent_id
        if c.group_limit is not None:
            fields["group_limit"] = _money(c.group_limit)
        if blocked:
            fields["credit_block"] = {"reason": "disputed invoices"}
        await put_customer(self.client, c.id, **fields)

    # Steps.
    def _order_for(self, customer_id: str) -> str:
        known = list(self.ledger.latest)
        roll = self.random.random()
        if known and roll < 0.15:
            return self.random.choice(known)  # any customer's order: another customer's is refused
        own = [o for o in known if self.ledger.owner(o) == customer_id]
        if own and roll < 0.4:
            return self.random.choice(own)
        return self._next("SO")

    def _amount(self, customer_id: str) -> str:
        if customer_id in ("C-1", "C-3") and self.random.random() < 0.05:
            return "60000.00"  # above review_above and the four-eyes amount
        return self.random.choice(AMOUNTS)

    async def decide(self) -> None:
        customer_id = self.random.choice(list(self.ledger.customers))
        key = ALL_KEY if self.random.random() < 0.2 else DECIDER
        await self._decide([(customer_id, self._order_for(customer_id), self._amount(customer_id), key)])

    async def decide_together(self) -> None:
        """Decisions of different groups on new orders, at once: they share a transaction, yet none affects
        another's exposure, so the ledger may take them in any order."""
        groups = {"C-1": ["C-1"], "C-2": ["C-2"], "C-3": ["C-3"], "C-NF": ["C-NF"], "G": ["G-R", "G-1", "G-2"]}
        chosen = self.random.sample(list(groups), self.random.randint(2, 4))
        await self._decide(
            [
                (customer_id, self._next("SO"), self._amount(customer_id), DECIDER)
                for customer_id in (self.random.choice(groups[g]) for g in chosen)
            ]
        )

    async def _decide(self, orders: list[tuple[str, str, str, str]]) -> None:
        """(customer, order, amount, key) each: what the ledger expects is taken before any is sent."""
        ledger = self.ledger
        expected = [_Expected.of(ledger, customer_id, order_id) for customer_id, order_id, _, _ in orders]
        responses = await asyncio.gather(
            *(
                self.client.post(
                    "/v1/decisions",
                    json=order_body(amount, ledger.customers[c].registration_number, order_id=o, customer_id=c),
                    headers=auth(key),
                )
                for c, o, amount, key in orders
            )
        )
        for (c, o, amount, key), before, response in zip(orders, expected, responses, strict=True):
            self.answers[f"decision {response.status_code} {before.refusal or response.json()['outcome']}"] += 1
            if before.refusal is not None:
                assert response.status_code == 409, response.text
                assert response.json()["code"] == before.refusal
                continue
            assert response.status_code == 201, response.text
            decision = response.json()
            approved = before.check(ledger.customers[c], decision, cents(amount))
            ledger.decided(Decided(decision["id"], o, c, decision["outcome"], cents(amount), KEY_IDS[key]), approved)
            self.touched.add(c)

    async def order_event(self) -> None:
        reserved = list(self.ledger.reservations)
        if not reserved:
            return
        # Mostly orders with credit reserved; now and then one without, which the service does not know.
        order_id = self.random.choice(reserved if self.random.random() < 0.85 else list(self.ledger.latest))
        self.touched.add(self.ledger.reservations[order_id].customer_id if order_id in reserved else "C-1")
        kind = self.random.choice(["shipped", "shipped", "invoiced", "cancelled"])
        body: dict[str, Any] = {"type": kind}
        if kind == "invoiced":
            body["invoice_id"] = f"INV-{order_id}"
        expected = self.ledger.event_outcome(order_id, kind)
        response = await self.client.post(f"/v1/orders/{order_id}/events", json=body, headers=auth())
        self.answers[f"{kind} {response.status_code}"] += 1
        assert response.status_code == expected, (kind, response.text)

    async def invoice(self) -> None:
        customer_id = self.random.choice(list(self.ledger.customers))
        invoice_id, amount = self._next("INV-ERP"), self.random.choice(AMOUNTS)
        body = {
            "currency": "EUR",
            "amount": amount,
            "open_amount": amount,
            "issue_date": str(date.today()),
            "due_date": str(date.fromordinal(date.today().toordinal() + 30)),
        }
        response = await self.client.put(
            f"/v1/customers/{customer_id}/invoices/{invoice_id}", json=body, headers=auth()
        )
        assert response.status_code in (200, 201), response.text
        self.ledger.invoices[(customer_id, invoice_id)] = Invoice(customer_id, cents(amount), None)
        self.touched.add(customer_id)

    async def payment(self) -> None:
        open_ = [(key, i) for key, i in self.ledger.invoices.items() if i.open_amount > 0]
        if not open_:
            return
        (customer_id, invoice_id), invoice = self.random.choice(open_)
        amount = self.random.randint(1, invoice.open_amount)
        body = {"id": self._next("PAY"), "amount": _money(amount), "paid_on": str(date.today())}
        path = f"/v1/customers/{customer_id}/invoices/{invoice_id}/payments"
        response = await self.client.post(path, json=body, headers=auth())
        assert response.status_code in (200, 201), response.text
        invoice.open_amount -= amount
        self.touched.add(customer_id)

    async def block(self) -> None:
        customer = self.ledger.customers["C-2"]
        blocked = "C-2" not in self.ledger.blocked
        await self._put_customer(customer, blocked=blocked)
        (self.ledger.blocked.add if blocked else self.ledger.blocked.discard)("C-2")

    async def review(self) -> None:
        decided = list(self.ledger.decisions.values())
        cases = [d for d in decided if d.outcome == "review" and not d.settled]
        if not decided:
            return
        target = self.random.choice(cases) if cases and self.random.random() < 0.8 else self.random.choice(decided)
        reviewer = self.random.choice(REVIEWERS)
        outcome = self.random.choice(["accept", "prepayment", "reject"])
        body: dict[str, Any] = {"outcome": outcome, "reason": "Trade references checked"}
        approved = {"accept": target.amount, "reject": 0}.get(outcome, target.amount // 2)
        if outcome == "prepayment":
            body["approved_credit_amount"] = _money(approved)
        refusal = self.ledger.review_refusal(target, KEY_IDS[reviewer])
        response = await self.client.post(f"/v1/decisions/{target.id}/review", json=body, headers=auth(reviewer))
        self.answers[f"review {response.status_code} {refusal[1] if refusal else outcome}"] += 1
        if refusal is not None:
            assert (response.status_code, response.json()["code"]) == refusal, response.text
            return
        assert response.status_code == 201, response.text
        target.reviewers.append(KEY_IDS[reviewer])
        if response.json()["final"]:
            target.settled = True
            self.ledger.reserve(target.order_id, target.customer_id, approved, "review")
            self.touched.add(target.customer_id)

    # The invariants.
    async def check(self) -> None:
        ledger = self.ledger
        async with self.engine.connect() as connection:
            reservations = {
                row.order_id: (row.customer_id, row.status, row.amount_minor)
                for row in await connection.execute(
                    text("SELECT order_id, customer_id, status, amount_minor FROM reservations")
                )
            }
            invoices = {
                (row.customer_id, row.invoice_id): row.open_amount_minor
                for row in await connection.execute(
                    text("SELECT customer_id, invoice_id, open_amount_minor FROM invoices")
                )
            }
        assert reservations == {o: (r.customer_id, r.status, r.amount) for o, r in ledger.reservations.items()}
        assert invoices == {key: i.open_amount for key, i in ledger.invoices.items()}
        for customer in ledger.customers.values():
            assert ledger.policy_credit(customer.id) <= customer.manual_limit, customer.id
        group = ledger.customers["G-R"]
        assert sum(ledger.policy_credit(m) for m in ledger.members("G-R")) <= (group.group_limit or 0)

    async def check_review_queue(self) -> None:
        """The queue holds exactly the latest decision of each order the policy sent to review, unsettled."""
        response = await self.client.get("/v1/reviews", params={"limit": 200}, headers=auth(REVIEWERS[0]))
        assert response.status_code == 200, response.text
        waiting = {case["decision"]["id"] for case in response.json()["items"]}
        ledger = self.ledger
        assert waiting == {
            d.id
            for d in ledger.decisions.values()
            if d.outcome == "review" and not d.settled and ledger.latest[d.order_id] == d.id
        }

    async def check_credit_files(self, customer_ids: set[str]) -> None:
        ledger = self.ledger
        for customer_id in sorted(customer_ids):
            response = await self.client.get(f"/v1/customers/{customer_id}/credit-file", headers=auth())
            assert response.status_code == 200, response.text
            credit_file = response.json()
            assert cents(credit_file["exposure"]["reserved"]) == ledger.reserved(customer_id)
            assert cents(credit_file["exposure"]["open_receivables"]) == ledger.receivables(customer_id)
            if (root := ledger.root(customer_id)) is not None:
                assert cents(credit_file["group"]["exposure"]) == ledger.group_exposure(root.id)


class TestCreditStaysWithinTheLimit:
    @pytest.mark.parametrize("seed", SEEDS)
    async def test_after_every_step_of_a_random_walk(
        self, client: httpx.AsyncClient, engine: AsyncEngine, seed: int
    ) -> None:
        walk = Walk(client, engine, seed)
        await walk.setup()
        steps = {
            walk.decide: 8,
            walk.decide_together: 2,
            walk.order_event: 4,
            walk.invoice: 1,
            walk.payment: 2,
            walk.block: 1,
            walk.review: 3,
        }
        started = time.perf_counter()
        taken: Counter[str] = Counter()
        for _ in range(STEPS):
            (step,) = walk.random.choices(list(steps), weights=list(steps.values()))
            await step()
            taken[step.__name__] += 1
            await walk.check()
            await walk.check_review_queue()
            await walk.check_credit_files(walk.touched)
            walk.touched.clear()
        await walk.check_credit_files(set(walk.ledger.customers))
        print(f"seed {seed}: {STEPS} steps in {time.perf_counter() - started:.1f} s {dict(taken)}")
        print("  answers:", dict(sorted(walk.answers.items())))
