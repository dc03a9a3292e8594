"""deploy/ stays true to the app: alert rules name real metrics, settings exist, the proxy balances the replicas.

The files' syntax is checked by `make check-deploy` (the compose specification's schema and Kubernetes'
own schemas); these tests check what no schema knows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.observability.metrics import REGISTRY
from app.settings import Settings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
ALERTS = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yaml").read_text())
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
MANIFESTS = [
    document
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml"))
    for document in yaml.safe_load_all(path.read_text())
]
RULES = [rule for group in ALERTS["groups"] for rule in group["rules"]]
SETTINGS = {f"CREDITGATE_{name.upper()}" for name in Settings.model_fields}


def exposed_metric_names() -> set[str]:
    """Every series name /metrics can show, with the suffixes Prometheus' text format adds per type."""
    suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created")}
    return {family.name + suffix for family in REGISTRY.collect() for suffix in suffixes.get(family.type, ("",))}


def containers() -> list[dict[str, Any]]:
    found = []
    for document in MANIFESTS:
        spec = document.get("spec", {})
        pod = spec.get("template", {}).get("spec") or spec.get("jobTemplate", {}).get("spec", {}).get("template", {})
        pod = pod.get("spec", pod)
        found += pod.get("containers", [])
    return found


class TestAlertRules:
    def test_every_rule_is_complete_and_named_once(self) -> None:
        names = [rule["alert"] for rule in RULES]
        assert len(names) == len(set(names))
        for rule in RULES:
            assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
            assert rule["labels"]["severity"] in ("page", "warning")
            assert rule["annotations"]["summary"]
            assert re.fullmatch(r"\d+[smh]", rule["for"])

    def test_every_metric_named_is_one_the_app_exposes(self) -> None:
        exposed = exposed_metric_names()
        for rule in RULES:
            for name in re.findall(r"\b(creditgate_[a-z_]+)\b", rule["expr"]):
                assert name in exposed, (rule["alert"], name)

    @pytest.mark.parametrize(
        "metric",
        [
            "creditgate_http_requests_total",  # decision errors
            "creditgate_provider_breaker_state",
            "creditgate_webhook_oldest_due_seconds",
            "creditgate_audit_chain_intact",
        ],
    )
    def test_what_matters_is_watched(self, metric: str) -> None:
        assert any(metric in rule["expr"] for rule in RULES)


class TestCompose:
    def services_serving(self) -> dict[str, dict[str, Any]]:
        return {
            name: service
            for name, service in COMPOSE["services"].items()
            if service.get("command") == ["creditgate", "serve"]
        }

    def test_the_proxy_balances_every_api_replica_and_not_the_worker(self) -> None:
        nginx = (DEPLOY / "nginx.conf").read_text()
        upstream = set(re.findall(r"^\s*server ([a-z0-9-]+):8000\b", nginx, re.MULTILINE))
        serving = self.services_serving()
        dispatching = {
            name
            for name, service in serving.items()
            if service["environment"]["CREDITGATE_WEBHOOKS_DISPATCH_INTERVAL_SECONDS"] != "0"
        }
        assert dispatching == {"worker"}
        assert upstream == set(serving) - dispatching
        assert len(upstream) == 2

    def test_the_replicas_trust_the_proxy_s_address_alone(self) -> None:
        address = COMPOSE["services"]["proxy"]["networks"]["backend"]["ipv4_address"]
        for name, service in self.services_serving().items():
            assert service["environment"]["CREDITGATE_TRUSTED_PROXIES"] == address, name

    def test_replicas_start_after_the_migration(self) -> None:
        assert COMPOSE["services"]["migrate"]["command"] == ["creditgate", "migrate"]
        for name, service in self.services_serving().items():
            assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name

    def test_every_variable_set_is_a_setting(self) -> None:
        for name, service in COMPOSE["services"].items():
            variables = {key for key in service.get("environment", {}) if key.startswith("CREDITGATE_")}
            assert variables <= SETTINGS, (name, variables - SETTINGS)
        example = (DEPLOY / "example.env").read_text()
        assert set(re.findall(r"^(CREDITGATE_[A-Z_]+)=", example, re.MULTILINE)) - {"CREDITGATE_HTTP_PORT"} <= SETTINGS


class TestKubernetes:
    def test_every_variable_set_is_a_setting(self) -> None:
        config = next(document for document in MANIFESTS if document["kind"] == "ConfigMap")
        named = set(config["data"])
        for container in containers():
            named |= {variable["name"] for variable in container.get("env", [])}
        named = {name for name in named if name.startswith("CREDITGATE_")}
        assert named <= SETTINGS, named - SETTINGS

    def test_probes_ask_the_health_routes(self) -> None:
        from app.main import create_app

        routes = set(create_app().openapi()["paths"])
        for container in containers():
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if probe in container:
                    assert container[probe]["httpGet"]["path"] in routes

    def test_every_container_runs_unprivileged_from_the_image(self) -> None:
        for container in containers():
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["image"].rsplit(":", 1)[0].endswith("/creditgate")
