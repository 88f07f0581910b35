"""The effect engine: sufficient statistics in, the results document out.

For each metric the family decides the model (``docs/models.md``): exact
conjugate posteriors where they exist, the hierarchical PyMC model when the
randomization is by agent, and large-sample posteriors for ratios and means.
Every model ends in draws of each arm's mean in the metric's unit, which
:mod:`workbench.effects.compare` turns into the effect summary. The document follows
the results format of DESIGN.md; it holds no time, path or run id, and its keys
are sorted, so the same input and seed give the same bytes.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.effects import compare as effects
from workbench.effects import cuped, frequentist
from workbench.metrics.catalogue import CATALOGUE, ORDINAL_QUANTITY, SCALES, score_weights
from workbench.models import conjugate

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Settings:
    """How to fit: interval level, draws, seed, MCMC budget, diagnostics thresholds."""

    level: float = 0.95
    draws: int = 4000  # independent draws for the conjugate posteriors
    seed: int = 0
    mcmc_draws: int = 2000  # hierarchical fits: see HierarchicalBinary.fit
    mcmc_tune: int = 2000
    mcmc_chains: int = 2
    smoke: bool = False  # lower diagnostics thresholds, labelled "smoke" in the output


@dataclass
class Design:
    """What the engine needs to know about the pilot (from pilot.yml, or given for summaries)."""

    control: str
    treatments: list[str]
    primary: str | None = None
    guardrails: dict | None = None  # metric -> {"margin", "threshold"}
    rope: dict | None = None
    priors: dict | None = None
    randomization: str = "account"
    retention_days: int = 180
    higher_is_better: dict | None = None  # overrides for summaries (metric -> bool)
    design_effect: dict | None = None  # given design effects for summaries (metric -> float >= 1)


def _rng(seed: int, metric: str) -> np.random.Generator:
    # One stream per metric, so adding a metric never shifts another's draws.
    return np.random.default_rng([seed, zlib.crc32(metric.encode())])


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


def _arm_rows(stats: pd.DataFrame, metric: str) -> dict[str, dict]:
    rows = stats[stats["metric"] == metric]
    return {r["arm"]: r for r in rows.to_dict("records")}


def _direction(metric: str, design: Design) -> bool | None:
    if design.higher_is_better and metric in design.higher_is_better:
        return design.higher_is_better[metric]
    return CATALOGUE[metric].higher_is_better if metric in CATALOGUE else True


def _design_effect(agent_stats: pd.DataFrame | None, metric: str, family: str) -> float:
    """Kish design effect of agent clustering, averaged over arms (1 without agent cells)."""
    if agent_stats is None:
        return 1.0
    cells = agent_stats[agent_stats["metric"] == metric]
    if cells.empty or cells["agent_id"].nunique() < 4:
        return 1.0
    y = "successes" if family in ("binary", "time-to-event") else "sum"
    if y not in cells or cells[y].isna().all():
        return 1.0
    deffs = [conjugate.icc_design_effect(g, y) for _, g in cells.groupby("arm")]
    return float(np.mean(deffs)) if deffs else 1.0


def _family(metric: str, row: dict) -> str:
    fam = row.get("family")
    if isinstance(fam, str) and fam:
        return fam
    return CATALOGUE[metric].family if metric in CATALOGUE else "binary"


def posterior(metric: str, row: dict, priors: dict, rng, settings: Settings, design: Design, deff: float):
    """Draws of one arm's mean and the model's name, chosen by the metric's family."""
    fam = _family(metric, row)
    d = settings.draws
    if fam == "binary":
        return (*conjugate.binary(row, priors, rng, d, deff), conjugate.MODELS["binary"])
    if fam == "time-to-event":
        if row.get("n", 0) and row["n"] >= 30:
            return (*conjugate.binary(row, priors, rng, d, deff), "beta_binomial_at_horizon")
        return (*conjugate.survival_at(row, priors, rng, d, design.retention_days, deff), "exponential_survival_censored")
    if fam == "count":
        return (*conjugate.count(row, priors, rng, d, deff), conjugate.MODELS["count"])
    if fam == "ordinal":
        cats, q = SCALES[metric], ORDINAL_QUANTITY[metric]
        return (*conjugate.ordinal(row, priors, rng, d, cats, q, deff), conjugate.MODELS["ordinal"])
    if fam == "ratio":
        return (*conjugate.ratio(row, priors, rng, d, deff), conjugate.MODELS["ratio"])
    return (*conjugate.continuous(row, priors, rng, d, deff), conjugate.MODELS["continuous"])


