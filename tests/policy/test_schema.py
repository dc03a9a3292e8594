"""The policy document's validation: the default passes, errors name the field and the line."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from app.policy.schema import PolicyDocumentError, load_policy_file, load_policy_text, parse_policy
from app.settings import DEFAULT_POLICY_FILE

DEFAULT_TEXT = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")


def default_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DEFAULT_TEXT)
    return copy.deepcopy(document)


def fields_of(document: dict[str, Any]) -> list[str]:
    with pytest.raises(PolicyDocumentError) as raised:
        parse_policy(document)
    return [error["field"] for error in raised.value.errors]


class TestDefaultPolicy:
    def test_the_shipped_policy_passes_its_own_validation(self) -> None:
        policy = load_policy_file(DEFAULT_POLICY_FILE)
        assert policy.version == "default-2026.11"
        assert policy.segments == ["key_account", "regular", "new"]

    def test_the_shipped_policy_survives_a_json_round_trip(self) -> None:
        policy = load_policy_file(DEFAULT_POLICY_FILE)
        assert parse_policy(policy.model_dump(mode="json")) == policy


class TestErrorsNameTheField:
    def test_a_share_above_one_names_its_cell(self) -> None:
        document = default_document()
        document["grid"]["B"]["new"]["limit"]["share"] = "1.5"
        assert fields_of(document) == ["grid.B.new.limit.share"]

    def test_an_unknown_field_is_named(self) -> None:
        document = default_document()
        document["stop"]["grace"] = 3
        assert fields_of(document) == ["stop.grace"]

    def test_a_worse_class_with_a_higher_cap_names_the_cap(self) -> None:
        document = default_document()
        document["grid"]["D"]["regular"]["cap"] = "90000.00"
        assert fields_of(document) == ["grid.D.regular.cap"]

    def test_a_worse_class_without_a_review_threshold_is_refused(self) -> None:
        document = default_document()
        document["grid"]["C"]["key_account"]["review_above"] = None
        assert fields_of(document) == ["grid.C.key_account.review_above"]

    def test_a_rule_without_its_parameter_names_the_parameter(self) -> None:
        document = default_document()
        document["grid"]["unknown"]["regular"]["limit"] = {"rule": "fixed"}
        assert fields_of(document) == ["grid.unknown.regular.limit.amount"]

    def test_full_prepayment_of_a_better_class_needs_the_worse_ones(self) -> None:
        document = default_document()
        document["prepayment"]["full_prepayment_classes"] = ["D"]
        assert fields_of(document) == ["prepayment.full_prepayment_classes"]

    def test_a_default_segment_outside_the_segments_is_named(self) -> None:
        document = default_document()
        document["default_segment"] = "vip"
        assert fields_of(document) == ["default_segment"]

    def test_a_missing_grid_row_is_named(self) -> None:
        document = default_document()
        del document["grid"]["C"]
        assert fields_of(document) == ["grid"]

    def test_the_version_id_active_is_reserved(self) -> None:
        document = default_document()
        document["version"] = "active"
        assert fields_of(document) == ["version"]

    def test_score_bands_must_descend(self) -> None:
        document = default_document()
        document["score_bands"]["C"] = 70
        assert fields_of(document) == ["score_bands.C"]


class TestYamlErrorsNameTheLine:
    def test_a_field_error_in_yaml_carries_the_line_of_the_field(self) -> None:
        text = DEFAULT_TEXT.replace("overdue_days_tolerance: 30", "overdue_days_tolerance: -1")
        line = next(n for n, content in enumerate(text.splitlines(), 1) if "overdue_days_tolerance" in content)
        with pytest.raises(PolicyDocumentError) as raised:
            load_policy_text(text)
        assert raised.value.errors[0]["field"] == "stop.overdue_days_tolerance"
        assert raised.value.errors[0]["line"] == line

    def test_a_yaml_syntax_error_names_the_line(self) -> None:
        with pytest.raises(PolicyDocumentError) as raised:
            load_policy_text("version: x\ngrid: {A: [\n")
        assert raised.value.errors[0]["line"] == 3
