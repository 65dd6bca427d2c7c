"""Checks OpenLineage RunEvents with the official client, openlineage-python.

Usage: python3 check_openlineage.py EVENTS.json

Each event (a JSON list of RunEvents) is rebuilt from the client's own models, whose
validators check the run id (a UUID), the event time (ISO 8601 with a time), the producer and
schema URIs; then the client serialises it again, and the result must equal the input: a field
the spec does not define, a missing required one, or a facet of another schema version shows as
a difference. Exits 1 naming the first event and field that differ.
"""

import json
import sys

from openlineage.client.generated.base import EventType
from openlineage.client.event_v2 import (
    InputDataset,
    Job,
    OutputDataset,
    Run,
    RunEvent,
)
from openlineage.client.facet_v2 import schema_dataset
from openlineage.client.serde import Serde


def facets(raw):
    out = {}
    for key, facet in (raw or {}).items():
        if key != "schema":
            raise ValueError(f"facet {key!r} is not one this check knows")
        fields = [
            schema_dataset.SchemaDatasetFacetFields(
                name=f["name"], type=f.get("type"), description=f.get("description")
            )
            for f in facet["fields"]
        ]
        out[key] = schema_dataset.SchemaDatasetFacet(
            fields=fields, producer=facet["_producer"]
        )
    return out


def dataset(cls, raw):
    return cls(namespace=raw["namespace"], name=raw["name"], facets=facets(raw.get("facets")))


def rebuild(raw):
    return RunEvent(
        eventType=EventType(raw["eventType"]),
        eventTime=raw["eventTime"],
        run=Run(runId=raw["run"]["runId"]),
        job=Job(namespace=raw["job"]["namespace"], name=raw["job"]["name"]),
        inputs=[dataset(InputDataset, d) for d in raw.get("inputs", [])],
        outputs=[dataset(OutputDataset, d) for d in raw.get("outputs", [])],
        producer=raw["producer"],
    )


def without_empty(v):
    """The client writes absent optional maps and lists as `{}` and `[]`."""
    if isinstance(v, dict):
        return {k: without_empty(x) for k, x in v.items() if x != {} and x != []}
    if isinstance(v, list):
        return [without_empty(x) for x in v]
    return v


def first_difference(a, b, path="$"):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: {'missing in ours' if k not in b else 'not in the spec'}"
            d = first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(b)} items, the client keeps {len(a)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: ours {b!r}, the client's {a!r}"


def main():
    with open(sys.argv[1]) as f:
        events = json.load(f)
    if not isinstance(events, list) or not events:
        print("expected a non-empty JSON list of RunEvents", file=sys.stderr)
        return 1
    for i, raw in enumerate(events):
        try:
            event = rebuild(raw)
        except (KeyError, TypeError, ValueError) as e:
            print(f"event {i}: not a valid RunEvent: {e!r}", file=sys.stderr)
            return 1
        diff = first_difference(without_empty(Serde.to_dict(event)), without_empty(raw))
        if diff:
            print(f"event {i}: {diff}", file=sys.stderr)
            return 1
    print(f"{len(events)} RunEvents valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
