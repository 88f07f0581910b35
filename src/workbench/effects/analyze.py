"""The effect engine: a pilot (or its sufficient statistics) in, the results document out.

:func:`analyze_stats` runs every metric and treatment arm through
:mod:`workbench.effects.posterior`, adds segment effects
(:mod:`workbench.effects.segments`) and the headline
(:mod:`workbench.effects.decision`); :func:`analyze_run` opens a pilot,
computes its statistics on the engine, fits the hierarchical models under
agent randomization and applies the gates (:mod:`workbench.effects.gates`).
The document follows the results format of DESIGN.md and becomes bytes only
in :mod:`workbench.effects.results`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace

import pandas as pd

from workbench.contract.plan import read_plan
from workbench.effects.decision import control_fdr, overall_decision, prob_best
from workbench.effects.gates import apply_checks, apply_plan, plan_path, plan_thresholds
from workbench.effects.posterior import compare_metric, direction
from workbench.effects.results import SCHEMA_VERSION, to_json
from workbench.effects.retention import followed
from workbench.effects.segments import segment_effects
from workbench.effects.spec import Design, Settings, design_from_config
from workbench.errors import PlanError
from workbench.metrics.catalogue import CATALOGUE
from workbench.metrics.engine import open_pilot
from workbench.metrics.stats import sufficient_stats, survival_table
from workbench.models import conjugate

__all__ = [
    "Analysis",
    "Design",
    "Settings",
    "analyze_pilot",
    "analyze_run",
    "analyze_stats",
    "design_from_config",
    "fit_hierarchical",
    "to_json",
]


def _arm_rows(stats: pd.DataFrame) -> dict[str, dict[str, dict]]:
    """Each metric's rows by arm, ``rows[metric][arm]`` (one ``to_dict`` for the frame: it costs per call)."""
    out: dict[str, dict[str, dict]] = {}
    for r in stats.to_dict("records"):
        out.setdefault(r["metric"], {})[r["arm"]] = r
    return out


def analyze_stats(
    stats: pd.DataFrame,
    design: Design,
    settings: Settings | None = None,
    agent_stats: pd.DataFrame | None = None,
    segment_stats: pd.DataFrame | None = None,
    hierarchical: dict | None = None,
    min_cell_size: int = 10,
    draws_out: dict | None = None,
    survival: pd.DataFrame | None = None,
    segment_agent_stats: pd.DataFrame | None = None,
    segment_metrics: Collection[str] | None = None,
) -> dict:
    """The results document from per-arm statistics (``workbench.metrics.stats.sufficient_stats``).

    ``draws_out`` (optional) receives ``draws_out[metric][arm]`` posterior draws;
    ``survival`` (optional) is the per-day retention table
    (:func:`workbench.metrics.stats.survival_table`) the survival model reads.

    ``agent_stats`` (grouped by agent) gives the design effect and the
    cluster-robust cross-check; ``segment_stats`` the segment effects;
    ``hierarchical`` maps metric -> a fitted :class:`workbench.models.Fit`
    used instead of the conjugate posterior (agent randomization).
    ``segment_metrics`` limits the segment effects to those metrics (None: every
    metric; the claims read only the segments of their heterogeneity claims).
    """
    settings = settings or Settings()
    priors = conjugate.merge_priors((design.priors or {}).get("families") if design.priors else None)
    doc: dict = {
        "schema": SCHEMA_VERSION,
        "level": settings.level,
        "seed": settings.seed,
        "control": design.control,
        "treatments": list(design.treatments),
        "smoke": settings.smoke,
        "metrics": {},
    }
    draws_all: dict = {}
    rows = _arm_rows(stats)
    for metric in pd.unique(stats["metric"]):
        arms = rows[metric]
        if design.control not in arms:
            continue
        cells = agent_stats[agent_stats["metric"] == metric] if agent_stats is not None and "agent_id" in agent_stats else None
        comps = {}
        for arm in design.treatments:
            if arm not in arms:
                continue
            empty = [a for a in (design.control, arm) if not (arms[a].get("n") or 0)]
            if metric == "retention" and survival is not None:  # censored accounts count in the survival model
                empty = [a for a in (design.control, arm) if not followed(survival, a)]
            if empty:  # nothing to compare: say so instead of fitting an empty arm
                doc.setdefault("not_estimable", {}).setdefault(metric, {})[arm] = (
                    f"no eligible account in {' and '.join(empty)}: every account's window for {metric} "
                    "ends after observed_until (see `workbench validate` for eligibility)"
                )
                continue
            sink = draws_all.setdefault(metric, {})
            comps[arm] = compare_metric(
                metric,
                arms[design.control],
                arms[arm],
                design,
                settings,
                priors,
                cells,
                (hierarchical or {}).get(metric),
                sink,
                survival if metric == "retention" else None,
            )
            if (
                segment_stats is not None
                and "segment" in segment_stats
                and (segment_metrics is None or metric in segment_metrics)
            ):
                comps[arm]["segments"] = segment_effects(
                    segment_stats, metric, design, settings, priors, arm, min_cell_size, segment_agent_stats
                )
        if not comps:
            continue
        first = comps[design.treatments[0]] if design.treatments[0] in comps else next(iter(comps.values()))
        entry = dict(first)
        if len(comps) > 1:
            entry["comparisons"] = comps
            arm_draws = {a: draws_all[metric][a] for a in [design.control, *comps] if a in draws_all[metric]}
            entry["best_arm"] = prob_best(arm_draws, direction(metric, design))
        doc["metrics"][metric] = entry
    _control_fdr(doc, design, settings.level)
    doc["decision"] = overall_decision(doc, design)
    if design.primary in doc.get("not_estimable", {}) and design.primary not in doc["metrics"]:
        doc["decision"]["reason"] = next(iter(doc["not_estimable"][design.primary].values()))
    if draws_out is not None:
        draws_out.update(draws_all)
    return doc


