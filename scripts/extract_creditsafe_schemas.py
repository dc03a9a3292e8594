"""Extract the Creditsafe Connect schemas creditgate's adapter relies on into a committed test fixture.

The vendor publishes its OpenAPI document (37k lines of YAML, in the public repository creditsafe/connect-docs,
file `cs_connectv1-15.json`). The tests validate the fake Connect's answers against the few response schemas the
adapter reads, and every schema those reach through `$ref`; this script writes exactly those, so the suite needs
nothing outside the repository.

    python scripts/extract_creditsafe_schemas.py path/to/creditsafe-connect-openapi-1.10.4.yaml
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

# The responses the adapter reads: authenticate, company search (found and empty), the report, a bad token.
ROOTS = (
    "Connect.Authentication.AuthResponse",
    "Creditsafe.GlobalData.SearchResponse_1_Creditsafe.GlobalData.Company",
    "Connect.CompanySearch.NoResults",
    "Creditsafe.GlobalData.Reports.CompanyReportResponse",
    "Connect.ErrorResponses.InvalidToken",
)
SOURCE = "https://github.com/creditsafe/connect-docs (cs_connectv1-15.json, YAML despite its name)"
OUTPUT = Path(__file__).resolve().parent.parent / "tests" / "providers" / "fixtures" / "creditsafe_connect_schemas.json"
PREFIX = "#/components/schemas/"


def extract(document: dict[str, Any]) -> dict[str, Any]:
    """The fixture: where it came from, and the root schemas with everything they reference."""
    schemas: dict[str, Any] = document["components"]["schemas"]
    wanted: dict[str, Any] = {}
    pending = list(ROOTS)
    while pending:
        name = pending.pop()
        if name in wanted:
            continue
        wanted[name] = schemas[name]
        pending.extend(_references(schemas[name]))
    return {
        "source": SOURCE,
        "title": document["info"]["title"],
        "version": document["info"]["version"],
        "extracted_by": "scripts/extract_creditsafe_schemas.py",
        "roots": list(ROOTS),
        "schemas": dict(sorted(wanted.items())),
    }


def _references(node: Any) -> list[str]:
    if isinstance(node, list):
        return [name for item in node for name in _references(item)]
    if not isinstance(node, dict):
        return []
    found = []
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            if not value.startswith(PREFIX):
                raise ValueError(f"only local schema references are supported, not {value}")
            found.append(value.removeprefix(PREFIX))
        else:
            found.extend(_references(value))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("document", type=Path, help="Creditsafe Connect's OpenAPI document (YAML)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"where to write (default {OUTPUT.name})")
    args = parser.parse_args(argv)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader reads the 37k-line document fast
    document = yaml.load(args.document.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    fixture = extract(document)
    args.output.write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(fixture['schemas'])} schemas of {fixture['title']} {fixture['version']} -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