def _frequentist(metric: str, fam: str, c: dict, t: dict, level: float, agent_cells) -> dict:
    if fam == "binary" and "successes" not in c:
        c, t = dict(c, successes=c.get("sum")), dict(t, successes=t.get("sum"))
    if fam == "binary" or (fam == "time-to-event" and c.get("n", 0) >= 30):
        return frequentist.binary(c, t, level, agent_cells)
    if fam == "count":
        return frequentist.count(c, t, level)
    if fam == "ratio":
        return frequentist.ratio_of_totals(c, t, level)
    if fam == "ordinal":
        cats = SCALES[metric]
        return frequentist.ordinal_mean(c, t, level, cats, np.array(score_weights(cats, ORDINAL_QUANTITY[metric])))
    if fam == "continuous":
        return frequentist.means(c, t, level)
    return {"method": "none", "difference": None, "interval": [None, None], "p_value": None}


def _arm_block(r: dict, mean: float | None = None) -> dict:
    out = {"n": r.get("n"), "mean": r.get("mean") if mean is None else mean, "excluded": r.get("excluded"), "accounts": r.get("accounts")}
    for k in ("response_rate", "top2", "per_account", "reached_contacts"):
        if r.get(k) is not None and not (isinstance(r.get(k), float) and math.isnan(r[k])):
            out[k] = r[k]
    return out


def _role(metric: str, design: Design) -> str:
    if CATALOGUE.get(metric) is not None and CATALOGUE[metric].descriptive:
        return "descriptive"
    if metric == design.primary:
        return "primary"
    if design.guardrails and metric in design.guardrails:
        return "guardrail"
    return "exploratory"


def _verdict(role: str, res: dict, c_draws, t_draws, hib, design: Design, metric: str) -> dict:
    """Decision of DESIGN.md; a failed diagnostic or data check never yields a verdict."""
    if role == "descriptive":
        return {"verdict": "descriptive", "reason": "conditions on a post-treatment event; not causal"}
    if not res["diagnostics"]["ok"]:
        return {"verdict": "inconclusive", "reason": "model diagnostics failed: the effect is unreliable"}
    if role == "guardrail":
        g = design.guardrails[metric]
        margin, threshold = float(g.get("margin", 0.0)), float(g.get("threshold", 0.05))
        p = effects.prob_harm(c_draws, t_draws, higher_is_better=hib, margin=margin)
        return {"verdict": "fail" if p > threshold else "pass", "prob_harm": p, "margin": margin, "threshold": threshold}
    pb, pr = res["prob_better"], res["prob_rope"]
    if pr > 0.95:
        v = "equivalent"
    elif pb > 0.95:
        v = "better"
    elif pb < 0.05:
        v = "worse"
    else:
        v = "inconclusive"
    return {"verdict": v, "exploratory": role == "exploratory"}


