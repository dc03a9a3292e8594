"""The committed OpenAPI document is the one the app serves."""

from __future__ import annotations

import json
from pathlib import Path

from app.main import create_app

COMMITTED = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


class TestOpenAPIDocument:
    def test_committed_document_matches_the_app(self) -> None:
        served = json.loads(json.dumps(create_app().openapi(), sort_keys=True))
        committed = json.loads(COMMITTED.read_text())
        assert served == committed, "openapi/openapi.json is out of date: run `make openapi`"

    def test_declares_problem_responses_and_bearer_auth(self) -> None:
        document = create_app().openapi()
        post = document["paths"]["/v1/decisions"]["post"]
        for status in ("401", "403", "413", "415", "422"):
            assert "application/problem+json" in post["responses"][status]["content"]
        assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"

    def test_every_validation_error_is_documented_as_a_problem(self) -> None:
        document = create_app().openapi()
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                response = operation["responses"].get("422")
                if response is not None:
                    assert "application/problem+json" in response["content"], (method, path)
        assert "HTTPValidationError" not in document["components"]["schemas"]
