"""The results document at the edge: canonical JSON bytes.

Inside the package results are built from typed pieces (:class:`~workbench.effects.decision.Decision`,
:class:`~workbench.effects.analyze.Analysis`); this module alone turns them into
the public JSON format of DESIGN.md: keys sorted, floats rounded to 10
significant digits, NaN and infinities as null, no time, path or run id, so
the same input and seed give the same bytes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

SCHEMA_VERSION = 1


def _clean(x):
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python, floats to 10 significant digits."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return None if not math.isfinite(x) else float(f"{x:.10g}")
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def to_json(doc: dict) -> str:
    """Canonical bytes: sorted keys, rounded floats, no NaN."""
    return json.dumps(_clean(doc), sort_keys=True, indent=2, allow_nan=False) + "\n"


def write_json(doc: dict, path: Path) -> None:
    """Write ``to_json(doc)`` whole or not at all (a temporary file renamed over the target)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(to_json(doc), encoding="utf-8")
    tmp.replace(path)
