"""truth.json: the planted effects as marginal intention-to-treat effects per catalogue metric.

The models must recover population quantities, not coefficients inside the
simulator. So the truth is computed the way a perfect experiment would see
it: one large population (``TRUTH_ACCOUNTS`` accounts, ``TRUTH_AGENTS``
agents, a fixed ``TRUTH_SEED``) is simulated twice, everyone in control and
everyone in treatment, with the same shared uniforms (common random numbers)
and the same generator seed for event details; each catalogue metric is then
computed on each world by the plain-pandas reference
(:func:`workbench.metrics.reference.reference_metrics`), with every account eligible.

The truth depends on the preset and the windows only, never on the pilot's
seed, size, agents or randomization: it is the superpopulation effect that
any pilot of this simulator estimates. Its Monte Carlo error is small (about
0.001 on shares), and exactly zero for the ``null`` preset, whose two worlds
are identical.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.contract.config import METRICS, Windows
from workbench.metrics import reference
from workbench.metrics.reference import reference_metrics
from workbench.simulate.population import ARRIVAL_WEEKS, build_tables, make_population, pilot_config
from workbench.simulate.presets import describe, preset_effects
from workbench.simulate.world import simulate_world

TRUTH_SEED = 20_260_105
TRUTH_ACCOUNTS = 200_000
TRUTH_AGENTS = 2_000

UNITS = {
    "engagement": "share of accounts engaged in the outcome window",
    "ptp": "share of accounts with a promise made in the outcome window",
    "kept_ptp": "share of accounts with at least one in-window promise kept",
    "kept_rate": "kept promises / promises made (ratio of totals; descriptive)",
    "complaints": "complaints filed in the outcome window per account",
    "csat": "mean first in-window CSAT (1-5) among responders",
    "retention": "share of accounts still customers retention_days after assignment",
    "recovery": "money paid in the outcome window / balance at assignment (ratio of totals)",
    "handle_time": "mean handle seconds per reached contact in the outcome window",
    "contact_intensity": "outbound attempts in the outcome window per account",
    "nps": "promoters minus detractors among responders, share (-1..1)",
}

DEFINITIONS = (
    "Each metric is the catalogue definition (DESIGN.md; workbench.metrics.reference) computed on the whole truth "
    "population, once with every account in control and once with every account in treatment (the two "
    "potential-outcome worlds). 'control' and 'treatment' are those population values in the metric's own "
    "unit; difference = treatment - control; ratio = treatment / control; relative_lift = ratio - 1. "
    "csat, nps and handle_time are means among responders / reached contacts of each world, so they include "
    "the arm's effect on who responds or is reached, exactly like the arm-level estimate of a pilot."
)


def _truth_config(windows: Windows):
    # Observe long enough that every account of the truth population is eligible for every metric.
    w = windows
    longest = max(w.outcome_days + w.max_due_days + w.grace_days, w.retention_days, w.outcome_days)
    cfg = pilot_config(TRUTH_ACCOUNTS, TRUTH_SEED, "truth", "account", observed_days=ARRIVAL_WEEKS * 7 + longest + 1)
    return cfg.model_copy(update={"windows": w}), ARRIVAL_WEEKS * 7 + longest + 1


def world_metrics(preset: str, windows: Windows, accounts: int = TRUTH_ACCOUNTS, seed: int = TRUTH_SEED):
    """Reference metrics of the two potential-outcome worlds (control world first).

    Returns a frame like :func:`workbench.metrics.reference.reference_metrics`: one
    row per world (``arm`` = the control or treatment label) x metric.
    """
    effects = preset_effects(preset)
    cfg, observed_days = _truth_config(windows)
    pop = make_population(np.random.default_rng(seed), accounts, TRUTH_AGENTS)
    frames = []
    null = effects == type(effects)()  # no planted effect: the treatment world is the control world
    for treated in (False, True):
        if treated and null:
            frames.append(frames[0].assign(arm=cfg.treatments[0]))
            break
        treat = np.full(accounts, treated)
        # The same world seed for both worlds: event details stay aligned as far as possible.
        world = simulate_world(pop, treat, effects, windows, np.random.default_rng(seed + 1))
        tables = build_tables(pop, treat, world, TRUTH_AGENTS, observed_days=observed_days)
        m = reference_metrics(cfg, tables)
        frames.append(m[m["arm"] == (cfg.treatments[0] if treated else cfg.control)])
    return pd.concat(frames, ignore_index=True), cfg


@lru_cache(maxsize=16)
def _truth(preset: str, windows_key: tuple) -> dict:
    windows = Windows(**dict(windows_key))
    m, cfg = world_metrics(preset, windows)
    assert (m["excluded"] == 0).all(), "truth population must be fully eligible"
    metrics = {}
    for name in METRICS:
        rows = m[m["metric"] == name].set_index("arm")["mean"]
        c, t = float(rows[cfg.control]), float(rows[cfg.treatments[0]])
        metrics[name] = {
            "control": c,
            "treatment": t,
            "difference": t - c,
            "ratio": t / c if c != 0 else None,
            "relative_lift": t / c - 1 if c != 0 else None,
            "unit": UNITS[name],
        }
    return {
        "preset": preset,
        "arms": {"control": cfg.control, "treatment": cfg.treatments[0]},
        "windows": windows.model_dump(),
        "metrics": metrics,
        "population": (
            f"superpopulation of this simulator: {TRUTH_ACCOUNTS} accounts drawn as in the pilot "
            f"(segments, covariates, arrival over the same weeks) with {TRUTH_AGENTS} agents, truth seed "
            f"{TRUTH_SEED}, every account eligible; independent of the pilot's seed, size and randomization"
        ),
        "definitions": DEFINITIONS,
        "truth_seed": TRUTH_SEED,
        "truth_accounts": TRUTH_ACCOUNTS,
        "truth_agents": TRUTH_AGENTS,
        "parameters": describe(preset),
    }


CACHE_ENV = "WORKBENCH_TRUTH_CACHE"


@cache
def _code_digest() -> str:
    """SHA-256 of the code the truth is made by: this package and the pandas reference.

    A cached truth is read back only by the code that wrote it, so an edit of
    the simulator or of a metric's definition can never serve a stale truth.
    """
    h = hashlib.sha256()
    for f in [*sorted(Path(__file__).parent.glob("*.py")), Path(reference.__file__)]:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _cached_truth(preset: str, windows_key: tuple) -> dict:
    """:func:`_truth`, shared between processes through ``$WORKBENCH_TRUTH_CACHE`` when it is set.

    Computing a preset's truth simulates 2 x 200,000 accounts (about 10 s); the
    test suite's workers and the CLI processes it starts each needed it again.
    The file is named for the preset, the windows and the code digest, written
    atomically, and holds exactly the JSON of the dictionary (floats round-trip
    exactly), so a cached truth equals a computed one.
    """
    folder = os.environ.get(CACHE_ENV)
    if not folder:
        return _truth(preset, windows_key)
    key = hashlib.sha256(json.dumps([preset, windows_key, _code_digest()]).encode()).hexdigest()[:20]
    path = Path(folder) / f"truth-{preset}-{key}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    truth = _truth(preset, windows_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8") as f:
        json.dump(truth, f)
    os.replace(f.name, path)  # atomic: a reader sees the whole file or none
    return truth


def compute_truth(preset: str, windows: Windows) -> dict:
    """truth.json content for a preset (cached per preset and windows; a fresh copy each call).

    Cached in the process, and on disk in ``$WORKBENCH_TRUTH_CACHE`` when that
    variable names a folder (the test suite sets it, so its workers share one
    computation per preset).
    """
    preset_effects(preset)  # a clear error for an unknown preset
    return copy.deepcopy(_cached_truth(preset, tuple(sorted(windows.model_dump().items()))))
