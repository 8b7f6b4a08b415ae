"""The prod overlay's RabbitMQ and PostgreSQL objects (components/rabbitmq, components/postgresql) say
what Beat needs: the broker topology of definitions-production.json, one user per identity with
exactly the rights its code uses, one database cluster per service with backups, and all before
Beat's own objects in a GitOps sync."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from nameko.rpc import Rpc, RpcProxy

from beat_shared.amqp import dead_letter_queue_name, retry_queue_name
from beat_shared.cli import service_class
from beat_shared.inbox import IdempotentEventHandler

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
SERVICES = ("concerns", "referrals", "notifications", "surveys")
CLUSTER_REFERENCE = {"name": "beat-rabbitmq", "namespace": "beat-data"}
WAVE = "argocd.argoproj.io/sync-wave"
DATA_GROUPS = ("rabbitmq.com/", "postgresql.cnpg.io/", "barmancloud.cnpg.io/")


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in of_kind(objects, kind)}


def production_definitions() -> dict[str, Any]:
    return json.loads((K8S / "rabbitmq" / "definitions-production.json").read_text())


# --- the broker's topology ------------------------------------------------------------------


def as_definitions(objects: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The topology objects written as RabbitMQ definitions (the format of definitions-production.json)."""
    exchanges = [
        {
            "name": e["spec"]["name"],
            "vhost": e["spec"]["vhost"],
            "type": e["spec"]["type"],
            "durable": e["spec"]["durable"],
            "auto_delete": e["spec"]["autoDelete"],
            "internal": False,
            "arguments": e["spec"].get("arguments", {}),
        }
        for e in of_kind(objects, "Exchange")
    ]
    queues = [
        {
            "name": q["spec"]["name"],
            "vhost": q["spec"]["vhost"],
            "durable": q["spec"]["durable"],
            "auto_delete": q["spec"]["autoDelete"],
            "arguments": {"x-queue-type": q["spec"]["type"], **q["spec"].get("arguments", {})},
        }
        for q in of_kind(objects, "Queue")
    ]
    bindings = [
        {
            "source": b["spec"]["source"],
            "vhost": b["spec"]["vhost"],
            "destination": b["spec"]["destination"],
            "destination_type": b["spec"]["destinationType"],
            "routing_key": b["spec"].get("routingKey", ""),
            "arguments": b["spec"].get("arguments", {}),
        }
        for b in of_kind(objects, "Binding")
    ]
    policies = [
        {
            "vhost": p["spec"]["vhost"],
            "name": p["spec"]["name"],
            "pattern": p["spec"]["pattern"],
            "apply-to": p["spec"]["applyTo"],
            "priority": p["spec"]["priority"],
            "definition": p["spec"]["definition"],
        }
        for p in of_kind(objects, "Policy")
    ]
    return {"exchanges": exchanges, "queues": queues, "bindings": bindings, "policies": policies}


def canonical(entries: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(entry, sort_keys=True) for entry in entries)


def test_the_broker_objects_declare_the_production_definitions(rendered):
    declared = as_definitions(rendered["prod"])
    expected = production_definitions()
    for section in ("exchanges", "queues", "bindings", "policies"):
        assert canonical(declared[section]) == canonical(expected[section]), section
    [vhost] = of_kind(rendered["prod"], "Vhost")
    assert vhost["spec"]["name"] == "beat" and vhost["spec"]["deletionPolicy"] == "retain"


def test_the_broker_is_three_persistent_nodes_apart_with_tls_and_lets_beat_name_it(rendered):
    [broker] = of_kind(rendered["prod"], "RabbitmqCluster")
    assert broker["metadata"]["namespace"] == "beat-data"
    assert (broker["metadata"]["name"], broker["spec"]["replicas"]) == ("beat-rabbitmq", 3)
    assert broker["spec"]["persistence"]["storage"]
    [term] = broker["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"] == {"app.kubernetes.io/name": "beat-rabbitmq"}
    assert broker["spec"]["tls"]["secretName"]
    assert "prometheus.return_per_object_metrics = true" in broker["spec"]["rabbitmq"]["additionalConfig"]
    topology = [o for o in rendered["prod"] if o["apiVersion"].startswith("rabbitmq.com/") and o is not broker]
    assert len(topology) > 20
    for obj in topology:
        assert obj["spec"]["rabbitmqClusterReference"] == CLUSTER_REFERENCE, obj["metadata"]["name"]
        assert obj["metadata"]["namespace"] == "beat"
    allowed = broker["metadata"]["annotations"]["rabbitmq.com/topology-allowed-namespaces"].split(",")
    assert "beat" in allowed


