"""`make images`: build Beat's five images without a Docker daemon, then smoke-test each with podman.

    python deploy/docker/images.py                 # local base (mmdebstrap), build, smoke
    python deploy/docker/images.py --base IMAGE    # a city's own Python 3.11 base from its registry
    python deploy/docker/images.py --only web --no-smoke

Base: unless --base names one, a Debian bookworm image with Python 3.11 made by mmdebstrap from this
machine's own Debian mirror lines and imported with `podman import`. Its tarball is cached in
var/images/ under a key of its inputs (the mirror lines and this recipe), so it is made once.

Build: `buildah bud --format docker` (the OCI format drops HEALTHCHECK) with the base as the
Dockerfile's PYTHON_IMAGE build argument, host networking, and the host's pip.conf and CA bundle
bind-mounted into RUN steps (PyPI is reached through the machine's configured index; nothing of
them lands in an image). Layers are reused between runs.

Smoke, per image: `beat --help`; `beat migrate` and `beat serve` with a read-only root filesystem and
SQLite in a mounted volume; /healthz answers 200 on a non-loopback address; the image's own
HEALTHCHECK (`podman healthcheck run`) passes; SIGTERM stops it with exit 0 within seconds.
What it saw is printed and written to var/images/report.json (--out: another folder for it, the
context copy and the smoke data); the exit status is 1 if anything failed.
Standard library only: it runs before the project's virtual environment exists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"
WORK = REPO / "var" / "images"
SERVICES = {"concerns": 8001, "referrals": 8002, "notifications": 8003, "surveys": 8004, "web": 8000}
MIGRATED = ("concerns", "referrals", "notifications", "surveys")  # web keeps no database
PACKAGES = ("python3.11", "python3.11-venv", "ca-certificates", "netbase", "tzdata", "passwd")
# What the Dockerfile's context allowlist (Dockerfile.dockerignore) lets in.
CONTEXT = ("constraints.txt", "shared", "services", "deploy/docker/healthcheck.py")
PIP_CONF = Path("/etc/pip.conf")
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Debian disables ensurepip for its own Python and marks it externally managed; the Dockerfile runs
# `pip` and `python` like on the official image, so pip comes from Debian's bundled wheel.
BASE_HOOKS = (
    "rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED",
    "python3.11 $(ls /usr/share/python-wheels/pip-*.whl)/pip install --no-index --no-cache-dir"
    " --root-user-action=ignore --no-warn-script-location $(ls /usr/share/python-wheels/pip-*.whl)",
    "ln -sf /usr/bin/python3.11 /usr/local/bin/python && ln -sf /usr/bin/python3.11 /usr/local/bin/python3",
)
# No manuals, info pages, translations or docs in the base (as in the official slim images), but the
# packages' copyright files stay.
DPKG_OPTIONS = (
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
)
STOP_SECONDS = 20  # podman's grace period before SIGKILL; a clean stop takes a few seconds


def run(*command: str, timeout: float = 1800, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done


def mirror_sources() -> str:
    """This machine's Debian bookworm mirror lines (deb822 or one-line), for mmdebstrap."""
    lines = []
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        text = path.read_text() if path.is_file() else ""
        if path.suffix == ".sources":
            stanzas = [s for s in text.split("\n\n") if "bookworm" in s and "/debian" in s]
            lines += [f"deb {uri} {suite} main" for s in stanzas for uri, suite in deb822_pairs(s)]
        else:
            lines += [
                ln.strip() for ln in text.splitlines() if ln.startswith("deb ") and "/debian" in ln and "bookworm" in ln
            ]
    if not lines:
        raise SystemExit("no Debian bookworm mirror in /etc/apt/sources.list(.d); pass --base IMAGE instead")
    return "\n".join(dict.fromkeys(lines)) + "\n"


def deb822_pairs(stanza: str) -> list[tuple[str, str]]:
    fields = dict(
        (key.strip(), value.strip())
        for key, _, value in (ln.partition(":") for ln in stanza.splitlines() if ":" in ln and not ln.startswith("#"))
    )
    if "deb" not in fields.get("Types", "").split():
        return []
    return [(uri, suite) for uri in fields.get("URIs", "").split() for suite in fields.get("Suites", "").split()]


