"""The Kubernetes overlays render, validate against the API schemas and follow Beat's rules."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from beat_shared.amqp import dead_letter_queue_name, retry_queue_name
from beat_shared.config import SETTINGS

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
SERVICES = ("concerns", "referrals", "notifications", "surveys")
# The web service (the site's pages) is deployed like them, without a database or a migration.
DEPLOYED = (*SERVICES, "web")
CONSUMERS = ("referrals", "notifications", "surveys")
OVERLAYS = ("dev", "prod")
# The oldest Kubernetes KEDA supports, and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
# docs/operations.md: event handlers and HTTP requests must finish within this many seconds.
LONGEST_HANDLER_SECONDS = 60
SECRET_SETTINGS = {setting.name for setting in SETTINGS.values() if setting.secret}
PLATFORM_PATHS = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/openapi.html"}
# Settings of `beat run`'s development mail catcher: a deployment never sets them (`beat run`
# refuses BEAT_DEV_MAIL_PORT in production; notifications' /dev/outbox is a 404 there).
DEVELOPMENT_ONLY_SETTINGS = {"BEAT_DEV_MAIL_PORT", "BEAT_DEV_MAIL_DIR"}
# Custom resources, validated against their operators' CRD schemas (deploy/k8s/crds), not kubernetes-validate.
CUSTOM_API_GROUPS = (
    "keda.sh/",
    "monitoring.coreos.com/",
    "rabbitmq.com/",
    "postgresql.cnpg.io/",
    "barmancloud.cnpg.io/",
)


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


def containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return pod_spec.get("initContainers", []) + pod_spec["containers"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_kubernetes_object_is_valid_in_strict_mode(rendered, overlay):
    checked = 0
    for obj in rendered[overlay]:
        if obj["apiVersion"].startswith(CUSTOM_API_GROUPS):
            continue  # custom resource: checked against its operator's CRD schema below
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(obj, version, strict=True)
        checked += 1
    assert checked >= 20


def test_the_kubernetes_validate_command_passes_on_both_overlays(rendered, tmp_path):
    files = []
    for overlay in OVERLAYS:
        path = tmp_path / f"{overlay}.yaml"
        kubernetes_objects = [o for o in rendered[overlay] if not o["apiVersion"].startswith(CUSTOM_API_GROUPS)]
        path.write_text(yaml.safe_dump_all(kubernetes_objects))
        files.append(str(path))
    done = subprocess.run(
        [str(Path(sys.executable).with_name("kubernetes-validate")), "--strict", "--quiet", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def keda_schema() -> jsonschema.protocols.Validator:
    schema = json.loads((K8S / "crds" / "keda-scaledobject-v1alpha1.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_scaled_objects_match_the_keda_crd_schema(rendered, overlay, keda_schema):
    scaled = of_kind(rendered[overlay], "ScaledObject")
    assert sorted(obj["metadata"]["name"] for obj in scaled) == sorted(CONSUMERS)
    for obj in scaled:
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in keda_schema.iter_errors(obj)]
        assert errors == [], obj["metadata"]["name"]
        [trigger] = obj["spec"]["triggers"]
        assert trigger["type"] == "rabbitmq"
        assert trigger["metadata"]["hostFromEnv"] == "RABBIT_API_URI"


def test_the_keda_schema_rejects_a_broken_scaled_object(rendered, keda_schema):
    broken = json.loads(json.dumps(of_kind(rendered["prod"], "ScaledObject")[0]))
    broken["spec"]["triggers"][0]["metadta"] = broken["spec"]["triggers"][0].pop("metadata")
    broken["spec"]["maxReplicaCount"] = "ten"
    messages = " ".join(e.message for e in keda_schema.iter_errors(broken))
    assert "'metadata' is a required property" in messages
    assert "metadta" in messages
    assert "ten" in messages


def crd_schema(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((K8S / "crds" / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


PROMETHEUS_SCHEMAS = {
    "PrometheusRule": "prometheus-prometheusrule-v1.schema.json",
    "PodMonitor": "prometheus-podmonitor-v1.schema.json",
}


def schema_errors(validator: jsonschema.protocols.Validator, obj: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(obj)]


def test_monitoring_objects_match_the_prometheus_operator_crd_schemas(rendered):
    for kind, name in PROMETHEUS_SCHEMAS.items():
        objects = of_kind(rendered["prod"], kind)
        assert objects, f"the prod overlay has no {kind}"
        validator = crd_schema(name)
        for obj in objects:
            assert schema_errors(validator, obj) == [], obj["metadata"]["name"]
    broken = json.loads(json.dumps(of_kind(rendered["prod"], "PrometheusRule")[0]))
    broken["spec"]["groups"][0]["rules"][0]["exp"] = broken["spec"]["groups"][0]["rules"][0].pop("expr")
    assert any("exp" in error for error in schema_errors(crd_schema(PROMETHEUS_SCHEMAS["PrometheusRule"]), broken))


# Every custom resource kind the overlays (and deploy/k8s/rabbitmq/agency.yaml) use, with the JSON
# Schema of its operator's published CRD (deploy/k8s/crds, SOURCE.md says which release).
CRD_SCHEMAS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "keda-scaledobject-v1alpha1.schema.json",
    **{("monitoring.coreos.com/v1", kind): name for kind, name in PROMETHEUS_SCHEMAS.items()},
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): "rabbitmq-cluster-operator/rabbitmqcluster-v1beta1.schema.json",
    **{
        ("rabbitmq.com/v1beta1", kind): f"rabbitmq-messaging-topology-operator/{kind.lower()}-v1beta1.schema.json"
        for kind in ("Vhost", "User", "Permission", "Exchange", "Queue", "Binding", "Policy")
    },
    ("postgresql.cnpg.io/v1", "Cluster"): "cloudnative-pg/cluster-v1.schema.json",
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): "cloudnative-pg/scheduledbackup-v1.schema.json",
    ("barmancloud.cnpg.io/v1", "ObjectStore"): "plugin-barman-cloud/objectstore-v1.schema.json",
}


@pytest.fixture(scope="module")
def crd_validators() -> dict[tuple[str, str], jsonschema.protocols.Validator]:
    return {key: crd_schema(name) for key, name in CRD_SCHEMAS.items()}


def agency_objects() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((K8S / "rabbitmq" / "agency.yaml").read_text()) if doc]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_custom_resource_matches_its_operators_crd_schema(rendered, overlay, crd_validators):
    objects = rendered[overlay] + (agency_objects() if overlay == "prod" else [])
    custom = [obj for obj in objects if obj["apiVersion"].startswith(CUSTOM_API_GROUPS)]
    for obj in custom:
        key = (obj["apiVersion"], obj["kind"])
        assert key in crd_validators, f"{key}: vendor its operator's CRD schema (deploy/k8s/crds/SOURCE.md)"
        assert schema_errors(crd_validators[key], obj) == [], f"{obj['kind']}/{obj['metadata']['name']}"
    kinds = {obj["kind"] for obj in custom}
    assert kinds >= ({"ScaledObject"} if overlay == "dev" else set(kind for _, kind in CRD_SCHEMAS))


def test_the_operator_schemas_reject_broken_objects(rendered, crd_validators):
    def broken(kind: str, change: Any) -> list[str]:
        obj = json.loads(json.dumps(of_kind(rendered["prod"], kind)[0]))
        change(obj["spec"])
        return schema_errors(crd_validators[(obj["apiVersion"], kind)], obj)

    assert any("replica" in e for e in broken("RabbitmqCluster", lambda s: s.update(replica=3)))
    assert any("three" in e for e in broken("Cluster", lambda s: s.update(instances="three")))
    assert any("'vhost' is a required" in e for e in broken("Permission", lambda s: s.pop("vhost")))
    assert any("everything" in e for e in broken("Policy", lambda s: s.update(applyTo="everything")))
    assert any("methd" in e for e in broken("ScheduledBackup", lambda s: s.update(methd="plugin")))
    assert any(
        "destinationPath" in e for e in broken("ObjectStore", lambda s: s["configuration"].pop("destinationPath"))
    )


def alerts_table() -> dict[str, str]:
    """The alerts docs/operations.md lists: name -> PromQL expression."""
    text = (REPO / "docs" / "operations.md").read_text()
    rows = re.findall(r"^\| (Beat[A-Za-z]+) \| `(.+?)`", text, re.MULTILINE)
    return {name: expr.replace("\\|", "|") for name, expr in rows}


def test_the_prometheus_rule_has_every_alert_of_the_runbook(rendered):
    [rule] = of_kind(rendered["prod"], "PrometheusRule")
    alerts = {r["alert"]: r["expr"] for group in rule["spec"]["groups"] for r in group["rules"]}
    documented = alerts_table()
    assert len(documented) >= 10 and "BeatBrokerDown" in documented
    assert alerts == documented


def test_the_pod_monitor_scrapes_the_four_services_on_their_metrics_port(rendered):
    [monitor] = [m for m in of_kind(rendered["prod"], "PodMonitor") if m["metadata"]["name"] == "beat-services"]
    [endpoint] = monitor["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    selector = monitor["spec"]["selector"]
    for deployment in of_kind(rendered["prod"], "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        chosen = all(labels.get(k) == v for k, v in selector["matchLabels"].items()) and all(
            labels.get(e["key"]) in e["values"] for e in selector["matchExpressions"]
        )
        assert chosen == (deployment["metadata"]["name"] in SERVICES), deployment["metadata"]["name"]
        ports = [p["name"] for p in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]]
        assert "http" in ports


@pytest.mark.parametrize("service", CONSUMERS)
def test_keda_counts_the_consumer_queues_only(rendered, service):
    [scaled] = [o for o in of_kind(rendered["prod"], "ScaledObject") if o["metadata"]["name"] == service]
    pattern = re.compile(scaled["spec"]["triggers"][0]["metadata"]["queueName"])
    queue = f"evt-concerns-beat.concern.resolved--{service}.on_concern_resolved"
    assert pattern.search(queue)
    assert not pattern.search(retry_queue_name(queue, 5))
    assert not pattern.search(dead_letter_queue_name(queue))
    other = next(s for s in SERVICES if s != service)
    assert not pattern.search(f"evt-concerns-beat.concern.resolved--{other}.on_concern_resolved")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_is_probed_limited_unprivileged_and_pinned(rendered, overlay):
    deployments = of_kind(rendered[overlay], "Deployment")
    assert sorted(d["metadata"]["name"] for d in deployments) == sorted(DEPLOYED)
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] > 0, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["terminationGracePeriodSeconds"] > LONGEST_HANDLER_SECONDS, name
        [container] = pod["containers"]
        assert container["args"] == ["beat", "serve", name]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz", name
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), (name, kind)
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert "/tmp" in mounts, name
        assert_pinned(container["image"])


def assert_pinned(image: str) -> None:
    if "@sha256:" in image:
        return
    name, _, tag = image.rpartition(":")
    assert name and "/" not in tag, f"{image} has no tag"
    assert tag != "latest", f"{image} uses :latest"
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-][0-9A-Za-z.-]+)?", tag), f"{image}: pin an exact version"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_one_migration_job_per_service_not_at_container_start(rendered, overlay):
    jobs = of_kind(rendered[overlay], "Job")
    assert sorted(j["metadata"]["name"] for j in jobs) == sorted(f"{s}-migrate" for s in SERVICES)
    for job in jobs:
        service = job["metadata"]["name"].removesuffix("-migrate")
        pod = job["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["args"] == ["beat", "migrate", service]
        assert pod["restartPolicy"] == "Never"
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert_pinned(container["image"])
        deployment = next(d for d in of_kind(rendered[overlay], "Deployment") if d["metadata"]["name"] == service)
        assert container["image"] == deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    for deployment in of_kind(rendered[overlay], "Deployment"):
        for container in containers(deployment["spec"]["template"]["spec"]):
            assert "migrate" not in " ".join(container.get("command", []) + container.get("args", []))


def policy_of(policies: list[dict[str, Any]], app: str) -> dict[str, Any]:
    [policy] = [p for p in policies if p["spec"]["podSelector"].get("matchLabels", {}).get(NAME_LABEL) == app]
    return policy


NAME_LABEL = "app.kubernetes.io/name"


def peers(rule: dict[str, Any], key: str) -> set[str]:
    """The namespaces (key namespaceSelector) or pod names (podSelector, same namespace) of a rule."""
    label = "kubernetes.io/metadata.name" if key == "namespaceSelector" else NAME_LABEL
    return {p[key]["matchLabels"][label] for p in rule.get("from", rule.get("to", [])) if list(p) == [key]}


def databases_reached(policy: dict[str, Any]) -> list[str]:
    return [
        peer["podSelector"]["matchLabels"]["cnpg.io/cluster"]
        for rule in policy["spec"]["egress"]
        for peer in rule["to"]
        if "cnpg.io/cluster" in peer.get("podSelector", {}).get("matchLabels", {})
    ]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_default_deny_and_one_network_policy_per_service(rendered, overlay):
    policies = of_kind(rendered[overlay], "NetworkPolicy")
    [deny] = [p for p in policies if p["spec"]["podSelector"] == {}]
    assert set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]
    per_app = [p for p in policies if p is not deny]
    apps = [p["spec"]["podSelector"]["matchLabels"][NAME_LABEL] for p in per_app]
    assert sorted(apps) == sorted(DEPLOYED)
    for app in DEPLOYED:
        policy = policy_of(per_app, app)
        [rule] = policy["spec"]["ingress"]
        assert [p["port"] for p in rule["ports"]] == ["http"]
        egress = policy["spec"]["egress"]
        ports = [{p["port"] for p in rule["ports"]} for rule in egress]
        assert {53} in ports  # DNS
        assert any(5672 in p for p in ports)  # RabbitMQ
        # Every service verifies the provider's RS256 tokens in production: its JWKS is on HTTPS.
        to_public = [r for r in egress if any("ipBlock" in peer for peer in r["to"])]
        assert any(443 in {p["port"] for p in r["ports"]} for r in to_public), f"{app} cannot reach the JWKS"
        assert all("10.0.0.0/8" in r["to"][0]["ipBlock"]["except"] for r in to_public), "public addresses only"
        if app == "web":
            continue  # its own rules: the next test
        # the ingress controller, monitoring, and the web service's pages calling the API
        assert peers(rule, "namespaceSelector") == {"ingress-nginx", "monitoring"}
        assert peers(rule, "podSelector") == {"web"}
        assert databases_reached(policy) == [f"{app}-db"], "only its own database"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_ingress_calls_web_and_web_calls_only_the_four_apis(rendered, overlay):
    policy = policy_of(of_kind(rendered[overlay], "NetworkPolicy"), "web")
    [rule] = policy["spec"]["ingress"]
    assert peers(rule, "namespaceSelector") == {"ingress-nginx"} and peers(rule, "podSelector") == set()
    assert len(rule["from"]) == 1
    assert databases_reached(policy) == [], "web owns no database"
    [to_apis] = [r for r in policy["spec"]["egress"] if peers(r, "podSelector")]
    assert peers(to_apis, "podSelector") == set(SERVICES)
    assert [p["port"] for p in to_apis["ports"]] == ["http"]
    [to_provider] = [r for r in policy["spec"]["egress"] if any("ipBlock" in peer for peer in r["to"])]
    assert [p["port"] for p in to_provider["ports"]] == [443]  # the city's OpenID Connect provider, HTTPS only
    assert "10.0.0.0/8" in to_provider["to"][0]["ipBlock"]["except"]  # public addresses only


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_a_pdb_and_a_service(rendered, overlay):
    # Beat's own (the data components' objects are in beat-data: components/rabbitmq, postgresql)
    objects = [o for o in rendered[overlay] if o["metadata"].get("namespace") != "beat-data"]
    for kind in ("PodDisruptionBudget", "Service"):
        assert sorted(o["metadata"]["name"] for o in of_kind(objects, kind)) == sorted(DEPLOYED)
    autoscaled = {o["spec"]["scaleTargetRef"]["name"] for o in of_kind(objects, "ScaledObject")}
    autoscaled |= {o["spec"]["scaleTargetRef"]["name"] for o in of_kind(objects, "HorizontalPodAutoscaler")}
    assert autoscaled == set(DEPLOYED)


def test_production_uses_quorum_queues_and_two_replicas_at_least(rendered):
    [config] = of_kind(rendered["prod"], "ConfigMap")
    assert config["data"]["BEAT_QUEUE_TYPE"] == "quorum"
    for scaled in of_kind(rendered["prod"], "ScaledObject"):
        assert scaled["spec"]["minReplicaCount"] >= 2
    for hpa in of_kind(rendered["prod"], "HorizontalPodAutoscaler"):
        assert hpa["spec"]["minReplicas"] >= 2


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_config_names_exactly_the_settings_beat_reads(rendered, overlay):
    [config] = of_kind(rendered[overlay], "ConfigMap")
    assert set(config["data"]) <= set(SETTINGS)
    assert not set(config["data"]) & SECRET_SETTINGS
    provided = set(config["data"])
    for deployment in of_kind(rendered[overlay], "Deployment"):
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        names = {e["name"] for e in container["env"]}
        assert names <= set(SETTINGS)
        provided |= names
    assert not provided & DEVELOPMENT_ONLY_SETTINGS
    assert provided == set(SETTINGS) - DEVELOPMENT_ONLY_SETTINGS, (
        "every setting has a value in the ConfigMap or a Secret"
    )


# --- GitOps order ----------------------------------------------------------------------------

WAVE = "argocd.argoproj.io/sync-wave"


def annotations(obj: dict[str, Any]) -> dict[str, str]:
    return obj["metadata"].get("annotations") or {}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_a_first_gitops_sync_applies_config_then_migrations_then_deployments(rendered, overlay):
    """Argo CD applies by wave within a phase: the Jobs must not run before the ConfigMap they read
    (a PreSync hook would) nor before the NetworkPolicies that let them reach their database."""
    objects = rendered[overlay]
    waves = {
        kind: {int(annotations(obj).get(WAVE, "0")) for obj in of_kind(objects, kind)}
        for kind in ("ConfigMap", "NetworkPolicy", "Job", "Deployment")
    }
    assert max(waves["ConfigMap"] | waves["NetworkPolicy"]) < min(waves["Job"])
    assert max(waves["Job"]) < min(waves["Deployment"])
    for job in of_kind(objects, "Job"):
        notes = annotations(job)
        assert notes["argocd.argoproj.io/hook"] == "Sync", "a PreSync hook runs before the ConfigMap exists"
        assert notes["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation"  # Jobs are immutable
        assert notes["kustomize.toolkit.fluxcd.io/force"] == "enabled"  # Flux recreates it on a new release
    [config] = of_kind(objects, "ConfigMap")
    assert "PruneLast=true" in annotations(config)["argocd.argoproj.io/sync-options"]


# --- a city's own settings -------------------------------------------------------------------

# What the demo city (Riverton, example.city) brings: none of it may reach a production render.
DEMO_VALUE = re.compile(r"riverton|example\.(city|com|org|net)|\.example\b|demo-key|demo", re.IGNORECASE)


def env_file(path: Path) -> dict[str, str]:
    entries = [line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return {key: value for key, value in entries}


def demo_values(objects: list[dict[str, Any]]) -> list[str]:
    """Every string in the rendered objects that names the demo city, with where it is."""
    found = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(key, where)
                walk(item, f"{where}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]")
        elif isinstance(value, str) and DEMO_VALUE.search(value):
            found.append(f"{where}: {value[:80]}")

    for obj in objects:
        walk(obj, f"{obj['kind']}/{obj['metadata']['name']}")
    return found


def test_the_production_render_carries_no_demo_value(rendered):
    assert demo_values(rendered["prod"]) == []


def test_the_demo_value_scan_finds_what_it_should(rendered):
    found = demo_values(rendered["dev"])
    for setting in ("CONCERNS_AGENCY_NAME", "CONCERNS_OPEN311_JURISDICTION", "NOTIFICATIONS_SMS_SENDER"):
        assert any(f".data.{setting}:" in entry for entry in found), setting
    assert any(".image:" in entry for entry in found) and any("Ingress/beat" in entry for entry in found)


def test_a_city_sets_the_same_settings_in_one_file_per_overlay():
    dev, prod = (env_file(K8S / "overlays" / overlay / "city.env") for overlay in ("dev", "prod"))
    assert set(dev) == set(prod)
    base = env_file(K8S / "base" / "config.env")
    assert not set(prod) & set(base), "a city setting is set in one place: city.env, not the base"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_configmap_name_carries_a_content_hash_that_the_pods_use(rendered, overlay):
    [config] = of_kind(rendered[overlay], "ConfigMap")
    assert re.fullmatch(r"beat-config-[a-z0-9]{10}", config["metadata"]["name"])
    for obj in of_kind(rendered[overlay], "Deployment") + of_kind(rendered[overlay], "Job"):
        [container] = obj["spec"]["template"]["spec"]["containers"]
        assert [s["configMapRef"]["name"] for s in container["envFrom"]] == [config["metadata"]["name"]]


def hosts(objects: list[dict[str, Any]]) -> tuple[str, str]:
    """The API host and the site host, as city.env names them (CONCERNS_PUBLIC_URL, NOTIFICATIONS_PORTAL_URL)."""
    [config] = of_kind(objects, "ConfigMap")
    return tuple(config["data"][key].split("/")[2] for key in ("CONCERNS_PUBLIC_URL", "NOTIFICATIONS_PORTAL_URL"))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ingress_serves_the_api_host_and_the_site_host_of_city_env(rendered, overlay):
    [config] = of_kind(rendered[overlay], "ConfigMap")
    [ingress] = of_kind(rendered[overlay], "Ingress")
    api, site = hosts(rendered[overlay])
    assert api != site, "the pages need a host of their own: their paths are also API paths"
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == [api, site]
    assert ingress["spec"]["tls"][0]["hosts"] == [api, site]
    for key, value in config["data"].items():
        if key.endswith("_PUBLIC_URL"):
            assert value == f"https://{api}", key  # the APIs and the services' own pages
    assert config["data"]["NOTIFICATIONS_PORTAL_URL"] == f"https://{site}"  # mails link to the web pages
    if config["data"].get("WEB_OIDC_REDIRECT_URL"):  # the provider sends people back to a page
        assert config["data"]["WEB_OIDC_REDIRECT_URL"].startswith(f"https://{site}/")


# --- no secret values ---------------------------------------------------------------------

CREDENTIAL_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^@\s/]+@", re.IGNORECASE)
SECRETISH_KEY = re.compile(r"(secret|password|passwd|token|private|credential|_key$|apikey)", re.IGNORECASE)
HIGH_ENTROPY = re.compile(r"^[A-Za-z0-9+/=_-]{32,}$")


def secret_values(objects: list[dict[str, Any]]) -> list[str]:
    """Anything in the rendered objects that looks like a credential, with where it is."""
    found = []
    for obj in objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "Secret":
            found.append(f"{where}: Secret objects must not be committed; operators create them")
        values: list[tuple[str, Any]] = list((obj.get("data") or {}).items())
        values += list((obj.get("stringData") or {}).items())
        spec = obj.get("spec", {})
        pod = spec.get("template", {}).get("spec") or spec.get("jobTemplate", {}).get("spec", {}).get("template", {})
        for container in containers(pod) if pod and "containers" in pod else []:
            values += [(e["name"], e.get("value")) for e in container.get("env", [])]
        for key, value in values:
            if not isinstance(value, str) or not value:
                continue
            declared_public = key in SETTINGS and not SETTINGS[key].secret  # e.g. CONCERNS_RATE_PER_TOKEN
            if (
                key in SECRET_SETTINGS  # a setting marked secret, whatever its name looks like
                or CREDENTIAL_URL.search(value)
                or HIGH_ENTROPY.match(value)
                or (SECRETISH_KEY.search(key) and not declared_public)
            ):
                found.append(f"{where}: {key}")
        # and a credential URL anywhere else in the object (annotations, args, trigger metadata)
        if CREDENTIAL_URL.search(json.dumps(obj)):
            found.append(f"{where}: contains a URL with credentials")
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_nothing_in_the_overlays_is_a_secret_value(rendered, overlay):
    assert secret_values(rendered[overlay]) == []
    for deployment in of_kind(rendered[overlay], "Deployment"):
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        for entry in container["env"]:
            if entry["name"] in SECRET_SETTINGS:
                assert "value" not in entry and "secretKeyRef" in entry["valueFrom"], entry["name"]


def secret_references(objects: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Each Secret the pods read, with the keys they read from it."""
    wanted: dict[str, set[str]] = {}
    for obj in objects:
        pod = obj.get("spec", {}).get("template", {}).get("spec")
        for container in containers(pod) if pod else []:
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    wanted.setdefault(ref["name"], set()).add(ref["key"])
    return wanted