def test_the_agencies_reach_the_broker_over_tls_only(rendered):
    [service] = [s for s in of_kind(rendered["prod"], "Service") if s["metadata"]["namespace"] == "beat-data"]
    assert service["spec"]["type"] == "LoadBalancer"
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(5671, 5671)]
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "beat-rabbitmq"}


# --- one least-privilege user per identity ---------------------------------------------------

# Retry delays as deployed (base/config.env) and as the tests run them: queue names carry them.
RETRY_DELAYS = (1.0, 5.0, 30.0, 120.0, 600.0, 0.05, 0.2)
IDENTITIES = (*SERVICES, "web", "keda")
# nameko names a caller's reply queue rpc.reply-<service>-<uuid4>; any one stands for all.
REPLY_ID = "0b9f7a52-3c1e-4d6a-8f2b-7e5d4c3b2a19"


def needs(service: str) -> dict[str, set[str]]:
    """What a service's code does on the broker, by permission (RabbitMQ's access control table)."""
    cls = service_class(service)
    handlers = [
        entrypoint
        for _, method in inspect.getmembers(cls)
        for entrypoint in getattr(method, "nameko_entrypoints", ())
        if isinstance(entrypoint, IdempotentEventHandler)
    ]
    queues = {
        f"evt-{h.source_service}-{h.event_type}--{service}.{method_name}"
        for method_name, method in inspect.getmembers(cls)
        for h in getattr(method, "nameko_entrypoints", ())
        if isinstance(h, IdempotentEventHandler)
    }
    retries = {retry_queue_name(q, delay) for q in queues for delay in RETRY_DELAYS}
    dead = {dead_letter_queue_name(q) for q in queues}
    sources = {f"{h.source_service}.events" for h in handlers}
    server = any(isinstance(e, Rpc) for _, m in inspect.getmembers(cls) for e in getattr(m, "nameko_entrypoints", ()))
    client = any(isinstance(value, RpcProxy) for _, value in inspect.getmembers(cls))
    rpc_queues = ({f"rpc-{service}"} if server else set()) | ({f"rpc.reply-{service}-{REPLY_ID}"} if client else set())
    rpc_exchange = {"nameko-rpc"} if server or client else set()
    own = {f"{service}.events"}
    return {
        # declare: its exchange (the relay), the exchanges it binds to (nameko declares them), its queues
        "configure": own | sources | rpc_exchange | rpc_queues | queues | retries | dead,
        # publish to an exchange; bind a queue (write on the queue)
        "write": own | rpc_exchange | {"amq.default"} | rpc_queues | queues,
        # bind from an exchange; consume or get from a queue (dead letters: `beat dlq`); declare a
        # queue with an x-dead-letter-exchange argument (the retry queues)
        "read": sources | rpc_exchange | rpc_queues | queues | dead | retries,
    }


def every_name() -> set[str]:
    """Every exchange and queue name of a running Beat, and an agency's queue."""
    names = {"amq.default", "nameko-rpc", "agency.agency-x", "agency.agency-y"}
    definitions = production_definitions()
    names |= {e["name"] for e in definitions["exchanges"]} | {q["name"] for q in definitions["queues"]}
    for service in SERVICES:
        for wanted in needs(service).values():
            names |= wanted
        names |= {f"{service}.events", f"rpc-{service}", f"rpc.reply-{service}-{REPLY_ID}"}
    return names


def permissions(rendered: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, str]]:
    found = {}
    for permission in of_kind(rendered["prod"], "Permission"):
        identity = permission["spec"]["userReference"]["name"].removeprefix("beat-")
        assert permission["spec"]["vhost"] == "beat"
        found[identity] = permission["spec"]["permissions"]
    return found


def granted(regex: str, names: set[str]) -> set[str]:
    # RabbitMQ searches a permission regex unanchored: anchoring is the regex's own business.
    return {name for name in names if re.search(regex, name)}


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_may_do_on_the_broker_exactly_what_its_code_does(rendered, service):
    rights = permissions(rendered)[service]
    wanted = needs(service)
    names = every_name()
    assert wanted["read"] and wanted["configure"]
    for kind in ("configure", "write", "read"):
        assert rights[kind].startswith("^") and rights[kind].endswith("$"), "anchor it: RabbitMQ searches"
        assert granted(rights[kind], names) == granted(rights[kind], wanted[kind]) == wanted[kind], kind


def test_the_rights_analysis_catches_a_too_wide_permission(rendered):
    names = every_name()
    wide = permissions(rendered)["notifications"]["read"].replace("--notifications", "--[a-z]+")
    stolen = granted(wide, names) - needs("notifications")["read"]
    assert any("--surveys." in name for name in stolen)


