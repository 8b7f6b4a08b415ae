"""Regenerate keda-scaledobject-v1alpha1.schema.json (the KEDA ScaledObject schema CI checks against).

Source: the PyPI package cloudcoil-models-keda (Apache-2.0), whose pydantic models are generated
from the ScaledObject CRD (scaledobjects.keda.sh, openAPIV3Schema) that KEDA publishes with each
release; version 2.16.1.0 corresponds to KEDA v2.16.1. Run it in a throw-away virtualenv, not in
the project's:

    python3.11 -m venv /tmp/keda-schema && /tmp/keda-schema/bin/pip install cloudcoil-models-keda==2.16.1.0
    /tmp/keda-schema/bin/python deploy/k8s/crds/generate_keda_schema.py

Two changes make it as strict as the API server with field validation "Strict": apiVersion and
kind are fixed and required, and an object accepts only the fields the CRD declares
(additionalProperties: false wherever the CRD lists properties and allows nothing else).
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

from cloudcoil.models.keda.v1alpha1 import ScaledObject
from strict_schema import custom_resource_schema  # beside this script

OUTPUT = Path(__file__).with_name("keda-scaledobject-v1alpha1.schema.json")


def main() -> None:
    comment = (
        f"KEDA ScaledObject (keda.sh/v1alpha1), from cloudcoil-models-keda {version('cloudcoil-models-keda')} "
        "(generated from KEDA's published CRD). Regenerate with generate_keda_schema.py."
    )
    schema = custom_resource_schema(ScaledObject, "keda.sh/v1alpha1", "ScaledObject", comment)
    OUTPUT.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
