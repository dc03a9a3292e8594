"""The fake Connect's answers are shaped as Creditsafe's published OpenAPI document says.

The schemas come from fixtures/creditsafe_connect_schemas.json, extracted from the vendor's document (version
and source named inside) by scripts/extract_creditsafe_schemas.py."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema
import pytest

from tests.providers.fake_creditsafe import FIXTURES, fixture

SCHEMAS = FIXTURES / "creditsafe_connect_schemas.json"


@cache
def _components() -> dict[str, Any]:
    extract = json.loads(SCHEMAS.read_text(encoding="utf-8"))
    assert extract["version"] == "1.10.4"
    return _json_schema({"schemas": extract["schemas"]})


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` is JSON Schema's `null` type; `example`s are not schema."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key not in ("example", "examples")}
    if converted.pop("nullable", False):
        converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


def _validate(instance: Any, schema_name: str) -> None:
    schema = {"components": _components(), "allOf": [{"$ref": f"#/components/schemas/{schema_name}"}]}
    jsonschema.Draft7Validator(schema).validate(instance)


@pytest.mark.parametrize(
    ("name", "schema_name"),
    [
        ("authenticate", "Connect.Authentication.AuthResponse"),
        ("search_found", "Creditsafe.GlobalData.SearchResponse_1_Creditsafe.GlobalData.Company"),
        ("search_no_results", "Connect.CompanySearch.NoResults"),
        ("report_b", "Creditsafe.GlobalData.Reports.CompanyReportResponse"),
        ("report_insolvent", "Creditsafe.GlobalData.Reports.CompanyReportResponse"),
        ("invalid_token", "Connect.ErrorResponses.InvalidToken"),
    ],
)
def test_fixture_matches_the_documented_schema(name: str, schema_name: str) -> None:
    _validate(fixture(name), schema_name)


def test_the_schema_check_rejects_an_undocumented_rating() -> None:
    report = fixture("report_b")
    report["report"]["creditScore"]["currentCreditRating"]["commonValue"] = "AA"
    with pytest.raises(jsonschema.ValidationError):
        _validate(report, "Creditsafe.GlobalData.Reports.CompanyReportResponse")