def test_web_and_keda_may_touch_nothing_and_keda_reads_the_management_api(rendered):
    rights = permissions(rendered)
    assert set(rights) == set(IDENTITIES)
    names = every_name()
    for identity in ("web", "keda"):
        for kind in ("configure", "write", "read"):
            assert granted(rights[identity][kind], names) == set(), (identity, kind)
    users = named(rendered["prod"], "User")
    assert users["beat-keda"]["spec"]["tags"] == ["management"]
    assert all(not users[f"beat-{s}"]["spec"].get("tags") for s in (*SERVICES, "web")), "no management rights"


def test_each_pod_connects_as_its_own_identity_whose_user_imports_the_same_secret(rendered):
    users = named(rendered["prod"], "User")
    for identity in IDENTITIES:
        assert users[f"beat-{identity}"]["spec"]["importCredentialsSecret"]["name"] == f"beat-rabbitmq-{identity}"
    for deployment in of_kind(rendered["prod"], "Deployment"):
        name = deployment["metadata"]["name"]
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
        assert refs["AMQP_URI"] == {"name": f"beat-rabbitmq-{name}", "key": "amqp-uri"}, name
        if "RABBIT_API_URI" in refs:  # what KEDA reads for the queue lengths: no rights beyond that
            assert refs["RABBIT_API_URI"] == {"name": "beat-rabbitmq-keda", "key": "management-uri"}, name


def agency_objects() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((K8S / "rabbitmq" / "agency.yaml").read_text()) if doc]


def test_the_agency_objects_give_what_the_cli_gives():
    template = json.loads(
        (K8S / "rabbitmq" / "agency-template.json")
        .read_text()
        .replace("{{AGENCY_ID}}", "agency-x")
        .replace("{{AGENCY_USER}}", "beat.agency-x")
        .replace("{{QUEUE_TYPE}}", "quorum")
    )
    objects = agency_objects()
    [permission] = of_kind(objects, "Permission")
    [expected] = template["permissions"]
    assert permission["spec"]["permissions"] == {k: expected[k] for k in ("configure", "write", "read")}
    [queue] = of_kind(objects, "Queue")
    [binding] = of_kind(objects, "Binding")
    declared = as_definitions(objects)
    assert canonical(declared["queues"]) == canonical(template["queues"])
    assert canonical(declared["bindings"]) == canonical(template["bindings"])
    assert queue["spec"]["deletionPolicy"] == "retain"  # cutting an agency off keeps its unread messages
    [policy] = [p for p in production_definitions()["policies"] if p["name"] == "beat-agency-queues"]
    assert re.fullmatch(policy["pattern"], queue["spec"]["name"])
    for obj in objects:
        assert obj["spec"]["rabbitmqClusterReference"] == CLUSTER_REFERENCE
    assert binding["spec"]["arguments"]["x-agency-id"] == "agency-x"


# --- PostgreSQL -----------------------------------------------------------------------------


def test_one_database_cluster_per_service_owned_by_it_and_allowed_only_to_it(rendered):
    clusters = named(rendered["prod"], "Cluster")
    assert sorted(clusters) == sorted(f"{s}-db" for s in SERVICES)
    policies = {p["metadata"]["name"]: p for p in of_kind(rendered["prod"], "NetworkPolicy")}
    for service in SERVICES:
        cluster = clusters[f"{service}-db"]
        assert cluster["metadata"]["namespace"] == "beat-data"
        initdb = cluster["spec"]["bootstrap"]["initdb"]
        assert (initdb["database"], initdb["owner"]) == (service, service)
        assert initdb["secret"] == {"name": f"{service}-db-owner"}  # a password the city made beforehand
        assert cluster["spec"]["instances"] >= 3
        assert cluster["spec"]["affinity"]["podAntiAffinityType"] == "required"
        reached = json.dumps(policies[service]["spec"]["egress"])
        assert f'"cnpg.io/cluster": "{service}-db"' in reached


def test_every_cluster_archives_its_wal_and_is_backed_up_nightly(rendered):
    stores = named(rendered["prod"], "ObjectStore")
    backups = {b["spec"]["cluster"]["name"]: b for b in of_kind(rendered["prod"], "ScheduledBackup")}
    prefixes = set()
    for name, cluster in named(rendered["prod"], "Cluster").items():
        [plugin] = cluster["spec"]["plugins"]
        assert plugin["name"] == "barman-cloud.cloudnative-pg.io" and plugin["isWALArchiver"] is True
        store = stores[plugin["parameters"]["barmanObjectName"]]
        assert store["spec"]["retentionPolicy"]
        prefixes.add(store["spec"]["configuration"]["destinationPath"])
        backup = backups[name]
        assert backup["spec"]["method"] == "plugin"
        assert backup["spec"]["pluginConfiguration"]["name"] == plugin["name"]
        assert len(backup["spec"]["schedule"].split()) == 6  # CloudNativePG's cron has seconds first
    assert len(prefixes) == len(SERVICES), "one backup prefix per database: restored one by one"


