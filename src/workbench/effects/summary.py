"""Arm-level counts from a publication, as sufficient statistics for the engine.

``workbench analyze-summary FILE.csv --control A --treatment B`` reads one row
per metric and arm: ``metric, arm, n`` plus either ``successes`` (binary), or
``mean, sd`` (continuous), or ``exposure, events`` (rates; ``n`` optional), or
``sum, sum_sq, denom, denom_sq, cross`` (a ratio of totals sum(y) / sum(x), by
the delta method: gbstats' RatioStatistic), and optionally:

- ``sd`` or ``variance`` beside ``exposure, events``: the per-unit (per ``n``)
  standard deviation or variance of the counts, giving the dispersion
  ``phi = variance / (events / n)`` (quasi-Poisson); without ``n`` the unit is
  one unit of exposure;
- ``cov_sum, cov_sum_sq, cov_cross`` (and ``cov_cross_denom`` for ratios): sums
  of a pre-period covariate c, c^2, c y (c x) over the ``n`` units, for CUPED
  (gbstats' RegressionAdjustedStatistic);
- ``allocation``: the arm's planned share or weight, for the sample-ratio
  check (:func:`srm`);
- ``higher_is_better`` and ``design_effect`` (>= 1, for clustered designs).

Every problem is one line naming the row, column and rule.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from scipy import stats as st

from workbench.checks import SRM_ALPHA
from workbench.errors import SummaryError

REQUIRED = ("metric", "arm")
# Checked in this order: a ratio row may also carry sum columns, a count row an sd.
KINDS = {
    "ratio": ("sum", "sum_sq", "denom", "denom_sq", "cross"),
    "count": ("exposure", "events"),
    "binary": ("successes",),
    "continuous": ("mean", "sd"),
}
COVARIATE = ("cov_sum", "cov_sum_sq", "cov_cross")


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
            problems.append(
                f"{where}: needs successes, or mean and sd, or exposure and events, or sum, sum_sq, denom, denom_sq, cross"
            )
            continue
        vals = {c: _num(r.get(c)) for c in ("n", *KINDS[kind])}
        bad = [c for c in KINDS[kind] if vals[c] is None] + (["n"] if kind != "count" and vals["n"] is None else [])
        bad += [c for c in ("sd", "variance") if kind == "count" and str(r.get(c, "")).strip() and _num(r.get(c)) is None]
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
        elif kind == "ratio":
            if not (n >= 2 and vals["denom"] > 0):
                problems.append(f"{where}: n, denom: must satisfy n >= 2 and denom > 0")
                continue
            row.update(n=n, accounts=n, mean=vals["sum"] / vals["denom"], **{c: vals[c] for c in KINDS["ratio"]})
        else:
            if not (vals["exposure"] > 0 and vals["events"] >= 0):
                problems.append(f"{where}: exposure, events: must satisfy exposure > 0 and events >= 0")
                continue
            # Rates per unit of exposure: the exposure plays the role of n.
            row.update(n=vals["exposure"], accounts=n, sum=vals["events"], mean=vals["events"] / vals["exposure"])
            sd, var = _num(r.get("sd")), _num(r.get("variance"))
            var = var if var is not None else (sd * sd if sd is not None else None)
            if var is not None:
                units = n if n else vals["exposure"]
                if var < 0 or vals["events"] <= 0:
                    problems.append(f"{where}: sd/variance: needs events > 0 and a variance >= 0")
                    continue
                row["dispersion"] = var / (vals["events"] / units)  # phi = variance / mean per unit
        if kind in ("binary", "continuous", "ratio") and any(str(r.get(c, "")).strip() for c in COVARIATE):
            cov = {c: _num(r.get(c)) for c in (*COVARIATE, *(("cov_cross_denom",) if kind == "ratio" else ()))}
            missing = [c for c, v in cov.items() if v is None]
            if missing:
                problems.append(f"{where}: column(s) {', '.join(missing)}: covariate sums need all of them, as numbers")
                continue
            if kind == "binary":
                row["sum_sq"] = row["successes"]  # y^2 = y for a 0/1 outcome
            row.update(cov_n=n, **cov)
        if str(r.get("allocation", "")).strip():
            a = _num(r["allocation"])
            if a is None or a <= 0:
                problems.append(f"{where}: allocation: must be a positive number (share or weight)")
            else:
                row["allocation"] = a
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


def srm(stats: pd.DataFrame, arms: list[str]) -> dict | None:
    """Sample-ratio check from the units per arm and the planned allocation (the ``allocation`` column).

    ``X^2 = sum_a (O_a - E_a)^2 / E_a`` with ``O_a`` the arm's units (the largest
    ``accounts`` over its rows: every metric is measured on the same
    assignment) and ``E_a = N w_a / sum w``; df = arms - 1; ``fail`` when
    p < ``SRM_ALPHA`` (as for a pilot's own check). ``None`` without allocations.
    """
    if "allocation" not in stats or stats["allocation"].isna().all():
        return None
    sub = stats[stats["arm"].isin(arms)]
    w = sub.groupby("arm")["allocation"].max()
    units = sub.groupby("arm")["accounts"].max()
    if set(w.dropna().index) != set(arms) or units.isna().any():
        return {"status": "not run", "reason": "give allocation and n for every arm"}
    obs = units.reindex(arms).astype(float).to_numpy()
    exp = obs.sum() * w.reindex(arms).to_numpy() / w.sum()
    chi2, p = st.chisquare(obs, exp)
    return {
        "observed": dict(zip(arms, obs.tolist(), strict=True)),
        "expected": dict(zip(arms, exp.round(2).tolist(), strict=True)),
        "chi2": float(chi2),
        "p_value": float(p),
        "alpha": SRM_ALPHA,
        "status": "fail" if p < SRM_ALPHA else "pass",
    }