def local_base() -> str:
    """The mmdebstrap base as a podman image, made and imported only when its inputs changed."""
    sources = mirror_sources()
    recipe = json.dumps([sources, PACKAGES, BASE_HOOKS, PATH, DPKG_OPTIONS])
    key = hashlib.sha256(recipe.encode()).hexdigest()[:16]
    image = f"localhost/beat-base:python3.11-bookworm-{key}"
    if run("podman", "image", "exists", image, check=False).returncode == 0:
        return image
    tarball = WORK / f"base-{key}.tar"
    if not tarball.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        sources_file = WORK / f"base-{key}.list"
        sources_file.write_text(sources)
        hooks = [f'--customize-hook=chroot "$1" sh -ec {shell_quote(hook)}' for hook in BASE_HOOKS]
        partial = tarball.with_suffix(".partial.tar")
        print(f"base: mmdebstrap bookworm ({', '.join(PACKAGES)}) -> {tarball.name}", flush=True)
        dpkg = [f"--dpkgopt={option}" for option in DPKG_OPTIONS]
        run("mmdebstrap", "--quiet", "--variant=minbase", f"--include={','.join(PACKAGES)}", *dpkg, *hooks,
            "bookworm", str(partial), str(sources_file))  # fmt: skip
        partial.rename(tarball)
        for stale in WORK.glob("base-*"):  # earlier recipes' tarballs (about 200 MB each)
            if key not in stale.name:
                stale.unlink()
    print(f"base: podman import -> {image}", flush=True)
    run("podman", "import", "--change", f"ENV PATH={PATH}", "--change", 'CMD ["python3"]', str(tarball), image)
    return image


def shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def snapshot(out: Path) -> Path:
    """The build context, copied once: all five images are built from the same sources even while
    the work tree is being edited, so the shared wheels stage is built once, not per image.
    Times are kept (copy2, copystat), so an unchanged tree hits the layer cache on the next run."""
    context = out / "context"
    shutil.rmtree(context, ignore_errors=True)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "tests", ".pytest_cache", ".env", "*.db")
    for name in CONTEXT:
        source, target = REPO / name, context / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=skip)
        else:
            shutil.copy2(source, target)
    return context


def build(service: str, base: str, tag: str, context: Path) -> float:
    """One target of the Dockerfile, as a Docker-format image; returns the seconds it took."""
    mounts = [f"--volume={path}:{path}:ro" for path in (PIP_CONF, CA_BUNDLE) if path.exists()]
    started = time.monotonic()
    print(f"build: {service} -> {tag}", flush=True)
    run("buildah", "bud", "--format=docker", "--network=host", "--layers", f"--build-arg=PYTHON_IMAGE={base}",
        f"--ignorefile={DOCKERFILE}.dockerignore", f"--file={DOCKERFILE}", f"--target={service}",
        f"--tag={tag}", *mounts, str(context))  # fmt: skip
    return time.monotonic() - started