def test_there_is_no_pooler_because_the_relays_hold_session_advisory_locks(rendered):
    assert of_kind(rendered["prod"], "Pooler") == []
    assert "pg_try_advisory_lock" in (REPO / "shared" / "beat_shared" / "outbox.py").read_text()


# --- order --------------------------------------------------------------------------------


def test_a_gitops_sync_makes_the_data_before_beats_own_objects(rendered):
    objects = rendered["prod"]
    data = [o for o in objects if o["apiVersion"].startswith(DATA_GROUPS)]
    assert data
    beat = [o for o in objects if o["kind"] in ("ConfigMap", "NetworkPolicy", "Job", "Deployment")]
    data_waves = {int(o["metadata"]["annotations"][WAVE]) for o in data}
    beat_waves = {int((o["metadata"].get("annotations") or {}).get(WAVE, "0")) for o in beat}
    assert max(data_waves) < min(beat_waves)


def test_the_dev_overlay_brings_its_own_broker_and_databases(rendered):
    assert [o for o in rendered["dev"] if o["apiVersion"].startswith(DATA_GROUPS)] == []


# --- the runbook ----------------------------------------------------------------------------

RUNBOOK = REPO / "docs" / "operations.md"


def test_the_runbooks_restore_object_is_valid_and_names_the_backups_of_the_overlay(rendered):
    """docs/operations.md's restore, tested on paper: the Cluster it applies is valid for the operator
    and recovers from the ObjectStore and cluster the prod overlay backs up."""
    from jsonschema import Draft202012Validator

    [block] = re.findall(r"```yaml\n(.*?)```", RUNBOOK.read_text(), re.DOTALL)
    restored = yaml.safe_load(block)
    schema = json.loads((K8S / "crds" / "cloudnative-pg" / "cluster-v1.schema.json").read_text())
    assert [e.message for e in Draft202012Validator(schema).iter_errors(restored)] == []
    recovery = restored["spec"]["bootstrap"]["recovery"]
    [source] = [c for c in restored["spec"]["externalClusters"] if c["name"] == recovery["source"]]
    store = source["plugin"]["parameters"]["barmanObjectName"]
    backed_up = named(rendered["prod"], "Cluster")[source["plugin"]["parameters"]["serverName"]]
    assert backed_up["spec"]["plugins"][0]["parameters"]["barmanObjectName"] == store
    assert store in named(rendered["prod"], "ObjectStore")
    assert restored["metadata"]["name"] not in named(rendered["prod"], "Cluster"), "never over the old cluster"
    assert restored["spec"]["plugins"][0]["parameters"]["barmanObjectName"] != store, "a timeline of its own"


def test_the_runbooks_broker_permissions_are_the_overlays(rendered):
    rows = re.findall(r"^\| (\w+) \| `(.+?)` \| `(.+?)` \| `(.+?)` \|$", RUNBOOK.read_text(), re.MULTILINE)
    documented = {
        row[0]: dict(zip(("configure", "write", "read"), (c.replace("\\|", "|") for c in row[1:]), strict=True))
        for row in rows
    }
    assert documented == permissions(rendered)


def test_the_broker_and_the_databases_are_scraped_for_the_alerts_that_read_their_metrics(rendered):
    monitors = named(rendered["prod"], "PodMonitor")
    broker = monitors["beat-rabbitmq"]
    assert broker["metadata"]["namespace"] == "beat-data"
    assert broker["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "beat-rabbitmq"}
    assert [e["port"] for e in broker["spec"]["podMetricsEndpoints"]] == ["prometheus"]  # 15692, always there
    [rule] = of_kind(rendered["prod"], "PrometheusRule")
    reading = [r["alert"] for g in rule["spec"]["groups"] for r in g["rules"] if "rabbitmq_queue" in r["expr"]]
    assert len(reading) >= 3  # alerts that exist only if the broker is scraped per queue
    [expression] = monitors["beat-postgresql"]["spec"]["selector"]["matchExpressions"]
    assert sorted(expression["values"]) == sorted(named(rendered["prod"], "Cluster"))