def _control_fdr(doc: dict, design: Design, level: float) -> None:
    """The false-discovery control over exploratory metrics, per treatment arm."""
    for arm in design.treatments:
        entries = {}
        for k, v in doc["metrics"].items():
            c = v["comparisons"].get(arm) if "comparisons" in v else (v if arm == design.treatments[0] else None)
            if c is not None:
                entries[k] = c
        control_fdr(entries, level)
    # The top-level entry is the first arm's comparison copied: keep its decision in step.
    for v in doc["metrics"].values():
        if "comparisons" in v and design.treatments[0] in v["comparisons"]:
            v["decision"] = v["comparisons"][design.treatments[0]]["decision"]


def final_look_thresholds(pilot, thresholds):
    """The decision thresholds at the final look of a monitored pilot, and the locked look bar.

    A plan.lock with more than one planned look records the tuned monitoring
    bar ``u`` (``looks.threshold``): the final ``analyze`` is one more look, so
    it decides with ``better = max(better, u)`` and ``worse = min(worse, 1 - u)``
    (a final look at the plain bar after tuned looks raises the false-win rate:
    7.4% instead of 5.0% over 8 looks, measured). Returns ``(thresholds, u or None)``.
    """
    lock = plan_path(pilot)
    if not lock.exists():
        return thresholds, None
    try:
        looks = read_plan(lock).get("looks") or {}
    except PlanError:  # an unreadable lock is reported by apply_plan
        return thresholds, None
    u = looks.get("threshold")
    if u is None or int(looks.get("planned", 1)) <= 1:
        return thresholds, None
    u = float(u)
    return replace(thresholds, better=max(thresholds.better, u), worse=min(thresholds.worse, 1 - u)), u


def fit_hierarchical(
    agent_stats: pd.DataFrame, segment_agent: pd.DataFrame | None, design: Design, settings: Settings, metrics: list[str]
) -> dict:
    """Hierarchical logistic fits (agents partially pooled) for the binary metrics."""
    from workbench.models.binary import HierarchicalBinary  # PyMC and nutpie load only for agent pilots

    fits = {}
    src = segment_agent if segment_agent is not None else agent_stats
    for metric in metrics:
        cells = src[src["metric"] == metric][[c for c in ("arm", "segment", "agent_id", "n", "successes") if c in src]]
        cells = cells[cells["n"] > 0]
        if cells.empty:
            continue
        model = HierarchicalBinary((design.priors or {}).get("hierarchical_binary"))
        fits[metric] = model.fit(
            cells,
            design.control,
            design.treatments,
            draws=settings.mcmc_draws,
            tune=settings.mcmc_tune,
            chains=settings.mcmc_chains,
            seed=settings.seed,
            smoke=settings.smoke,
        )
    return fits


