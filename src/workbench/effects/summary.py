"""Arm-level counts from a publication, as sufficient statistics for the engine.

``workbench analyze-summary FILE.csv --control A --treatment B`` reads one row
per metric and arm: ``metric, arm, n`` plus either ``successes`` (binary), or
``mean, sd`` (continuous), or ``exposure, events`` (rates; ``n`` optional), and
optionally ``higher_is_better`` and ``design_effect`` (>= 1, for clustered
designs). Every problem is one line naming the row, column and rule.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from workbench.errors import SummaryError

REQUIRED = ("metric", "arm")
KINDS = {"binary": ("successes",), "continuous": ("mean", "sd"), "count": ("exposure", "events")}


def _num(v) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _bool(v) -> bool | None:
    s = str(v).strip().lower()
    return True if s in ("true", "1", "yes", "t") else False if s in ("false", "0", "no", "f") else None


def read_summary(path: str | Path, control: str, treatment: str) -> tuple[pd.DataFrame, dict, dict]:
    """Parse the CSV into engine statistics; returns (stats, higher_is_better, design_effect)."""
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype="string", keep_default_na=False)
    except FileNotFoundError:
        raise SummaryError([f"{path.name}: (file): not found at {path}"]) from None
    except Exception as exc:
        raise SummaryError([f"{path.name}: (file): unreadable ({str(exc).splitlines()[0][:120]})"]) from None
    df.columns = [c.strip() for c in df.columns]
    problems = [f"{path.name}: column {c!r}: required column missing" for c in REQUIRED if c not in df.columns]
    if problems:
        raise SummaryError(problems)
    rows, hib, deff = [], {}, {}
    for i, r in enumerate(df.to_dict("records"), start=2):  # line 1 is the header
        where = f"{path.name}: line {i} ({r.get('metric')}, {r.get('arm')})"
        kind = next((k for k, cols in KINDS.items() if all(str(r.get(c, "")).strip() for c in cols)), None)
        if kind is None:
            problems.append(f"{where}: needs successes, or mean and sd, or exposure and events")
            continue
        vals = {c: _num(r.get(c)) for c in ("n", *KINDS[kind])}
        bad = [c for c in KINDS[kind] if vals[c] is None] + (["n"] if kind != "count" and vals["n"] is None else [])
        if bad:
            problems.append(f"{where}: column(s) {', '.join(bad)}: must be numbers")
            continue
        n = vals["n"]
        row = {"metric": r["metric"].strip(), "arm": r["arm"].strip(), "family": kind, "excluded": 0}
        if kind == "binary":
            if not (n > 0 and 0 <= vals["successes"] <= n):
                problems.append(f"{where}: successes: must satisfy 0 <= successes <= n and n > 0")
                continue
            row.update(n=n, accounts=n, successes=vals["successes"], sum=vals["successes"], mean=vals["successes"] / n)
        elif kind == "continuous":
            if not (n >= 2 and vals["sd"] >= 0):
                problems.append(f"{where}: n, sd: must satisfy n >= 2 and sd >= 0")
                continue
            m, sd = vals["mean"], vals["sd"]
            row.update(n=n, accounts=n, sum=m * n, sum_sq=(n - 1) * sd * sd + n * m * m, mean=m)
        else:
            if not (vals["exposure"] > 0 and vals["events"] >= 0):
                problems.append(f"{where}: exposure, events: must satisfy exposure > 0 and events >= 0")
                continue
            # Rates per unit of exposure: the exposure plays the role of n.
            row.update(n=vals["exposure"], accounts=n, sum=vals["events"], mean=vals["events"] / vals["exposure"])
        if str(r.get("higher_is_better", "")).strip():
            b = _bool(r["higher_is_better"])
            if b is None:
                problems.append(f"{where}: higher_is_better: must be true or false")
            else:
                hib[row["metric"]] = b
        if str(r.get("design_effect", "")).strip():
            d = _num(r["design_effect"])
            if d is None or d < 1:
                problems.append(f"{where}: design_effect: must be a number >= 1")
            else:
                deff[row["metric"]] = d
        rows.append(row)
    stats = pd.DataFrame(rows)
    for m in stats["metric"].unique() if len(stats) else []:
        arms = set(stats.loc[stats["metric"] == m, "arm"])
        for a in (control, treatment):
            if a not in arms:
                problems.append(f"{path.name}: metric {m!r}: no row for arm {a!r}")
        fams = set(stats.loc[stats["metric"] == m, "family"])
        if len(fams) > 1:
            problems.append(f"{path.name}: metric {m!r}: arms given in different forms ({', '.join(sorted(fams))})")
    if not rows and not problems:
        problems.append(f"{path.name}: no data rows")
    if problems:
        raise SummaryError(problems)
    return stats, hib, deff
