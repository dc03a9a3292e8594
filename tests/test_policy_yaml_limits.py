"""YAML policy documents too deep, too long or too many nodes once aliases expand are refused before loading."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from app.cli import cli
from app.policy.schema import MAX_POLICY_CHARS, MAX_POLICY_DEPTH, MAX_POLICY_NODES
from app.settings import DEFAULT_POLICY_FILE
from tests.conftest import auth, count_rows, key_for

YAML = {**auth(key_for("admin")), "Content-Type": "application/yaml"}


def alias_bomb(levels: int) -> str:
    """Ten aliases of the level below on each level: 10**levels values from a few hundred bytes."""
    lines = ["level0: &level0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels + 1):
        lines.append(f"level{level}: &level{level} [" + ", ".join([f"*level{level - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


HOSTILE = {
    "flow brackets": "[" * (MAX_POLICY_DEPTH + 68) + "]" * (MAX_POLICY_DEPTH + 68),
    "flow mappings": "{a: " * (MAX_POLICY_DEPTH + 1) + "x" + "}" * (MAX_POLICY_DEPTH + 1),
    "block sequences": "- " * (MAX_POLICY_DEPTH + 1) + "x\n",
    "indented mappings": "".join(" " * level + "a:\n" for level in range(MAX_POLICY_DEPTH + 1)) + " " * 40 + "x\n",
}


class TestHostileYaml:
    @pytest.mark.parametrize("name", list(HOSTILE))
    async def test_nesting_beyond_the_bound_is_a_422_naming_the_line(
        self, client: httpx.AsyncClient, engine: AsyncEngine, name: str
    ) -> None:
        response = await client.post("/v1/policies", content=HOSTILE[name].encode(), headers=YAML)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        [error] = response.json()["errors"]
        assert error["field"].startswith("line ")
        assert error["message"].endswith(f"nested deeper than {MAX_POLICY_DEPTH} levels")
        assert await count_rows(engine, "policy_versions") == 1  # the bootstrapped default only

    async def test_aliases_expanding_past_the_bound_are_refused(self, client: httpx.AsyncClient) -> None:
        text = DEFAULT_POLICY_FILE.read_text() + alias_bomb(6)
        response = await client.post("/v1/policies", content=text.encode(), headers=YAML)
        assert response.status_code == 422, response.text
        assert f"more than {MAX_POLICY_NODES} values" in response.json()["errors"][0]["message"]

    async def test_an_alias_inside_its_own_anchor_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/policies", content=b"version: &v [a, *v]\n", headers=YAML)
        assert response.status_code == 422, response.text
        assert "refers to a node that contains it" in response.json()["errors"][0]["message"]

    async def test_a_policy_that_shares_a_cell_through_an_anchor_is_still_accepted(
        self, client: httpx.AsyncClient
    ) -> None:
        text = DEFAULT_POLICY_FILE.read_text().replace("version: default-2026.11", "version: with-anchor")
        cell = '{limit: {rule: share_of_recommended, share: "0.00"}, cap: "0.00",      payment_terms_days: 0, '
        text = text.replace(f"    key_account: {cell}", f"    key_account: &no_credit {cell}", 1)
        text = text.replace(f'    regular:     {cell} review_above: "5000.00"}}', "    regular:     *no_credit")
        assert "*no_credit" in text
        response = await client.post("/v1/policies", content=text.encode(), headers=YAML)
        assert response.status_code == 201, response.text


class TestPolicyFileLimits:
    def test_validate_refuses_a_deep_file_naming_the_line(self, tmp_path: Path) -> None:
        path = tmp_path / "deep.yaml"
        path.write_text("[" * 100 + "]" * 100)
        result = CliRunner().invoke(cli, ["policy", "validate", str(path)])
        assert result.exit_code == 1
        assert f"{path}:1" in result.output
        assert f"nested deeper than {MAX_POLICY_DEPTH} levels" in result.output

    def test_validate_refuses_a_file_longer_than_the_bound_without_parsing_it(self, tmp_path: Path) -> None:
        path = tmp_path / "long.yaml"
        path.write_text("# " + "x" * MAX_POLICY_CHARS + "\n" + DEFAULT_POLICY_FILE.read_text())
        result = CliRunner().invoke(cli, ["policy", "validate", str(path)])
        assert result.exit_code == 1
        assert f"longer than {MAX_POLICY_CHARS} characters" in result.output
