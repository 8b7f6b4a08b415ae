"""Helpers for the deployment tests: rendered overlays, parsed once per session."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
SERVICES = ("concerns", "referrals", "notifications", "surveys")
OVERLAYS = ("dev", "prod")


def kubectl() -> str:
    found = shutil.which("kubectl") or "/usr/bin/kubectl"
    assert Path(found).exists(), "kubectl is needed to render the overlays (it is on the machine image)"
    return found


def render(overlay: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [kubectl(), "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {overlay: render(overlay) for overlay in OVERLAYS}
