"""Pilot simulator: a realistic collections A/B pilot with known planted effects.

``simulate_pilot`` writes every table of data contract v1, ``pilot.yml`` and
``truth.json``. The data-generating process (segments, agents, covariates,
arrival, censoring, contacts, promises, payments, complaints, surveys, churn)
is described in ``docs/simulator.md``; its numbers live in
:mod:`workbench.simulate.presets`; the per-account outcome model is in
:mod:`workbench.simulate.world`; ``truth.json`` comes from
:mod:`workbench.simulate.truth`.

Everything is vectorised numpy (no loop over accounts or events) and
deterministic by seed: one :class:`numpy.random.Generator` per seed, split
into independent child streams for the population, the assignment and the
outcomes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.contract.config import PilotConfig
from workbench.contract.io import write_pilot
from workbench.simulate.population import (  # noqa: F401 - re-exported: the simulator's public names
    ARMS,
    ARRIVAL_WEEKS,
    OBSERVED_DAYS,
    START,
    assign_arms,
    build_tables,
    make_ids,
    make_population,
    pilot_config,
)
from workbench.simulate.presets import preset_effects
from workbench.simulate.truth import compute_truth
from workbench.simulate.world import simulate_world


def simulate_tables(
    accounts: int = 20_000,
    seed: int = 1,
    preset: str = "realistic",
    agents: int = 40,
    randomization: str = "account",
    with_truth: bool = True,
) -> tuple[PilotConfig, dict[str, pd.DataFrame], dict]:
    """Simulate a pilot in memory.

    Parameters
    ----------
    accounts : accounts in the pilot.
    seed : the same seed gives byte-identical tables.
    preset : ``realistic``, ``null`` (A/A) or ``vendor-claims``.
    agents : agents handling the accounts (clusters).
    randomization : ``account`` (each account randomized) or ``agent``
        (agents randomized half/half; accounts follow their agent).
    with_truth : False skips the truth (about 10 s, cached per preset) and
        returns only the pilot's description in ``truth``.

    Returns
    -------
    (config, tables, truth): the pilot.yml model, table name -> frame, and
    the content of truth.json (see :func:`workbench.simulate.truth.compute_truth`).
    """
    if accounts < 1 or agents < 2:
        raise ValueError("need at least 1 account and 2 agents")
    effects = preset_effects(preset)
    config = pilot_config(accounts, seed, preset, randomization)
    pop_rng, arm_rng, world_rng = np.random.default_rng(seed).spawn(3)
    pop = make_population(pop_rng, accounts, agents)
    treat = assign_arms(arm_rng, pop, randomization)
    world = simulate_world(pop, treat, effects, config.windows, world_rng)
    tables = build_tables(pop, treat, world, agents)
    truth = compute_truth(preset, config.windows) if with_truth else {"preset": preset}
    truth.update(
        {
            "seed": seed,
            "accounts": accounts,
            "agents": agents,
            "randomization": randomization,
            "observed_until": config.observed_until.isoformat(),
        }
    )
    return config, tables, truth


def simulate_pilot(
    out: str | Path,
    accounts: int = 20_000,
    seed: int = 1,
    preset: str = "realistic",
    agents: int = 40,
    randomization: str = "account",
    fmt: str = "parquet",
    with_truth: bool = True,
) -> Path:
    """Simulate a pilot and write it to ``out``: pilot.yml, one file per table, truth.json.

    See :func:`simulate_tables` for the parameters; ``fmt`` is ``parquet``,
    ``csv`` or ``duckdb``; ``with_truth`` False writes truth.json with the
    pilot's description only (no planted-effect values: about 10 s saved per
    preset, for callers that never read them). Returns the folder.
    """
    config, tables, truth = simulate_tables(accounts, seed, preset, agents, randomization, with_truth=with_truth)
    path = write_pilot(out, config, tables, fmt)
    (path / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