def compare_metric(metric: str, c: dict, t: dict, design: Design, settings: Settings, priors: dict,
                   agent_cells: pd.DataFrame | None = None, hierarchical=None, draws_out: dict | None = None) -> dict:
    """Everything the results document says about one metric and one treatment arm.

    ``draws_out``, when given, receives the posterior draws of both arms' means
    (``draws_out[arm] = array``) for the claims lab.
    """
    fam = _family(metric, c)
    hib = _direction(metric, design)
    rng = _rng(settings.seed, f"{metric}:{t['arm']}")
    # Agents nested in arms inflate the variance of the difference; under account
    # randomization every agent serves both arms, so agent effects cancel in the
    # difference and a design effect would only widen intervals (measured: 99%
    # coverage of nominal 95% intervals on simulated pilots).
    deff = _design_effect(agent_cells, metric, fam) if design.randomization == "agent" else 1.0
    if design.design_effect and metric in design.design_effect:
        deff = float(design.design_effect[metric])
    if hierarchical is not None:
        cd, td = hierarchical.draws[c["arm"]], hierarchical.draws[t["arm"]]
        cp, tp = hierarchical.prior_draws.get(c["arm"]), hierarchical.prior_draws.get(t["arm"])
        model, diag = hierarchical.model, dict(hierarchical.diagnostics)
    else:
        cd, cp, model = posterior(metric, c, priors, rng, settings, design, deff)
        td, tp, _ = posterior(metric, t, priors, rng, settings, design, deff)
        small = min(c.get("n", 0) or 0, t.get("n", 0) or 0)
        approx = model in ("normal_mean_jeffreys", "ratio_of_totals_delta_normal")
        ok = bool(np.isfinite(cd).all() and np.isfinite(td).all()) and not (approx and small < 30)
        diag = {"r_hat_max": 1.0, "ess_bulk_min": float(settings.draws), "divergences": 0, "ok": ok,
                "method": "independent draws from the exact or large-sample posterior"}
        if approx and small < 30:
            diag["note"] = "fewer than 30 units in an arm: the large-sample posterior is not trusted"
    if draws_out is not None:
        draws_out[c["arm"]], draws_out[t["arm"]] = cd, td
    rope = (design.rope or {}).get(metric)
    res = effects.compare(cd, td, higher_is_better=hib, level=settings.level, rope=rope)
    res["control"] = _arm_block(c, float(np.mean(cd)) if hierarchical is not None else None)
    res["treatment"] = _arm_block(t, float(np.mean(td)) if hierarchical is not None else None)
    res["model"] = model
    res["family"] = fam
    res["design_effect"] = deff
    res["diagnostics"] = diag
    if cp is not None and tp is not None:
        pr = effects.compare(cp, tp, higher_is_better=hib, level=settings.level, rope=rope)
        res["prior"] = {"difference": pr["effect"]["difference"], "prob_better": pr["prob_better"]}
    else:
        res["prior"] = {"difference": None, "note": "flat (improper) prior: the posterior is the likelihood"}
    res["sensitivity"] = effects.sceptical(cd, td, higher_is_better=hib, level=settings.level)
    res["frequentist"] = _frequentist(metric, fam, c, t, settings.level, agent_cells)
    if metric == "recovery":
        hc, ht = conjugate.hurdle(c, priors, rng, settings.draws), conjugate.hurdle(t, priors, rng, settings.draws)
        if hc is not None and ht is not None:
            res["hurdle"] = {
                part: {"control": float(np.mean(hc[part])), "treatment": float(np.mean(ht[part])),
                       "difference": effects.compare(hc[part], ht[part], higher_is_better=True,
                                                     level=settings.level)["effect"]["difference"]}
                for part in ("pay_share", "amount_if_paid", "per_account")
            }
            res["hurdle"]["model"] = ("two-part: Beta-Binomial share paying x Student-t mean amount among payers; "
                                      "amount_if_paid is descriptive (it conditions on paying)")
    if fam in ("binary", "count", "continuous"):
        adj = cuped.adjusted_difference(c, t, settings.level)
        if adj is not None:
            res["adjusted"] = adj
    role = _role(metric, design)
    res["role"] = role
    res["decision"] = _verdict(role, res, cd, td, hib, design, metric)
    if metric in CATALOGUE and fam == CATALOGUE[metric].family:
        m = CATALOGUE[metric]
        res.update(unit=m.unit, label=m.label, higher_is_better=m.higher_is_better, descriptive=m.descriptive)
    return res


def analyze_stats(stats: pd.DataFrame, design: Design, settings: Settings = Settings(),
                  agent_stats: pd.DataFrame | None = None, segment_stats: pd.DataFrame | None = None,
                  hierarchical: dict | None = None, min_cell_size: int = 10, draws_out: dict | None = None) -> dict:
    """The results document from per-arm statistics (``workbench.metrics.stats.sufficient_stats``).

    ``draws_out`` (optional) receives ``draws_out[metric][arm]`` posterior draws.

    ``agent_stats`` (grouped by agent) gives the design effect and the
    cluster-robust cross-check; ``segment_stats`` the segment effects;
    ``hierarchical`` maps metric -> a fitted :class:`workbench.models.Fit`
    used instead of the conjugate posterior (agent randomization).
    """
    priors = conjugate.merge_priors((design.priors or {}).get("families") if design.priors else None)
    doc: dict = {"schema": SCHEMA_VERSION, "level": settings.level, "seed": settings.seed, "control": design.control,
                 "treatments": list(design.treatments), "smoke": settings.smoke, "metrics": {}}
    for metric in pd.unique(stats["metric"]):
        arms = _arm_rows(stats, metric)
        if design.control not in arms:
            continue
        cells = agent_stats[agent_stats["metric"] == metric] if agent_stats is not None and "agent_id" in agent_stats else None
        comps = {}
        for arm in design.treatments:
            if arm not in arms:
                continue
            sink = draws_out.setdefault(metric, {}) if draws_out is not None else None
            comps[arm] = compare_metric(metric, arms[design.control], arms[arm], design, settings, priors, cells,
                                        (hierarchical or {}).get(metric), sink)
            if segment_stats is not None and "segment" in segment_stats:
                comps[arm]["segments"] = segment_effects(segment_stats, metric, design, settings, priors, arm, min_cell_size)
        if not comps:
            continue
        first = comps[design.treatments[0]] if design.treatments[0] in comps else next(iter(comps.values()))
        entry = dict(first)
        if len(comps) > 1:
            entry["comparisons"] = comps
        doc["metrics"][metric] = entry
    doc["decision"] = overall_decision(doc, design)
    return doc


