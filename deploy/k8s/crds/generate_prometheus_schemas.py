"""Regenerate the Prometheus Operator schemas CI checks against (PrometheusRule, PodMonitor).

Source: the PyPI package cloudcoil-models-prometheus-operator (Apache-2.0), whose pydantic models are
generated from the CustomResourceDefinitions (prometheusrules/podmonitors.monitoring.coreos.com,
openAPIV3Schema) that the Prometheus Operator publishes with each release; version 0.80.1.0
corresponds to Prometheus Operator v0.80.1. Run it in a throw-away virtualenv, not in the project's:

    python3.11 -m venv /tmp/po-schema && /tmp/po-schema/bin/pip install cloudcoil-models-prometheus-operator==0.80.1.0
    /tmp/po-schema/bin/python deploy/k8s/crds/generate_prometheus_schemas.py

Made as strict as the API server with field validation "Strict", as generate_keda_schema.py does, and
its RE2 patterns written so Python's re reads them the same.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

from cloudcoil.models.prometheus_operator.v1 import PodMonitor, PrometheusRule
from strict_schema import custom_resource_schema  # beside this script

HERE = Path(__file__).parent
API_VERSION = "monitoring.coreos.com/v1"


def write(model: Any, kind: str) -> None:
    package = "cloudcoil-models-prometheus-operator"
    comment = (
        f"Prometheus Operator {kind} ({API_VERSION}), from {package} {version(package)} "
        "(generated from the operator's published CRD). Regenerate with generate_prometheus_schemas.py."
    )
    schema = custom_resource_schema(model, API_VERSION, kind, comment)
    output = HERE / f"prometheus-{kind.lower()}-v1.schema.json"
    output.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
    print(f"wrote {output}")


def main() -> None:
    write(PrometheusRule, "PrometheusRule")
    write(PodMonitor, "PodMonitor")


if __name__ == "__main__":
    main()
