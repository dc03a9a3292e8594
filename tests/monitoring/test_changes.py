"""Change detection and webhook targets: pure rules, checked directly."""

from __future__ import annotations

import pytest

from app.monitoring.changes import CreditFacts, blocks, detect
from app.policy.schema import Monitoring
from app.webhooks.targets import TargetRefused, check_url

RULES = Monitoring(max_age_days=30, score_drop_threshold=10, block_on=["insolvency", "overdue"])


def kinds(old: CreditFacts, new: CreditFacts) -> list[str]:
    return [change.kind for change in detect(old, new, RULES)]


class TestDetect:
    def test_downgrade_and_upgrade(self) -> None:
        assert kinds(CreditFacts("A"), CreditFacts("C")) == ["rating_downgrade"]
        assert kinds(CreditFacts("C"), CreditFacts("A")) == ["rating_upgrade"]

    def test_score_drop_only_beyond_the_threshold(self) -> None:
        assert kinds(CreditFacts("B", 75), CreditFacts("B", 66)) == []
        assert kinds(CreditFacts("B", 75), CreditFacts("B", 65)) == ["score_drop"]

    def test_insolvency_is_a_downgrade_too_and_blocks(self) -> None:
        changes = detect(CreditFacts("B", status="active"), CreditFacts("insolvent", status="insolvent"), RULES)
        assert [change.kind for change in changes] == ["insolvency", "rating_downgrade"]
        assert [change.kind for change in blocks(changes, RULES)] == ["insolvency"]

    def test_days_beyond_terms_rising_and_overdue_crossing(self) -> None:
        old = CreditFacts("B", days_beyond_terms=2, overdue_beyond_tolerance=False)
        new = CreditFacts("B", days_beyond_terms=9, overdue_beyond_tolerance=True)
        assert kinds(old, new) == ["days_beyond_terms_rising", "overdue"]

    def test_unknown_values_are_no_change(self) -> None:
        assert kinds(CreditFacts(None, None), CreditFacts("E", 5, days_beyond_terms=40)) == []


class TestWebhookTargets:
    @pytest.mark.parametrize(
        "url",
        [
            "http://hooks.example.com/x",
            "https://127.0.0.1/x",
            "https://10.0.0.8/x",
            "https://169.254.169.254/latest",
            "https://[::1]/x",
            "https://localhost/x",
            "https://user:pw@hooks.example.com/x",
            "ftp://hooks.example.com/x",
        ],
    )
    def test_refused_in_production(self, url: str) -> None:
        with pytest.raises(TargetRefused):
            check_url(url, allow_private=False)

    def test_public_https_and_allowed_private(self) -> None:
        check_url("https://hooks.example.com/creditgate", allow_private=False)
        check_url("http://127.0.0.1:18711/hooks", allow_private=True)