def segment_effects(seg: pd.DataFrame, metric: str, design: Design, settings: Settings, priors: dict,
                    arm: str, min_cell_size: int) -> dict:
    """Per-segment effects (exploratory, no pooling); cells under the minimum size are suppressed."""
    out = {}
    rows = seg[seg["metric"] == metric]
    for s, g in rows.groupby("segment", dropna=False):
        arms = {r["arm"]: r for r in g.to_dict("records")}
        name = "unknown" if pd.isna(s) else str(s)
        if design.control not in arms or arm not in arms:
            continue
        c, t = arms[design.control], arms[arm]
        if min(c.get("accounts", 0) or 0, t.get("accounts", 0) or 0) < min_cell_size:
            out[name] = {"suppressed": True, "reason": f"fewer than {min_cell_size} accounts in an arm"}
            continue
        r = compare_metric(metric, c, t, design, settings, priors)
        out[name] = {k: r[k] for k in ("control", "treatment", "effect", "prob_better", "diagnostics", "model")}
        out[name]["pooling"] = "none (exact per segment)"
    _pool_segments(out, _direction(metric, design), settings.level)
    return out


def _pool_segments(segs: dict, higher_is_better: bool | None, level: float) -> None:
    """Partial pooling of the segment differences: normal-normal random effects, exact on a tau grid.

    Each segment's difference d_j with standard error s_j (from its interval)
    is shrunk toward the across-segment mean by ``s_j^2 / (s_j^2 + tau^2)``,
    integrated over the posterior of the between-segment spread tau
    (:func:`workbench.design.meta.pool`). Adds ``pooled`` to each segment.
    """
    from scipy import stats

    from workbench.design.meta import pool

    z = stats.norm.ppf((1 + level) / 2)
    names, y, se = [], [], []
    for name, seg in segs.items():
        d = seg.get("effect", {}).get("difference") if not seg.get("suppressed") else None
        if d and d.get("mean") is not None and d["interval"][0] is not None and seg["diagnostics"].get("ok"):
            width = (d["interval"][1] - d["interval"][0]) / (2 * z)
            if width > 0:
                names.append(name)
                y.append(d["mean"])
                se.append(width)
    if len(y) < 2:
        return
    res = pool(y, se, names, higher_is_better is not False, level)
    sign = -1 if higher_is_better is False else 1
    for p in res["pilots"]:
        th = p["shrunken"]
        segs[p["pilot"]]["pooled"] = {
            "difference": {"mean": th["mean"], "interval": th["interval"]},
            "prob_better": float(stats.norm.cdf(sign * th["mean"] / th["sd"])) if th["sd"] > 0 else None,
            "between_segment_sd": res["tau"]["median"],
            "model": "partial pooling: normal-normal random effects across segments (exact on a tau grid)",
        }


def overall_decision(doc: dict, design: Design) -> dict:
    """Headline: the primary metric's verdict, the guardrails' pass/fail, the rest exploratory."""
    m = doc["metrics"]
    primary = m.get(design.primary) if design.primary else None
    guard = {k: v["decision"]["verdict"] for k, v in m.items() if v.get("role") == "guardrail"}
    out = {"primary_metric": design.primary, "guardrails": guard,
           "exploratory": sorted(k for k, v in m.items() if v.get("role") == "exploratory")}
    if primary is None:
        out["verdict"] = "inconclusive"
        out["reason"] = "the primary metric could not be computed"
    else:
        out["verdict"] = primary["decision"]["verdict"]
        if any(v == "fail" for v in guard.values()) and out["verdict"] == "better":
            out["verdict"] = "better, but a guardrail failed"
    return out


def design_from_config(cfg) -> Design:
    """The engine's view of a pilot.yml."""
    return Design(
        control=cfg.control,
        treatments=cfg.treatments,
        primary=cfg.primary_metric,
        guardrails={k: g.model_dump() for k, g in cfg.guardrails.items()},
        rope=dict(cfg.rope),
        priors=dict(cfg.priors),
        randomization=cfg.randomization,
        retention_days=cfg.windows.retention_days,
    )


