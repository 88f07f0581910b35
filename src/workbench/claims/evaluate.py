"""Verdicts on registered claims from a pilot's posterior (or published arm-level counts).

Each reading of a claim names a quantity q, computed from posterior draws of
the arms' means (c control, t treatment; ``transform: complement`` uses 1 - c
and 1 - t)::

    ratio               q = t / c
    relative_lift       q = t / c - 1
    difference          q = t - c
    level               q = t, or for a share (top-2-box, a binary metric)
                        q ~ Beta(a + k, b + n - k) with the reading's prior Beta(a, b)
    between_segment_sd  q = tau, the between-segment sd of the effect in the
                        normal-normal segment model (workbench.effects.pooling)

``probability`` = P(low <= q <= high, and every ``also`` condition); the
reading is ``supported`` when it is at least ``Thresholds.support``,
``contradicted`` when at most ``Thresholds.contradict``, else
``inconclusive``. A claim whose horizon exceeds what the pilot measures is
"not testable at this horizon" (the verdict at the pilot's horizon is shown
beside it, labelled); a claim about a post-treatment subgroup is "not a
causal contrast" with its descriptive figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as st

from workbench.claims.register import CONDITIONS, Claim, Reading
from workbench.claims.sizing import accounts_to_settle
from workbench.defaults import DEFAULT_LEVEL, DEFAULT_SEED, THRESHOLDS, Thresholds
from workbench.effects.compare import interval
from workbench.effects.pooling import GRID, _given_tau  # the tau posterior of the segment model itself
from workbench.metrics.catalogue import CATALOGUE

NOT_AT_HORIZON = "not testable at this horizon"
NOT_CAUSAL = "not a causal contrast"
MIXED = "depends on the reading"


def _verdict(p: float, th: Thresholds) -> str:
    return "supported" if p >= th.support else "contradicted" if p <= th.contradict else "inconclusive"


def _inside(q: np.ndarray, lo, hi) -> np.ndarray:
    ok = np.isfinite(q)
    if lo is not None:
        ok &= q >= lo
    if hi is not None:
        ok &= q <= hi
    return ok


def _contrast(scale: str, c: np.ndarray, t: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return {"ratio": t / c, "relative_lift": t / c - 1, "difference": t - c}[scale]


def _row(stats, metric: str, arm: str) -> dict | None:
    if stats is None or "metric" not in stats:
        return None
    rows = stats[(stats["metric"] == metric) & (stats["arm"] == arm)]
    return rows.iloc[0].to_dict() if len(rows) else None


def _n(stats, metric: str, arms: list[str]) -> float:
    ns = [r["n"] for a in arms if (r := _row(stats, metric, a)) is not None and pd.notna(r.get("n"))]
    return float(min(ns)) if ns else 0.0


def _level_draws(r: Reading, row: dict | None, rng, size: int, t: np.ndarray | None) -> np.ndarray | None:
    """Level claims: a Beta posterior on the share claimed (not a Dirichlet over every category)."""
    fam = CATALOGUE[r.metric].family if r.metric in CATALOGUE else None
    if r.quantity == "top2":
        if row is None or not {"cat_4", "cat_5"} <= set(row) or pd.isna(row.get("cat_5")):
            return None
        k, n = float(row["cat_4"]) + float(row["cat_5"]), float(row["n"])
        return rng.beta(r.prior[0] + k, r.prior[1] + n - k, size)
    if fam == "binary" and row is not None and pd.notna(row.get("successes")):
        k, n = float(row["successes"]), float(row["n"])
        return rng.beta(r.prior[0] + k, r.prior[1] + n - k, size)
    return t


def _tau_draws(doc: dict | None, metric: str, rng, size: int) -> np.ndarray | None:
    """Draws of the between-segment sd tau of the difference, from the exact per-segment effects.

    The same model as the segment pooling of the results (half-normal prior on
    tau with the scale :func:`workbench.effects.pooling.pool` uses).
    """
    segs = ((doc or {}).get("metrics", {}).get(metric) or {}).get("segments") or {}
    z = st.norm.ppf((1 + (doc or {}).get("level", DEFAULT_LEVEL)) / 2)
    y, s = [], []
    for seg in segs.values():
        d = (seg.get("effect") or {}).get("difference") if not seg.get("suppressed") else None
        if d and d.get("mean") is not None and d["interval"][0] is not None and (seg.get("diagnostics") or {}).get("ok"):
            width = (d["interval"][1] - d["interval"][0]) / (2 * z)
            if width > 0:
                y.append(d["mean"])
                s.append(width)
    if len(y) < 2:
        return None
    y, s = np.asarray(y), np.asarray(s)
    fixed = float(np.sum(y / s**2) / np.sum(1 / s**2))
    scale = max(float(np.median(s)), abs(fixed))
    grid = np.linspace(0.0, 8 * scale, GRID)
    _, _, loglik = _given_tau(y, s, grid)
    logpost = loglik + st.halfnorm.logpdf(grid, scale=scale)
    w = np.exp(logpost - logpost.max())
    step = grid[1] - grid[0]
    return rng.choice(grid, size=size, p=w / w.sum()) + rng.uniform(-step / 2, step / 2, size).clip(min=0)


def _arithmetic(r: Reading, c_mean: float) -> dict:
    """Can the claimed range happen at all? A share cannot exceed 1 (five times 30% is not a rate)."""
    m = CATALOGUE.get(r.metric)
    if m is None or m.family not in ("binary", "time-to-event") or r.scale not in ("ratio", "relative_lift", "difference"):
        return {"feasible": True}
    if c_mean <= 0 or r.transform == "complement":
        return {"feasible": True}
    top = {"ratio": 1 / c_mean, "relative_lift": 1 / c_mean - 1, "difference": 1 - c_mean}[r.scale]
    lo = r.range[0]
    if lo is not None and lo > top:
        return {
            "feasible": False,
            "max_possible": top,
            "note": f"impossible at this baseline: the control share is {c_mean:.1%}, so the {r.scale.replace('_', ' ')} "
            f"cannot exceed {top:.3g} (a share cannot pass 100%)",
        }
    return {"feasible": True, "max_possible": top}


def pilot_horizon(metric: str, windows: dict | None, doc: dict | None = None, follow_up_days: int | None = None) -> int | None:
    """Days after assignment at which the pilot measures ``metric`` (None: unknown, e.g. published counts).

    Retention is measured at ``retention_days`` but never past the longest
    follow-up; a results document may state its own horizon (``horizon_days``).
    """
    if not windows:
        return None
    m = ((doc or {}).get("metrics", {}).get(metric) or {}) if doc else {}
    if m.get("horizon_days"):
        return int(m["horizon_days"])
    if metric == "retention":
        days = windows.get("retention_days")
        return min(days, follow_up_days) if days and follow_up_days is not None else days
    return windows.get("outcome_days")


def judge_reading(r: Reading, ctx: dict) -> dict:
    """One reading against the draws: probability, verdict, estimate, interval and sizing."""
    rec = {"id": r.id, "reading": r.note, "metric": r.metric, "scale": r.scale, "range": list(r.range), "transform": r.transform}
    draws, stats, control, treatment, th, level = (ctx[k] for k in ("draws", "stats", "control", "treatment", "th", "level"))
    rng = np.random.default_rng([ctx["seed"], sum(map(ord, r.id))])
    d = draws.get(r.metric, {})
    if r.scale == "between_segment_sd":
        q = _tau_draws(ctx["doc"], r.metric, rng, 4000)
        if q is None:
            return rec | {
                "verdict": "not testable",
                "probability": None,
                "reason": "needs the segment model: a pilot with two or more segments",
            }
        n = 0.0
    else:
        if treatment not in d or (r.scale != "level" and control not in d):
            rows = stats is not None and "metric" in stats and r.metric in set(stats["metric"])
            why = (
                f"no eligible account for {r.metric} yet (its window ends after observed_until)"
                if rows
                else f"metric {r.metric!r} is not in the data"
            )
            return rec | {"verdict": "not testable", "probability": None, "reason": why}
        t = np.asarray(d[treatment], dtype=float)
        c = np.asarray(d[control], dtype=float) if control in d else None
        if r.transform == "complement":
            t, c = 1 - t, (None if c is None else 1 - c)
        if r.scale == "level":
            q = _level_draws(r, _row(stats, r.metric, treatment), rng, len(t), t)
            if q is None:
                return rec | {
                    "verdict": "not testable",
                    "probability": None,
                    "reason": "the data has no category counts for top-2-box",
                }
            n = _n(stats, r.metric, [treatment])
        else:
            q = _contrast(r.scale, c, t)
            n = _n(stats, r.metric, [control, treatment])
            rec["arithmetic"] = _arithmetic(r, float(np.nanmean(np.asarray(d[control], dtype=float))))
    ok = _inside(q, *r.range)
    for cond in r.also:
        dc = draws.get(cond.metric, {})
        if control not in dc or treatment not in dc:
            return rec | {"verdict": "not testable", "probability": None, "reason": f"metric {cond.metric!r} is not in the data"}
        qc = _contrast(cond.scale, np.asarray(dc[control]), np.asarray(dc[treatment]))
        k = min(len(ok), len(qc))  # draws of different metrics are independent: paired by position
        ok = ok[:k] & _inside(qc[:k], *cond.range)
    p = float(np.mean(ok))
    qf = q[np.isfinite(q)]
    rec |= {"probability": p, "verdict": _verdict(p, th), "mean": float(np.mean(qf)), "median": float(np.median(qf))}
    rec |= {"interval": interval(qf, level), "level": level}
    if r.also:
        rec["also"] = [{"metric": x.metric, "scale": x.scale, "range": list(x.range), "note": x.note} for x in r.also]
    elif rec["verdict"] == "inconclusive" and n:
        rec["to_settle"] = accounts_to_settle(qf, *r.range, n, th, seed=ctx["seed"])
    return rec


def _agreement(readings: list[dict]) -> tuple[str, str]:
    verdicts = [x["verdict"] for x in readings]
    if len(set(verdicts)) == 1:
        return verdicts[0], ("every reading: " if len(readings) > 1 else "") + verdicts[0]
    by: dict[str, list[str]] = {}
    for x in readings:
        by.setdefault(x["verdict"], []).append(x["id"])
    return MIXED, "; ".join(f"{v} under {', '.join(ids)}" for v, ids in by.items())


def _descriptive(claim: Claim, subgroups, control: str, treatment: str, level: float, seed: int) -> dict:
    """The within-subgroup comparison, labelled descriptive (Beta(1, 1) posteriors of each arm's share)."""
    out = {"label": "descriptive, not causal", "subgroup": CONDITIONS[claim.condition]}
    if subgroups is None or not len(subgroups):
        return out | {"note": "the subgroup figures need the pilot's accounts (workbench claims PILOT)"}
    r = claim.readings[0]
    s = subgroups[(subgroups["condition"] == claim.condition) & (subgroups["metric"] == r.metric)].set_index("arm")
    if control not in s.index or treatment not in s.index:
        return out | {"note": f"no eligible account in the subgroup for {r.metric}"}
    rng = np.random.default_rng(seed)
    arm = {a: (int(s.loc[a, "n"]), int(s.loc[a, "successes"])) for a in (control, treatment)}
    c, t = (rng.beta(1 + k, 1 + n - k, 4000) for n, k in (arm[control], arm[treatment]))
    if r.transform == "complement":
        c, t = 1 - c, 1 - t
    q = _contrast(r.scale, c, t) if r.scale in ("ratio", "relative_lift", "difference") else t
    share = {a: (k / n if n else None) for a, (n, k) in arm.items()}
    return out | {
        "metric": r.metric,
        "scale": r.scale,
        "n": {a: n for a, (n, _) in arm.items()},
        "share": share,
        "mean": float(np.nanmean(q)),
        "interval": interval(q[np.isfinite(q)], level),
        "level": level,
        "probability_in_range": float(np.mean(_inside(q, *r.range))),
    }


def evaluate(
    claims: list[Claim],
    draws: dict,
    stats,
    control: str,
    treatment: str,
    level: float = DEFAULT_LEVEL,
    windows: dict | None = None,
    seed: int = DEFAULT_SEED,
    *,
    doc: dict | None = None,
    subgroups: pd.DataFrame | None = None,
    follow_up_days: int | None = None,
    thresholds: Thresholds | None = None,
) -> list[dict]:
    """Judge every reading of every claim; ``draws[metric][arm]`` are posterior draws of the arms' means.

    Parameters
    ----------
    doc : the results document (segment model for heterogeneity claims, guardrail
        verdicts shown beside, plan-locked thresholds).
    subgroups : :func:`workbench.claims.subgroups.subgroup_stats` for conditioned claims.
    follow_up_days : the longest follow-up of the pilot (retention is not read past it).
    thresholds : the support / contradict bars (default: the document's, else ``THRESHOLDS``).
    """
    th = thresholds or (Thresholds.from_mapping(doc["thresholds"]) if doc and doc.get("thresholds") else THRESHOLDS)
    ctx = {"draws": draws, "stats": stats, "control": control, "treatment": treatment, "th": th, "level": level}
    ctx |= {"seed": seed, "doc": doc}
    out = []
    for claim in claims:
        readings = [judge_reading(r, ctx) for r in claim.readings]
        first = readings[0]
        rec = {
            "id": claim.id,
            "text": claim.text,
            "source": claim.source,
            "direction": claim.direction,
            "population": claim.condition or claim.population,
            "reading": claim.reading_text,
            "note": claim.reading_text,
            "metric": first["metric"],
            "scale": first["scale"],
            "range": first["range"],
            "readings": readings,
        }
        days = [pilot_horizon(r.metric, windows, doc, follow_up_days) for r in claim.readings]
        have = min((x for x in days if x), default=None)
        rec["horizon"] = {"claim_days": claim.horizon_days, "pilot_days": have}
        if claim.horizon_days and have and claim.horizon_days > have:
            rec["horizon"]["note"] = (
                f"the claim speaks of {claim.horizon_days} days; the pilot measures {have} days: "
                f"the figures beside are at {have} days, not the claim's horizon"
            )
            rec["at_pilot_horizon"] = {"days": have, "readings": readings}
            rec["readings"] = [{**x, "verdict": NOT_AT_HORIZON} for x in readings]
        elif claim.horizon_days and have and claim.horizon_days != have:
            rec["horizon"]["note"] = f"the claim speaks of {claim.horizon_days} days; the pilot measures {have} days"
        elif claim.horizon_days and windows is None:
            rec["horizon"]["note"] = f"the claim speaks of {claim.horizon_days} days; the counts do not state their horizon"
        elif not claim.horizon_days and have:
            rec["horizon"]["note"] = f"the claim states no horizon; judged at the pilot's {have} days"
        if rec["horizon"].get("note"):
            rec["horizon_note"] = rec["horizon"]["note"]
        if claim.condition:
            rec["descriptive"] = _descriptive(claim, subgroups, control, treatment, level, seed)
            rec["causal_note"] = (
                f"conditioned on {CONDITIONS[claim.condition]}, an outcome of the treatment: the arms' subgroups "
                "hold different customers, so the comparison is descriptive"
            )
            rec["all_accounts"] = readings  # beside it, labelled: the same readings over every account
            rec["readings"] = [{**x, "verdict": NOT_CAUSAL} for x in rec["readings"]]
        verdict, agreement = _agreement(rec["readings"])
        rec["verdict"], rec["agreement"] = verdict, agreement
        judged = rec["verdict"] not in (NOT_AT_HORIZON, NOT_CAUSAL)
        for k in ("probability", "mean", "median", "interval", "level", "arithmetic", "to_settle", "reason"):
            if k in first and (judged or k in ("arithmetic", "reason")):
                rec[k] = first[k]
        rec.setdefault("probability", None)
        rec.setdefault("mean", None)
        rec.setdefault("interval", [None, None])
        if doc:
            names = {r.metric for r in claim.readings} | {x.metric for r in claim.readings for x in r.also}
            rec["beside"] = {
                m: (doc["metrics"][m].get("decision") or {}).get("verdict") for m in sorted(names) if m in doc.get("metrics", {})
            }
        out.append(rec)
    return out
