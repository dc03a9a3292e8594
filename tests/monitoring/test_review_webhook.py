"""A manual review tells the ERP: a signed decision.reviewed event with the reviewed terms."""

from __future__ import annotations

import json

from app.services import services_of
from tests.monitoring.conftest import Running
from tests.monitoring.receiver import Receiver
from tests.monitoring.test_monitoring import subscribe, verifies
from tests.test_reviews import decide, review


class TestDecisionReviewed:
    async def test_a_review_is_announced_to_subscribers(self, running: Running, receiver: Receiver) -> None:
        await receiver.start()
        subscription = await subscribe(running.client, receiver.url, ["decision.reviewed"])
        case = await decide(running.client, "1000.00", "00000000", "SO-CASE")  # company not found: review
        response = await review(running.client, case["id"], outcome="prepayment", approved_credit_amount="400.00")
        assert response.status_code == 201, response.text

        assert await services_of(running.app).dispatcher.dispatch_once() == 1
        (received,) = receiver.received
        assert verifies(subscription["secret"], received.headers, received.body)
        event = json.loads(received.body)
        assert event["type"] == "decision.reviewed"
        assert event["data"]["decision_id"] == case["id"]
        assert event["data"]["outcome"] == "prepayment"
