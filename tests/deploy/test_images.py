"""`make images` on this machine: the five images built with buildah from a local Debian base and
smoke-tested with podman (deploy/docker/images.py), and the script that installs what it needs.

The build is the slow part (about 3 minutes with the base and pip's download cache warm; the base is
cached under var/images/ and buildah reuses layers), so it runs once per module.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "deploy" / "docker" / "images.py"
ENSURE = REPO / "deploy" / "local" / "ensure-image-tools.sh"
SERVICES = ("concerns", "referrals", "notifications", "surveys", "web")
MIGRATED = ("concerns", "referrals", "notifications", "surveys")

# deploy/docker is not a package (the tool runs as a script): load it under a name of its own.
_spec = importlib.util.spec_from_file_location("beat_images_tool", IMAGES)
assert _spec and _spec.loader
images = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = images  # dataclasses look their module up by name
_spec.loader.exec_module(images)


def ensure_tools(environment: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENSURE)], env={**os.environ, **(environment or {})}, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    installed = ensure_tools()
    assert installed.returncode == 0, installed.stderr
    out = tmp_path_factory.mktemp("images")
    done = subprocess.run(
        [sys.executable, str(IMAGES), "--out", str(out), "--prefix", "localhost/beat-test-", "--tag", "ci"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert (out / "report.json").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    found = json.loads((out / "report.json").read_text())
    found["exit"], found["output"] = done.returncode, done.stdout + done.stderr
    return found


@pytest.fixture(scope="module")
def smoked(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {image["service"]: image for image in report["images"]}


def test_make_images_builds_all_five_from_the_local_base_and_passes(report, smoked):
    assert report["exit"] == 0, report["output"][-3000:]
    assert report["base"].startswith("localhost/beat-base:python3.11-bookworm-")
    assert sorted(smoked) == sorted(SERVICES)
    assert {image["image"] for image in smoked.values()} == {f"localhost/beat-test-{s}:ci" for s in SERVICES}
    assert all(not image["problems"] for image in smoked.values()), [i["problems"] for i in smoked.values()]


@pytest.mark.parametrize("service", SERVICES)
def test_each_image_runs_beat_unprivileged_with_its_own_healthcheck(smoked, service):
    image = smoked[service]
    assert image["help_exit"] == 0 and image["help_lists_serve"]
    assert image["image_user"] == "10001:10001"
    # Docker format keeps HEALTHCHECK (OCI drops it); it calls the venv's python by full path.
    assert image["image_healthcheck"] == "CMD /opt/beat/bin/python /usr/local/lib/beat/healthcheck.py"


@pytest.mark.parametrize("service", SERVICES)
def test_each_image_migrates_and_serves_read_only_and_stops_cleanly_on_sigterm(smoked, service):
    image = smoked[service]
    if service in MIGRATED:
        assert image["migrate_exit"] == 0 and image["database_created"]
    assert not image["address"].startswith("127."), "the service must listen on a non-loopback address"
    assert image["healthz_status"] == 200
    assert image["healthcheck_exit"] == 0  # the image's check found the service on that address
    assert image["stop_exit_code"] == 0 and image["still_running_after_stop"] is False
    assert image["stop_seconds"] < 10


def test_a_failed_smoke_names_every_problem():
    seen = images.Smoke("concerns", "x", help_exit=2, image_user="0", migrate_exit=1, healthz_status=503)
    seen.healthcheck_exit, seen.stop_exit_code, seen.stop_seconds = 1, 137, images.STOP_SECONDS + 0.5
    found = " | ".join(images.problems(seen))
    for words in ("beat --help exited 2", "no HEALTHCHECK", "runs as 0", "beat migrate exited 1", "answered 503"):
        assert words in found
    assert "healthcheck run exited 1" in found and "exit code 137" in found and "killed?" in found


def test_the_base_is_keyed_by_this_machines_debian_mirror_lines():
    sources = images.mirror_sources()
    assert sources.startswith("deb ") and "bookworm" in sources
    assert all("/debian" in line for line in sources.splitlines())


def test_deb822_sources_give_one_line_per_uri_and_suite():
    stanza = "Types: deb\n# a comment: here\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n"
    assert images.deb822_pairs(stanza) == [
        ("http://mirror.example/debian", "bookworm"),
        ("http://mirror.example/debian", "bookworm-updates"),
    ]
    assert images.deb822_pairs(stanza.replace("Types: deb", "Types: deb-src")) == []


def test_the_tools_script_writes_containers_conf_when_there_is_none(tmp_path):
    conf = tmp_path / "containers.conf"
    done = ensure_tools({"CONTAINERS_CONF": str(conf)})
    assert done.returncode == 0, done.stderr
    text = conf.read_text()
    assert 'runtime = "runc"' in text and 'cgroup_manager = "cgroupfs"' in text
    assert "nofile=" in text and "nproc=" in text


def test_the_tools_script_leaves_a_machines_own_containers_conf_alone(tmp_path):
    conf = tmp_path / "containers.conf"
    own = '[engine]\nruntime = "crun"\n'
    conf.write_text(own)
    done = ensure_tools({"CONTAINERS_CONF": str(conf)})
    assert done.returncode == 0, done.stderr
    assert conf.read_text() == own
    assert "left alone" in done.stderr and 'runtime = "runc"' in done.stderr
