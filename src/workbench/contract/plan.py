"""The locked analysis plan (``plan.lock``) and the deviations from it.

``workbench design --lock plan.lock`` writes, before any data come in, what
the analysis will be: the primary metric, the guardrails with their harm
margins and thresholds, the region of practical equivalence per metric, the
decision thresholds and the planned number of looks. :func:`check_plan`
compares a pilot's configuration (and the looks taken so far) with it and
returns one line per deviation, for ``analyze`` and the report to flag.

The file is YAML::

    plan: 1
    primary_metric: kept_ptp
    guardrails: {complaints: {margin: 0.001, threshold: 0.05}, ...}
    rope: {kept_ptp: 0.005}
    thresholds: {better: 0.95, worse: 0.05, equivalent: 0.95}
    looks: {planned: 12, cadence: weekly, threshold: 0.99}
    design: {...}   # the design that sized the pilot (informative only)
"""

from __future__ import annotations

from pathlib import Path

import yaml

from workbench.defaults import THRESHOLDS, Thresholds
from workbench.errors import PlanError

PLAN_VERSION = 1
# The engine's decision thresholds: what a plan locks unless it says otherwise.
ENGINE_THRESHOLDS = THRESHOLDS.as_dict()


def make_plan(
    primary_metric: str,
    guardrails: dict | None = None,
    rope: dict | None = None,
    thresholds: dict | None = None,
    looks: int = 1,
    cadence: str = "weekly",
    look_threshold: float | None = None,
    design: dict | None = None,
) -> dict:
    """The plan as a mapping (what :func:`write_plan` stores).

    ``guardrails`` maps metric -> ``{"margin", "threshold"}`` (or a pydantic
    Guardrail); ``look_threshold`` is the tuned P(better) bar of the monitoring
    rule (``workbench.design.monitor.tune_threshold``) when there is more than one look.
    """
    g = {}
    for k, v in (guardrails or {}).items():
        v = v.model_dump() if hasattr(v, "model_dump") else dict(v)
        g[k] = {"margin": float(v.get("margin", 0.0)), "threshold": float(v.get("threshold", THRESHOLDS.harm))}
    plan = {
        "plan": PLAN_VERSION,
        "primary_metric": primary_metric,
        "guardrails": g,
        "rope": {k: float(v) for k, v in (rope or {}).items()},
        "thresholds": dict(thresholds or ENGINE_THRESHOLDS),
        "looks": {"planned": int(looks), "cadence": cadence},
    }
    if look_threshold is not None:
        plan["looks"]["threshold"] = float(look_threshold)
    if design:
        plan["design"] = design
    return plan


def plan_from_config(config, looks: int = 1, look_threshold: float | None = None, design: dict | None = None) -> dict:
    """A plan holding a pilot.yml's primary metric, guardrails and rope."""
    return make_plan(
        config.primary_metric,
        dict(config.guardrails),
        dict(config.rope),
        looks=looks,
        look_threshold=look_threshold,
        design=design,
    )


def write_plan(plan: dict, path: str | Path) -> Path:
    """Write the plan as YAML (keys in a fixed order); returns the path."""
    path = Path(path)
    path.write_text(
        "# Locked analysis plan: written before the data; `analyze` flags deviations.\n" + yaml.safe_dump(plan, sort_keys=False),
        encoding="utf-8",
    )
    return path


def read_plan(path: str | Path) -> dict:
    """Read and check a plan.lock; raises :class:`PlanError` (one line per problem)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanError([f"plan.lock: not found at {path}"]) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PlanError([f"plan.lock: {path}: unreadable ({exc.__class__.__name__})"]) from None
    if not isinstance(data, dict):
        raise PlanError([f"plan.lock: {path}: must be a mapping"])
    problems = [
        f"plan.lock: {path}: missing key {k!r}"
        for k in ("plan", "primary_metric", "guardrails", "rope", "thresholds", "looks")
        if k not in data
    ]
    if not problems and data["plan"] != PLAN_VERSION:
        problems.append(f"plan.lock: {path}: plan version {data['plan']!r}, this workbench reads {PLAN_VERSION}")
    if problems:
        raise PlanError(problems)
    locked_thresholds(data, path)  # a threshold outside (0, 1) or of an unknown name is an error
    return data


def locked_thresholds(plan: dict, path: str | Path = "plan.lock") -> Thresholds:
    """The decision thresholds a plan locks; thresholds the plan does not name keep the defaults."""
    return Thresholds.from_mapping(plan.get("thresholds") or {}, where=f"plan.lock: {path}: thresholds")


def _close(a, b) -> bool:
    return a is not None and b is not None and abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(a)))


def check_plan(plan_path: str | Path, config, looks_taken: int | None = None, thresholds: dict | None = None) -> list[str]:
    """Deviations of an analysis from the locked plan, one line each (empty: as planned).

    Parameters
    ----------
    plan_path : the plan.lock.
    config : the pilot's :class:`workbench.contract.config.PilotConfig` as analysed.
    looks_taken : interim analyses run so far including this one (None: not checked).
    thresholds : the decision thresholds used (default: the engine's, ``ENGINE_THRESHOLDS``).

    Checked: the primary metric; every guardrail's presence, margin and
    threshold; the region of practical equivalence per metric; the decision
    thresholds; more looks than planned. Raises :class:`PlanError` when the
    plan cannot be read.

    ``analyze`` is meant to call this when a plan.lock sits beside pilot.yml
    and record the lines under ``plan_deviations`` in the results.
    """
    plan = read_plan(plan_path)
    out = []
    if plan["primary_metric"] != config.primary_metric:
        out.append(f"primary metric changed: planned {plan['primary_metric']}, analysed {config.primary_metric}")
    have = {k: (v.model_dump() if hasattr(v, "model_dump") else dict(v)) for k, v in config.guardrails.items()}
    for k, g in sorted(plan["guardrails"].items()):
        if k not in have:
            out.append(f"guardrail {k} dropped (planned margin {g['margin']})")
            continue
        for key in ("margin", "threshold"):
            if not _close(g.get(key), have[k].get(key)):
                out.append(f"guardrail {k} {key} changed: planned {g.get(key)}, analysed {have[k].get(key)}")
    for k in sorted(set(have) - set(plan["guardrails"])):
        out.append(f"guardrail {k} added after the plan was locked")
    rope = dict(config.rope)
    for k in sorted(set(plan["rope"]) | set(rope)):
        a, b = plan["rope"].get(k), rope.get(k)
        if not _close(a, b):
            out.append(
                f"rope for {k} changed: planned {a if a is not None else 'default'}, analysed {b if b is not None else 'default'}"
            )
    used = {**ENGINE_THRESHOLDS, **(thresholds or {})}
    for k in sorted(plan["thresholds"]):  # a threshold the plan does not name takes the default
        if not _close(plan["thresholds"].get(k), used.get(k)):
            out.append(f"decision threshold {k} changed: planned {plan['thresholds'].get(k)}, analysed {used.get(k)}")
    planned = int(plan["looks"].get("planned", 1))
    if looks_taken is not None and looks_taken > planned:
        out.append(f"more looks than planned: {looks_taken} taken, {planned} planned")
    return out