@dataclass
class Smoke:
    service: str
    image: str
    build_seconds: float = 0.0
    help_exit: int | None = None
    help_lists_serve: bool = False
    image_healthcheck: str = ""
    image_user: str = ""
    migrate_exit: int | None = None
    database_created: bool = False
    address: str = ""
    healthz_status: int | None = None
    healthcheck_exit: int | None = None
    stop_seconds: float | None = None
    stop_exit_code: int | None = None
    still_running_after_stop: bool | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def host_address() -> str:
    """A non-loopback address of this machine: the service listens there, so a health check that
    called 127.0.0.1 regardless would fail."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent; this only picks the outgoing interface
        return probe.getsockname()[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("", 0))
        return sock.getsockname()[1]


def management(method: str, path: str) -> None:
    api = urllib.parse.urlsplit(os.environ.get("RABBIT_API_URI", "http://guest:guest@127.0.0.1:15672"))
    request = urllib.request.Request(f"{api.scheme}://{api.hostname}:{api.port}{path}", method=method)
    request.add_header("Content-Type", "application/json")
    token = f"{api.username}:{api.password}".encode()
    request.add_header("Authorization", "Basic " + __import__("base64").b64encode(token).decode())
    with urllib.request.urlopen(request, data=b"{}" if method == "PUT" else None, timeout=10):
        pass


def healthz(url: str, deadline: float) -> int | None:
    status = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=3) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            pass
        time.sleep(0.5)
    return status


def smoke(service: str, image: str, vhost: str, out: Path) -> Smoke:
    result = Smoke(service, image)
    help_run = run("podman", "run", "--rm", "--network=none", image, "beat", "--help", check=False)
    result.help_exit, result.help_lists_serve = help_run.returncode, "serve" in help_run.stdout
    inspected = json.loads(run("podman", "image", "inspect", image).stdout)[0]
    result.image_healthcheck = " ".join((inspected.get("Healthcheck") or {}).get("Test") or [])
    result.image_user = inspected["Config"].get("User", "")
    data = out / "smoke" / service
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    result.address = f"{host_address()}:{free_port()}"
    environment = [
        f"--env={service.upper()}_DATABASE_URL=sqlite:////data/{service}.db",
        f"--env={service.upper()}_HTTP_ADDRESS={result.address}",
        f"--env=AMQP_URI=amqp://guest:guest@127.0.0.1:5672/{urllib.parse.quote(vhost, safe='')}",
        "--env=BEAT_SHUTDOWN_SECONDS=5",
    ]
    # :U gives the volume to the image's user (10001); /tmp and /run are podman's tmpfs.
    runtime = ["--read-only", "--network=host", f"--volume={data}:/data:U", *environment]
    if service in MIGRATED:
        migrate = run("podman", "run", "--rm", *runtime, image, "beat", "migrate", service, check=False)
        result.migrate_exit = migrate.returncode
        result.database_created = (data / f"{service}.db").exists()
    name = f"beat-smoke-{service}-{os.getpid()}"
    run("podman", "rm", "--force", "--ignore", name, check=False)
    run("podman", "run", "--detach", f"--name={name}", f"--stop-timeout={STOP_SECONDS}", *runtime, image)
    try:
        result.healthz_status = healthz(f"http://{result.address}/healthz", time.monotonic() + 90)
        result.healthcheck_exit = run("podman", "healthcheck", "run", name, check=False).returncode
        started = time.monotonic()
        run("podman", "stop", f"--time={STOP_SECONDS}", name, check=False)
        result.stop_seconds = round(time.monotonic() - started, 1)
        state = json.loads(run("podman", "inspect", name).stdout)[0]["State"]
        result.stop_exit_code, result.still_running_after_stop = state["ExitCode"], state["Running"]
        logs = run("podman", "logs", name, check=False)
        (out / "smoke" / f"{service}.log").write_text(logs.stdout + logs.stderr)
    finally:
        run("podman", "rm", "--force", "--ignore", name, check=False)
    result.problems = problems(result)
    return result


def problems(result: Smoke) -> list[str]:
    found = []
    if result.help_exit != 0 or not result.help_lists_serve:
        found.append(f"beat --help exited {result.help_exit}")
    if "healthcheck.py" not in result.image_healthcheck:
        found.append("the image has no HEALTHCHECK (built in OCI format?)")
    if result.image_user.split(":")[0] in ("", "0", "root"):
        found.append(f"the image runs as {result.image_user or 'root'}")
    if result.service in MIGRATED and (result.migrate_exit != 0 or not result.database_created):
        found.append(f"beat migrate exited {result.migrate_exit} (database created: {result.database_created})")
    if result.healthz_status != 200:
        found.append(f"/healthz answered {result.healthz_status}")
    if result.healthcheck_exit != 0:
        found.append(f"podman healthcheck run exited {result.healthcheck_exit}")
    if result.stop_exit_code != 0 or result.still_running_after_stop:
        found.append(f"SIGTERM: exit code {result.stop_exit_code}")
    if result.stop_seconds is None or result.stop_seconds >= STOP_SECONDS:
        found.append(f"SIGTERM: stopped after {result.stop_seconds} s (killed?)")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default=os.environ.get("BASE_IMAGE", ""), help="a Python 3.11 base image to use")
    parser.add_argument("--tag", default=os.environ.get("IMAGE_TAG", "local"))
    parser.add_argument("--prefix", default=os.environ.get("IMAGE_PREFIX", "localhost/beat-"))
    parser.add_argument("--only", nargs="*", choices=SERVICES, default=list(SERVICES))
    parser.add_argument("--no-smoke", action="store_true")
    parser.add_argument("--out", type=Path, default=WORK, help="where the context copy, smoke data and report go")
    options = parser.parse_args(argv)
    started = time.monotonic()
    base = options.base or local_base()
    results = [Smoke(service, f"{options.prefix}{service}:{options.tag}") for service in options.only]
    context = snapshot(options.out)
    for result in results:
        result.build_seconds = round(build(result.service, base, result.image, context), 1)
    if not options.no_smoke:
        results = smoke_all(results, options.out)
    options.out.mkdir(parents=True, exist_ok=True)
    report = {"base": base, "seconds": round(time.monotonic() - started, 1), "images": [asdict(r) for r in results]}
    (options.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    for result in results:
        print(f"{result.service:14} {'ok' if result.passed else 'FAILED'}  {'; '.join(result.problems)}")
    print(f"images: {len(results)} in {report['seconds']} s (report: {options.out / 'report.json'})")
    return 0 if all(result.passed for result in results) else 1


def smoke_all(results: list[Smoke], out: Path) -> list[Smoke]:
    """Each image against its own throw-away vhost (named like the tests' so a cleaner removes it)."""
    vhost = f"nameko_test_images_{os.getpid()}"
    management("PUT", f"/api/vhosts/{vhost}")
    try:
        smoked = []
        for result in results:
            print(f"smoke: {result.service}", flush=True)
            tested = smoke(result.service, result.image, vhost, out)
            tested.build_seconds = result.build_seconds
            smoked.append(tested)
        return smoked
    finally:
        management("DELETE", f"/api/vhosts/{vhost}")


if __name__ == "__main__":
    sys.exit(main())
