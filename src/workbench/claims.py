"""The claims lab: registered industry claims judged against a pilot's posterior.

A claim names a metric, a scale and a range. Its quantity q is computed from
the posterior draws of the arms' means (c control, t treatment)::

    ratio          q = t / c
    relative_lift  q = t / c - 1
    difference     q = t - c
    level          q = t            (or a named quantity of the treatment arm, e.g. csat top2)

``probability`` = P(low <= q <= high) (an open end is null); the verdict is
``supported`` when it is at least ``SUPPORT`` (0.95), ``contradicted`` when at
most ``CONTRADICT`` (0.05), else ``inconclusive``, with the accounts per arm it
would take to settle it.
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from workbench.contract.config import ConfigError
from workbench.defaults import DEFAULT_SEED
from workbench.effects.compare import interval
from workbench.metrics.catalogue import CATALOGUE, SCALES
from workbench.models import conjugate

SUPPORT = 0.95
CONTRADICT = 0.05


class Claim(BaseModel):
    """One registered claim (the keys of ``workbench/data/claims.yml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    text: str
    source: str = ""
    metric: str
    scale: Literal["ratio", "relative_lift", "difference", "level"]
    range: tuple[float | None, float | None]
    direction: Literal["increase", "decrease"] = "increase"
    horizon_days: int | None = Field(None, gt=0)
    quantity: Literal["mean", "top2"] | None = None
    note: str = ""

    @model_validator(mode="after")
    def _range(self) -> Claim:
        lo, hi = self.range
        if lo is None and hi is None:
            raise ValueError("range needs at least one end")
        if lo is not None and hi is not None and lo > hi:
            raise ValueError("range low must be <= high")
        return self


def load_register(path: str | Path | None = None) -> list[Claim]:
    """The shipped register, or a user's file with the same keys; ConfigError lists every problem."""
    if path is None:
        text = resources.files("workbench").joinpath("data/claims.yml").read_text(encoding="utf-8")
        name = "claims.yml"
    else:
        name = Path(path).name
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError([f"{name}: (file): cannot read ({exc.strerror or exc})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ConfigError([f"{name}: (file): not valid YAML"]) from None
    items = data.get("claims") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ConfigError([f"{name}: (top level): expected a list of claims (or a mapping with key 'claims')"])
    out, problems = [], []
    for i, item in enumerate(items):
        try:
            out.append(Claim.model_validate(item))
        except ValidationError as err:
            cid = item.get("id", f"#{i + 1}") if isinstance(item, dict) else f"#{i + 1}"
            for e in err.errors():
                loc = ".".join(str(p) for p in e["loc"]) or "(claim)"
                problems.append(f"{name}: claim {cid}: {loc}: {e['msg'].removeprefix('Value error, ')}")
    ids = [c.id for c in out]
    problems += [f"{name}: claim {d}: id: duplicated" for d in sorted({x for x in ids if ids.count(x) > 1})]
    if problems:
        raise ConfigError(problems)
    return out


def _quantity(claim: Claim, c: np.ndarray, t: np.ndarray, t_top2: np.ndarray | None) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if claim.scale == "ratio":
            return t / c
        if claim.scale == "relative_lift":
            return t / c - 1
        if claim.scale == "difference":
            return t - c
    if claim.quantity == "top2":
        if t_top2 is None:
            raise KeyError("top2")
        return t_top2
    return t


def _inside(q: np.ndarray, lo, hi) -> np.ndarray:
    ok = np.isfinite(q)
    if lo is not None:
        ok &= q >= lo
    if hi is not None:
        ok &= q <= hi
    return ok


def _arithmetic(claim: Claim, c_mean: float) -> dict:
    """Can the claimed range happen at all? A share cannot exceed 1 (five times 30% is not a rate)."""
    m = CATALOGUE.get(claim.metric)
    if m is None or m.family not in ("binary", "time-to-event") or claim.scale == "level" or c_mean <= 0:
        return {"feasible": True}
    top = {"ratio": 1 / c_mean, "relative_lift": 1 / c_mean - 1, "difference": 1 - c_mean}[claim.scale]
    lo = claim.range[0]
    if lo is not None and lo > top:
        return {
            "feasible": False,
            "max_possible": top,
            "note": f"impossible at this baseline: the control share is {c_mean:.1%}, so the {claim.scale.replace('_', ' ')} "
            f"cannot exceed {top:.3g} (a share cannot pass 100%)",
        }
    return {"feasible": True, "max_possible": top}


def _accounts_to_settle(q: np.ndarray, lo, hi, n: float) -> dict:
    """Accounts per arm for the interval's half-width to clear the nearest range boundary.

    With the posterior sd s at n accounts per arm and the distance d of the
    posterior mean to the nearest boundary, the sd must shrink to d / 1.96;
    sd scales as 1 / sqrt(n), so n' = n (1.96 s / d)^2.
    """
    q = q[np.isfinite(q)]
    mu, sd = float(np.mean(q)), float(np.std(q))
    bounds = [b for b in (lo, hi) if b is not None]
    d = min(abs(mu - b) for b in bounds)
    if d < 1e-12 or sd == 0 or not n:
        return {"accounts_per_arm": None, "note": "the estimate sits on the claimed boundary: no pilot size settles it"}
    need = n * (1.96 * sd / d) ** 2
    return {"accounts_per_arm": math.ceil(need), "note": f"about {math.ceil(need):,} accounts per arm (now {int(n):,})"}


def evaluate(
    claims: list[Claim],
    draws: dict,
    stats,
    control: str,
    treatment: str,
    level: float = 0.95,
    windows: dict | None = None,
    seed: int = DEFAULT_SEED,
) -> list[dict]:
    """Judge each claim; ``draws[metric][arm]`` are posterior draws of the arms' means."""

    out = []
    for claim in claims:
        rec = {
            "id": claim.id,
            "text": claim.text,
            "source": claim.source,
            "metric": claim.metric,
            "scale": claim.scale,
            "range": list(claim.range),
            "direction": claim.direction,
        }
        d = draws.get(claim.metric, {})
        if control not in d or treatment not in d:
            rec.update(
                verdict="not testable",
                probability=None,
                mean=None,
                interval=[None, None],
                reason=(
                    f"no eligible account for {claim.metric} yet (its window ends after observed_until)"
                    if stats is not None and "metric" in stats and claim.metric in set(stats["metric"])
                    else f"metric {claim.metric!r} is not in the data"
                ),
            )
            out.append(rec)
            continue
        c, t = np.asarray(d[control]), np.asarray(d[treatment])
        top2 = None
        if claim.quantity == "top2" and stats is not None:
            row = stats[(stats["metric"] == claim.metric) & (stats["arm"] == treatment)]
            if len(row) and "cat_4" in row:
                rng = np.random.default_rng([seed, len(claim.id)])
                top2, _ = conjugate.ordinal(row.iloc[0].to_dict(), conjugate.DEFAULT_PRIORS, rng, len(t), SCALES["csat"], "top2")
        try:
            q = _quantity(claim, c, t, top2)
        except KeyError:
            rec.update(
                verdict="not testable",
                probability=None,
                mean=None,
                interval=[None, None],
                reason="the data has no category counts for top-2-box",
            )
            out.append(rec)
            continue
        p = float(np.mean(_inside(q, *claim.range)))
        verdict = "supported" if p >= SUPPORT else "contradicted" if p <= CONTRADICT else "inconclusive"
        qf = q[np.isfinite(q)]
        rec.update(
            probability=p,
            verdict=verdict,
            mean=float(np.mean(qf)),
            median=float(np.median(qf)),
            interval=interval(qf, level),
            level=level,
            arithmetic=_arithmetic(claim, float(np.mean(c))),
        )
        if verdict == "inconclusive":
            n = None
            if stats is not None:
                rows = stats[(stats["metric"] == claim.metric) & (stats["arm"].isin([control, treatment]))]
                n = float(rows["n"].min()) if len(rows) else None
            rec["to_settle"] = _accounts_to_settle(q, *claim.range, n or 0)
        if claim.horizon_days and windows:
            have = windows.get("retention_days") if claim.metric == "retention" else windows.get("outcome_days")
            if have and have != claim.horizon_days:
                rec["horizon_note"] = f"the claim speaks of {claim.horizon_days} days; the pilot measures {have} days"
        out.append(rec)
    return out
