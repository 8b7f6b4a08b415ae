"""Regenerate the JSON Schemas of the RabbitMQ and CloudNativePG custom resources CI checks against.

Source: the CustomResourceDefinitions vendored verbatim beside this script, one folder per operator
(versions, commits and licences in SOURCE.md), taken from each operator's release tag at
config/crd/bases/. Each CRD's openAPIV3Schema becomes a strict JSON Schema (strict_schema.from_crd:
no undeclared fields, like the API server's field validation "Strict") written next to it as
<kind>-<version>.schema.json; the tests read those, since parsing the CRDs' YAML takes seconds.

    .venv/bin/python deploy/k8s/crds/generate_operator_schemas.py

To move to a newer operator: replace its folder's *.yaml with the release's, update SOURCE.md, rerun.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from strict_schema import from_crd  # beside this script

HERE = Path(__file__).parent
OPERATORS = (
    "rabbitmq-cluster-operator",
    "rabbitmq-messaging-topology-operator",
    "cloudnative-pg",
    "plugin-barman-cloud",
)


def main() -> None:
    for operator in OPERATORS:
        for source in sorted((HERE / operator).glob("*.yaml")):
            crd = yaml.load(source.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            for version in (v["name"] for v in crd["spec"]["versions"] if v.get("served")):
                schema = from_crd(crd, version)
                schema["$comment"] = (
                    f"{operator}/{source.name} ({version}), made strict by generate_operator_schemas.py"
                )
                output = HERE / operator / f"{crd['spec']['names']['kind'].lower()}-{version}.schema.json"
                output.write_text(json.dumps(schema, indent=None, sort_keys=True, separators=(",", ":")) + "\n")
                print(f"wrote {output.relative_to(HERE)}")


if __name__ == "__main__":
    main()