def fit_hierarchical(agent_stats: pd.DataFrame, segment_agent: pd.DataFrame | None, design: Design,
                     settings: Settings, metrics: list[str]) -> dict:
    """Hierarchical logistic fits (agents partially pooled) for the binary metrics."""
    from workbench.models.binary import HierarchicalBinary

    fits = {}
    src = segment_agent if segment_agent is not None else agent_stats
    for metric in metrics:
        cells = src[src["metric"] == metric][[c for c in ("arm", "segment", "agent_id", "n", "successes") if c in src]]
        cells = cells[cells["n"] > 0]
        if cells.empty:
            continue
        model = HierarchicalBinary((design.priors or {}).get("hierarchical_binary"))
        fits[metric] = model.fit(cells, design.control, design.treatments, draws=settings.mcmc_draws,
                                 tune=settings.mcmc_tune, chains=settings.mcmc_chains, seed=settings.seed,
                                 smoke=settings.smoke)
    return fits


# Checks whose failure makes every causal comparison untrustworthy, and checks
# that only taint the metrics that rest on them.
GATING_CHECKS = ("srm", "balance", "contamination")
CHECK_METRICS = {"survey_response": ("csat", "nps")}


def apply_checks(doc: dict, tables: dict, cfg) -> None:
    """Run the pilot checks, record them, and let a failed one overrule the verdicts.

    A failed sample-ratio, balance or contamination check turns the headline
    into "inconclusive" (the randomization itself is in doubt); a failed survey
    response check marks csat and nps as inconclusive (responders differ by arm).
    """
    from workbench.checks import run_checks

    results = run_checks(tables, cfg)
    doc["checks"] = {r.check: {"status": r.status, "summary": r.summary} for r in results}
    failed = [r.check for r in results if r.status == "fail"]
    gating = [c for c in failed if c in GATING_CHECKS]
    doc["data_quality"] = {"ok": not gating, "failed": failed, "gating": gating}
    for check, metrics in CHECK_METRICS.items():
        if check in failed:
            for m in metrics:
                if m in doc["metrics"] and doc["metrics"][m]["decision"]["verdict"] not in ("descriptive",):
                    doc["metrics"][m]["decision"] = {"verdict": "inconclusive", "reason": f"the {check} check failed"}
    if gating:
        doc["decision"]["verdict_before_checks"] = doc["decision"]["verdict"]
        doc["decision"]["verdict"] = "inconclusive"
        doc["decision"]["reason"] = f"data quality check(s) failed: {', '.join(gating)}"


def apply_plan(doc: dict, pilot, cfg) -> None:
    """Flag every deviation from a locked analysis plan (``plan.lock`` next to pilot.yml)."""
    from workbench.contract.source import locate
    from workbench.design.plan import PlanError, check_plan

    lock = locate(pilot)[0] / "plan.lock"
    if not lock.exists():
        doc["plan"] = {"locked": False}
        return
    try:
        deviations = check_plan(lock, cfg)
    except PlanError as err:
        deviations = [f"plan.lock unreadable: {err}"]
    doc["plan"] = {"locked": True, "deviations": deviations, "followed": not deviations}


def analyze_pilot(pilot, settings: Settings = Settings(), backend: str = "duckdb", draws_out: dict | None = None) -> dict:
    """Open a pilot, compute its statistics on ``backend`` and return the results document.

    ``draws_out`` (optional) receives the posterior draws per metric and arm,
    the per-arm statistics under ``"_stats"`` and the per-segment ones (or None) under ``"_segment_stats"``.
    """
    from workbench.metrics.engine import open_pilot
    from workbench.metrics.stats import sufficient_stats

    p = open_pilot(pilot, backend)
    cfg = p.config
    design = design_from_config(cfg)
    stats = sufficient_stats(p.tables, cfg)
    cols = set(p.tables["accounts"].columns)
    agent_stats = sufficient_stats(p.tables, cfg, by=["agent_id"]) if "agent_id" in cols else None
    segment_stats = sufficient_stats(p.tables, cfg, by=["segment"]) if "segment" in cols else None
    hier = None
    if cfg.randomization == "agent" and agent_stats is not None:
        binary = [m for m in pd.unique(stats["metric"]) if CATALOGUE[m].family == "binary"]
        seg_agent = sufficient_stats(p.tables, cfg, by=["segment", "agent_id"], metrics=binary) if "segment" in cols else None
        hier = fit_hierarchical(agent_stats, seg_agent, design, settings, binary)
    doc = analyze_stats(stats, design, settings, agent_stats, segment_stats, hier, cfg.min_cell_size, draws_out)
    if draws_out is not None:
        draws_out["_stats"] = stats
        draws_out["_segment_stats"] = segment_stats
    apply_checks(doc, p.tables, cfg)
    apply_plan(doc, pilot, cfg)
    doc["pilot"] = cfg.name
    doc["randomization"] = cfg.randomization
    doc["notes"] = list(getattr(p, "notes", [])) + list(stats.attrs.get("notes", []))
    return doc
