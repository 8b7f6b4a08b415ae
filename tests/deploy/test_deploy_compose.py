"""deploy/compose/compose.yaml parses and gives each service the variables Kubernetes gives it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from beat_shared.config import SETTINGS

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "deploy" / "compose"
SERVICES = ("concerns", "referrals", "notifications", "surveys")
DEPLOYED = (*SERVICES, "web")  # web: the pages, no database and no migration


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((COMPOSE / "compose.yaml").read_text())


def k8s_variables(objects: list[dict[str, Any]], kind: str, name: str) -> set[str]:
    """Names a container of the Deployment/Job gets: its env plus the ConfigMaps it loads."""
    configs = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    [obj] = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    [container] = obj["spec"]["template"]["spec"]["containers"]
    names = {entry["name"] for entry in container.get("env", [])}
    for source in container.get("envFrom", []):
        names |= set(configs[source["configMapRef"]["name"]]["data"])
    return names


@pytest.mark.parametrize("service", DEPLOYED)
def test_each_service_gets_the_same_variable_names_as_on_kubernetes(compose, rendered, service):
    for overlay in ("dev", "prod"):
        assert set(compose["services"][service]["environment"]) == k8s_variables(
            rendered[overlay], "Deployment", service
        ), overlay
        if service == "web":
            assert "web-migrate" not in compose["services"]
            continue
        assert set(compose["services"][f"{service}-migrate"]["environment"]) == k8s_variables(
            rendered[overlay], "Job", f"{service}-migrate"
        ), overlay


def test_the_shared_settings_block_equals_the_configmap(compose, rendered):
    [config] = [o for o in rendered["dev"] if o["kind"] == "ConfigMap"]
    anchor = compose["x-beat-config"]
    assert set(anchor) == set(config["data"])
    assert set(anchor) <= set(SETTINGS)
    for name, value in anchor.items():
        if "${" not in value:  # values the installer may change come from .env
            assert value == config["data"][name], name


def test_the_single_host_install_has_every_part(compose):
    services = compose["services"]
    assert "management" in services["rabbitmq"]["image"]
    assert services["postgres"]["image"].startswith("postgres:")
    for service in SERVICES:
        migrate = services[f"{service}-migrate"]
        assert migrate["command"] == ["beat", "migrate", service]
        assert migrate["restart"] == "no"  # one-shot
        assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
        server = services[service]
        assert server["depends_on"][f"{service}-migrate"]["condition"] == "service_completed_successfully"
        assert server["depends_on"]["rabbitmq-definitions"]["condition"] == "service_completed_successfully"
        assert server["user"] == "10001:10001" and server["read_only"] is True
        assert server["cap_drop"] == ["ALL"]
        assert int(server["stop_grace_period"].rstrip("s")) > 60
        assert [p.split(":")[0] for p in server["ports"]] == ["127.0.0.1"]


def test_the_web_pages_start_after_the_apis_hardened_like_them(compose):
    web = compose["services"]["web"]
    assert web["build"]["target"] == "web" and web["image"].startswith("beat/web:")
    for service in SERVICES:
        assert web["depends_on"][service]["condition"] == "service_started"
    assert web["user"] == "10001:10001" and web["read_only"] is True and web["cap_drop"] == ["ALL"]
    assert web["ports"] == ["127.0.0.1:8000:8000"]
    assert not any(name.endswith("_DATABASE_URL") for name in web["environment"])
    for service in SERVICES:  # the APIs by their compose names, not the host's loopback
        assert f"http://{service}:" in web["environment"][f"WEB_{service.upper()}_URL"]


def test_images_are_pinned_and_no_secret_is_written_in_the_file(compose):
    for name, service in compose["services"].items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), name
        if image.startswith(("rabbitmq:", "postgres:")):
            assert re.search(r":\d+\.\d+(\.\d+)?-", image), f"{name}: pin an exact version"
    text = (COMPOSE / "compose.yaml").read_text()
    # every credential comes from .env: in a URL the password part is always a ${...} reference
    for match in re.finditer(r"://([^:/\s\"]+):([^@\s\"]+)@", text):
        assert match.group(2).startswith("${"), match.group(0)
    for key in ("RABBITMQ_DEFAULT_PASS", "POSTGRES_PASSWORD", "BEAT_JWT_SECRET", "WEB_SESSION_SECRET"):
        for value in re.findall(rf"{key}: \"?([^\"\n]*)", text):
            assert value.startswith("${"), key


def test_the_database_init_script_is_valid_bash_and_makes_one_database_per_service():
    script = COMPOSE / "postgres-init" / "10-beat-databases.sh"
    assert subprocess.run(["bash", "-n", str(script)], timeout=10).returncode == 0
    text = script.read_text()
    assert "for service in concerns referrals notifications surveys" in text
    assert "CREATE DATABASE" in text and "CREATE ROLE" in text
    example = (COMPOSE / "env.example").read_text()
    for service in SERVICES:
        assert f"{service.upper()}_DB_PASSWORD=\n" in example  # names only, no values
