"""deploy/docker/Dockerfile follows the image rules, read here; tests/deploy/test_images.py builds and runs it."""

from __future__ import annotations

import http.server
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "deploy" / "docker"
SERVICES = {"concerns": 8001, "referrals": 8002, "notifications": 8003, "surveys": 8004, "web": 8000}
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|cc|make|build-essential|apt-get|apk|pip wheel|pip install)\b")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


class Stage:
    def __init__(self, base: str, name: str) -> None:
        self.base, self.name = base, name
        self.steps: list[tuple[str, str]] = []


def stages(text: str) -> tuple[dict[str, str], list[Stage]]:
    args: dict[str, str] = {}
    found: list[Stage] = []
    for keyword, rest in instructions(text):
        if keyword == "ARG" and not found and "=" in rest:
            name, _, value = rest.partition("=")
            args[name] = value
        elif keyword == "FROM":
            match = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.IGNORECASE)
            assert match, rest
            found.append(Stage(match.group(1), match.group(2) or ""))
        elif found:
            found[-1].steps.append((keyword, rest))
    return args, found


@pytest.fixture(scope="module")
def dockerfile() -> tuple[dict[str, str], dict[str, Stage]]:
    args, found = stages((DOCKER / "Dockerfile").read_text())
    return args, {stage.name: stage for stage in found}


def chain(stages_by_name: dict[str, Stage], name: str) -> list[Stage]:
    """The stage and the stages it is built FROM, nearest first."""
    result = []
    while name in stages_by_name:
        result.append(stages_by_name[name])
        name = stages_by_name[name].base
    return result


def external_bases(args: dict[str, str], stages_by_name: dict[str, Stage]) -> set[str]:
    bases = set()
    for stage in stages_by_name.values():
        if stage.base not in stages_by_name:
            bases.add(re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], stage.base))
    return bases


def test_the_base_image_is_an_exact_slim_python_311_and_never_latest(dockerfile):
    args, stages_by_name = dockerfile
    bases = external_bases(args, stages_by_name)
    assert bases, "no external base image"
    for image in bases:
        repository, _, tag = image.partition("@")[0].rpartition(":")
        assert repository == "python", image
        assert re.fullmatch(r"3\.11\.\d+-slim(-\w+)?", tag), f"{image}: pin an exact 3.11.x slim tag"
        assert "latest" not in image


def test_it_is_multi_stage_with_a_target_per_service(dockerfile):
    _, stages_by_name = dockerfile
    assert len(stages_by_name) >= 3
    assert set(SERVICES) <= set(stages_by_name)


@pytest.mark.parametrize("service", SERVICES)
def test_each_target_runs_its_service_unprivileged_with_a_healthcheck(dockerfile, service):
    _, stages_by_name = dockerfile
    lineage = chain(stages_by_name, service)
    steps = [step for stage in reversed(lineage) for step in stage.steps]
    users = [rest for keyword, rest in steps if keyword == "USER"]
    assert users, "no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0") and (not user.isdigit() or int(user) >= 1000), users[-1]
    assert any(keyword == "HEALTHCHECK" and "CMD" in rest for keyword, rest in steps)
    cmds = [rest for keyword, rest in steps if keyword == "CMD"]
    assert cmds[-1] == f'["beat", "serve", "{service}"]'
    assert f"EXPOSE {SERVICES[service]}" in {f"{k} {r}" for k, r in steps}


@pytest.mark.parametrize("service", SERVICES)
def test_the_final_image_has_no_build_tools_or_wheels(dockerfile, service):
    _, stages_by_name = dockerfile
    lineage = chain(stages_by_name, service)
    for stage in lineage:
        for keyword, rest in stage.steps:
            if keyword == "RUN":
                assert not BUILD_TOOLS.search(rest.replace("pip uninstall", "")), f"{stage.name}: RUN {rest}"
            if keyword in ("COPY", "ADD"):
                assert "wheels" not in rest, f"{stage.name}: {keyword} {rest}"
                source = re.search(r"--from=(\S+)", rest)
                if source:
                    assert source.group(1) == f"venv-{service}", rest
    builders = [s for s in stages_by_name.values() if "pip wheel" in " ".join(r for _, r in s.steps)]
    assert builders and all(b not in lineage for b in builders), "wheels are built in a builder stage"


def test_the_context_ignore_file_keeps_the_work_tree_out():
    lines = {line.strip() for line in (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()}
    assert "*" in lines  # everything out, then an allowlist
    allowed = {line[1:] for line in lines if line.startswith("!")}
    assert allowed == {"constraints.txt", "shared/", "services/", "deploy/docker/healthcheck.py"}
    assert {"**/tests", "**/__pycache__", "**/.env"} <= lines


class Healthz(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def run_healthcheck(environment: dict[str, str]) -> int:
    done = subprocess.run(
        [sys.executable, str(DOCKER / "healthcheck.py")], env=environment, capture_output=True, timeout=30
    )
    return done.returncode


def test_the_healthcheck_script_asks_the_service_port_for_healthz():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Healthz)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        environment = {"BEAT_SERVICE": "surveys", "SURVEYS_HTTP_ADDRESS": f"0.0.0.0:{port}"}
        assert run_healthcheck(environment) == 0
        Healthz.status = 503
        assert run_healthcheck(environment) == 1
    finally:
        Healthz.status = 200
        server.shutdown()
        server.server_close()
    assert run_healthcheck(environment) == 1  # nothing listens any more


def test_no_syntax_line_so_no_frontend_is_fetched_from_a_registry():
    assert not re.search(r"^#\s*syntax\s*=", (DOCKER / "Dockerfile").read_text(), re.MULTILINE | re.IGNORECASE)


def test_the_runtime_path_is_spelled_out_not_taken_from_the_base(dockerfile):
    _, stages_by_name = dockerfile
    envs = [rest for keyword, rest in stages_by_name["runtime"].steps if keyword == "ENV"]
    path = next(re.search(r"\bPATH=(\S+)", rest).group(1) for rest in envs if "PATH=" in rest)
    assert "$" not in path and path.startswith("/opt/beat/bin:") and "/usr/bin" in path
    healthcheck = next(rest for keyword, rest in stages_by_name["runtime"].steps if keyword == "HEALTHCHECK")
    assert '"/opt/beat/bin/python"' in healthcheck


def non_loopback_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # sends nothing; picks the outgoing interface's address
        return probe.getsockname()[0]


def test_the_healthcheck_calls_the_address_the_service_listens_on():
    """A service bound to one non-loopback address does not answer on 127.0.0.1."""
    host = non_loopback_address()
    server = http.server.ThreadingHTTPServer((host, 0), Healthz)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert run_healthcheck({"BEAT_SERVICE": "web", "WEB_HTTP_ADDRESS": f"{host}:{port}"}) == 0
    finally:
        server.shutdown()
        server.server_close()
