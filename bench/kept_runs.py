"""Metrics of manabi's benchmark runs, read from their run folders (not committed) and from the
copies of their metrics.json that the bench scripts commit (bench/results/<kind>_manabi/).

Only the standard library is used.
"""

import json
from pathlib import Path


def metrics_of(runs: Path, kept: Path, name_glob: str) -> dict:
    """Run name -> metrics for the runs matching `name_glob`; a run folder under `runs` wins
    over its kept copy `kept/<name>.json`."""
    found = {p.stem: p for p in kept.glob(f"{name_glob}.json")}
    found.update({m.parent.name: m for m in runs.glob(f"{name_glob}/metrics.json")})
    return {name: json.loads(p.read_text()) for name, p in found.items()}