def test_the_secret_table_lists_every_secret_and_key_the_pods_read(rendered):
    rows = [line for line in (K8S / "README.md").read_text().splitlines() if line.startswith("| `beat-")]
    table = {row.split("`")[1]: row.split("|")[2] for row in rows}
    for overlay in OVERLAYS:
        for name, keys in secret_references(rendered[overlay]).items():
            listed = re.sub(r"^beat-[a-z]+-database$", "beat-<service>-database", name)
            listed = re.sub(rf"^beat-rabbitmq-({'|'.join(SERVICES)})$", "beat-rabbitmq-<service>", listed)
            assert listed in table, f"Secret {name} missing from the table in deploy/k8s/README.md"
            for key in keys:
                assert f"`{key}`" in table[listed], f"key {key} of Secret {name} missing from the table"


def test_the_secret_scan_finds_what_it_should():
    leaky = [
        {"kind": "Secret", "metadata": {"name": "s"}, "stringData": {"url": "x"}},
        {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"AMQP_URI": "amqp://beat:hunter2@rabbit/beat"}},
        {"kind": "ConfigMap", "metadata": {"name": "d"}, "data": {"BEAT_JWT_SECRET": "short"}},
        {"kind": "ConfigMap", "metadata": {"name": "e"}, "data": {"X": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNl=="}},
        {"kind": "ConfigMap", "metadata": {"name": "k"}, "data": {"CONCERNS_OPEN311_API_KEYS": "riverton-demo-key"}},
        {
            "kind": "Deployment",
            "metadata": {"name": "f"},
            "spec": {"template": {"spec": {"containers": [{"env": [{"name": "DB_PASSWORD", "value": "pw"}]}]}}},
        },
    ]
    found = secret_values(leaky)
    for name in ("Secret/s", "ConfigMap/c", "ConfigMap/d", "ConfigMap/e", "ConfigMap/k", "Deployment/f"):
        assert any(item.startswith(name) for item in found), name
    clean = [
        {"kind": "ConfigMap", "metadata": {"name": "ok"}, "data": {"BEAT_LOG_LEVEL": "INFO", "URL": "https://x/y"}}
    ]
    assert secret_values(clean) == []


# --- ingress --------------------------------------------------------------------------------

# Routes that no Ingress path can send to their service today: a path parameter before the last
# segment under another service's prefix (/beats/{code} belongs to concerns). They need their own
# first segment (e.g. /broadcasts/{beat_code}, /report-cards/{beat_code}); until then they are
# listed here, exactly, so that a new conflict fails and a fixed one must be struck off.
KNOWN_UNROUTABLE: set[str] = set()
# The host's / is the site's home page (web). Each API service's / is its index (PlatformEndpoints),
# reached on the pod like /openapi.json; referrals' HSDS version document there included.
SERVICE_INDEX = "/"
WEB_CATCH_ALL = "/{unknown}"  # the web service's "no such page": any path nothing else routes


def ingress_paths(objects: list[dict[str, Any]], host: str) -> list[tuple[str, str, str]]:
    """(path, pathType, service) of the Ingress rule for `host`."""
    [ingress] = of_kind(objects, "Ingress")
    [rule] = [rule for rule in ingress["spec"]["rules"] if rule["host"] == host]
    return [(p["path"], p["pathType"], p["backend"]["service"]["name"]) for p in rule["http"]["paths"]]


def routed_to(paths: list[tuple[str, str, str]], request_path: str) -> str | None:
    """The service an Ingress sends `request_path` to (Kubernetes' matching rules)."""
    best: tuple[int, int, str] | None = None
    for path, kind, service in paths:
        if kind == "Exact":
            matches = request_path == path
        else:
            matches = request_path == path or request_path.startswith(path.rstrip("/") + "/")
        if matches:
            candidate = (len(path), 1 if kind == "Exact" else 0, service)
            best = max(best, candidate) if best else candidate
    return best[2] if best else None


def test_ingress_matching_follows_the_kubernetes_rules():
    paths = [("/beats", "Prefix", "a"), ("/beats/x", "Prefix", "b"), ("/", "Exact", "c"), ("/r.csv", "Exact", "d")]
    assert routed_to(paths, "/beats") == "a"
    assert routed_to(paths, "/beats/RV-01") == "a"
    assert routed_to(paths, "/beats/x/y") == "b"
    assert routed_to(paths, "/beatsy") is None
    assert routed_to(paths, "/") == "c"
    assert routed_to(paths, "/r.csv") == "d"
    assert routed_to(paths, "/r.csv/1") is None


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ingress_routes_public_paths_only(rendered, overlay):
    api, site = hosts(rendered[overlay])
    api_paths, site_paths = ingress_paths(rendered[overlay], api), ingress_paths(rendered[overlay], site)
    assert {service for _, _, service in api_paths} == set(SERVICES)
    assert {service for _, _, service in site_paths} == {"web"}
    assert routed_to(site_paths, "/") == "web"
    for paths in (api_paths, site_paths):
        for platform in PLATFORM_PATHS:
            assert routed_to(paths, platform) is None, platform
        assert routed_to(paths, "/anything-else") is None
        assert len({(path, kind) for path, kind, _ in paths}) == len(paths), "a path is listed twice"


def test_every_public_route_a_service_declares_is_routed_to_it(rendered):
    from beat_shared.cli import service_class
    from beat_shared.openapi import build_openapi

    paths = ingress_paths(rendered["prod"], hosts(rendered["prod"])[0])
    unrouted = set()
    declared = 0
    for service in SERVICES:
        for path in build_openapi(service_class(service))["paths"]:
            if path in PLATFORM_PATHS or path == SERVICE_INDEX or path.startswith("/dev/"):
                continue  # /dev/: development-only pages, a 404 in production
            declared += 1
            # A templated segment stands for any value; "x" is as good as any for matching.
            concrete = re.sub(r"\{[^}]+\}", "x", path)
            if routed_to(paths, concrete) != service:
                unrouted.add(f"{service} {path}")
    assert declared > 0
    assert unrouted == KNOWN_UNROUTABLE, "add the path to deploy/k8s/base/ingress.yaml (or rename the route)"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_page_of_the_web_service_is_routed_to_it_on_the_site_host(rendered, overlay):
    """No page is shadowed: on the site host each one reaches web, even where an API has the same path
    on the API host (/beats/{code}, /concerns/{id}, /meetings/{id}: the links in residents' mails)."""
    from beat_shared.cli import service_class
    from beat_shared.openapi import build_openapi

    paths = ingress_paths(rendered[overlay], hosts(rendered[overlay])[1])
    pages = [p for p in build_openapi(service_class("web"))["paths"] if p not in PLATFORM_PATHS | {WEB_CATCH_ALL}]
    assert {"/", "/voice/{category}", "/concerns/{concern_id}", "/beats/{code}", "/meetings/{meeting_id}"} <= set(pages)
    routed = {page: routed_to(paths, re.sub(r"\{[^}]+\}", "x", page)) for page in pages}
    shadowed = {page: service for page, service in routed.items() if service != "web"}
    assert shadowed == {}, "add the page's path to the site host's rule in deploy/k8s/base/ingress.yaml"