@dataclass
class Analysis:
    """Everything one analysis of a pilot produced.

    Attributes
    ----------
    doc : the results document (JSON-ready mapping; bytes via :func:`workbench.effects.results.to_json`).
    draws : posterior draws of each arm's mean, ``draws[metric][arm]`` (for the claims lab).
    stats : per-arm sufficient statistics.
    segment_stats : per-arm x segment statistics, or None without a ``segment`` column.
    checks : every pilot check's result (:class:`workbench.checks.CheckResult`), numbers included.
    """

    doc: dict
    draws: dict[str, dict] = field(default_factory=dict)
    stats: pd.DataFrame | None = None
    segment_stats: pd.DataFrame | None = None
    checks: list = field(default_factory=list)


def analyze_run(
    pilot, settings: Settings | None = None, backend: str = "duckdb", opened=None, segments: Collection[str] | None = None
) -> Analysis:
    """Open a pilot, compute its statistics on ``backend``, fit, decide and gate.

    ``opened`` is the pilot already opened on its engine (the run validates it
    there first and passes it on: the pilot is read once); None opens ``pilot``.
    ``segments`` limits the segment effects to those metrics (None: every metric;
    empty: none, and the statistics by segment are not computed).

    The decision thresholds are plan.lock's when the pilot has one (else
    ``settings.thresholds``); failed checks and plan deviations are recorded
    and overrule verdicts (:mod:`workbench.effects.gates`).
    """
    settings = settings or Settings()
    p = opened if opened is not None else open_pilot(pilot, backend)
    cfg = p.config
    design = design_from_config(cfg)
    locked = plan_thresholds(pilot)
    if locked is not None:
        settings = replace(settings, thresholds=locked)
    planned = settings.thresholds
    final, look_bar = final_look_thresholds(pilot, planned)
    settings = replace(settings, thresholds=final)
    stats = sufficient_stats(p.tables, cfg)
    cols = set(p.tables["accounts"].columns)
    agent_stats = sufficient_stats(p.tables, cfg, by=["agent_id"]) if "agent_id" in cols else None
    only = None if segments is None else sorted(set(segments) & set(CATALOGUE))  # by segment: those metrics only
    segment_stats = None
    if "segment" in cols and (only is None or only):
        segment_stats = sufficient_stats(p.tables, cfg, by=["segment"], metrics=only)
    hier, seg_agent = None, None
    if cfg.randomization == "agent" and agent_stats is not None:
        binary = [m for m in pd.unique(stats["metric"]) if CATALOGUE[m].family == "binary"]
        # every metric by segment x agent: the hierarchical fits read the binary ones, the segment effects all
        seg_agent = sufficient_stats(p.tables, cfg, by=["segment", "agent_id"]) if "segment" in cols else None
        binary_cells = seg_agent[seg_agent["metric"].isin(binary)] if seg_agent is not None else None
        hier = fit_hierarchical(agent_stats, binary_cells, design, settings, binary)
    by_agent = ["agent_id"] if cfg.randomization == "agent" and "agent_id" in cols else []
    surv = survival_table(p.tables, cfg, by=by_agent) if "retention" in set(stats["metric"]) else None
    draws: dict = {}
    doc = analyze_stats(
        stats, design, settings, agent_stats, segment_stats, hier, cfg.min_cell_size, draws, surv, seg_agent, segments
    )
    checks = apply_checks(doc, p.tables, cfg)
    apply_plan(doc, pilot, cfg, planned)
    doc["thresholds"] = planned.as_dict()
    if look_bar is not None:
        doc["decision"]["final_look_bar"] = {
            "better": final.better,
            "worse": final.worse,
            "note": "the locked monitoring bar applies at the final look (plan.lock looks.threshold)",
        }
    doc["pilot"] = cfg.name
    doc["randomization"] = cfg.randomization
    doc["notes"] = list(getattr(p, "notes", [])) + list(stats.attrs.get("notes", []))
    return Analysis(doc=doc, draws=draws, stats=stats, segment_stats=segment_stats, checks=checks)


def analyze_pilot(pilot, settings: Settings | None = None, backend: str = "duckdb") -> dict:
    """The results document of a pilot (:func:`analyze_run` without the draws and statistics)."""
    return analyze_run(pilot, settings, backend).doc
