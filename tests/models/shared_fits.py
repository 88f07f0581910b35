"""Hierarchical fits shared by the model tests: each model structure compiled once per test session.

Compiling a structure for nutpie (Numba) costs 15-45 s, sampling it 0.5 s. The
compiled model is cached per process only, and xdist hands consecutive tests to
different workers, so a module fixture was compiled by both workers (the crossed
fit of ``test_models`` twice, 45 + 38 s). Here one worker fits every dataset of
one structure under :func:`shared.once` (a file lock) and pickles the fits; the
other worker reads them. The fits are real: same data, seeds and settings as
before, the determinism check still compares two fits made in one process.
"""

from __future__ import annotations

import functools
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
from shared import once

FAST = {"draws": 150, "tune": 150, "chains": 2, "smoke": True}


def binary_cells(seed=0, n=300, arms=(("control", 0.0), ("empathy", 0.3)), segments=("a", "b"), agents=("g1", "g2", "g3")):
    rng = np.random.default_rng(seed)
    rows = []
    for arm, b in arms:
        for i, s in enumerate(segments):
            for j, g in enumerate(agents):
                p = 1 / (1 + np.exp(-(-1.0 + b + 0.4 * i - 0.2 * j)))
                rows.append({"arm": arm, "segment": s, "agent_id": g, "n": n, "successes": int(rng.binomial(n, p))})
    return pd.DataFrame(rows)


def separated_cells() -> pd.DataFrame:
    """Separation under agent randomization: no control account promises, every treated one does."""
    return pd.DataFrame(
        {
            "arm": ["pressure"] * 4 + ["empathy"] * 4,
            "agent_id": [f"G{i}" for i in range(8)],
            "n": [12] * 8,
            "successes": [0] * 4 + [12] * 4,
        }
    )


def agent_randomized_cells() -> pd.DataFrame:
    """Agents nested in arms (each agent works one arm), the same eight agents as :func:`separated_cells`.

    Agents differ by at most 0.1 on the logit, so the agent effects are sampled
    non-centred as for the separated cells: the same structure, one compilation.
    """
    rng = np.random.default_rng(5)
    rows = []
    for i, dev in enumerate((-0.1, 0.05, 0.1, -0.05, 0.0, -0.1, 0.1, 0.05)):
        arm, b = ("pressure", 0.0) if i < 4 else ("empathy", 0.4)
        p = 1 / (1 + np.exp(-(-1 + b + dev)))
        rows.append({"arm": arm, "agent_id": f"G{i}", "n": 400, "successes": int(rng.binomial(400, p))})
    return pd.DataFrame(rows)


def _crossed(folder: Path) -> dict:
    from workbench.models.binary import HierarchicalBinary  # PyMC: only when a fit is needed

    fit = HierarchicalBinary().fit(binary_cells(), "control", ["empathy"], seed=3, **FAST)
    again = HierarchicalBinary().fit(binary_cells(), "control", ["empathy"], seed=3, **FAST)
    return _dump(folder, {"fit": fit, "again": again})


def _agents(folder: Path) -> dict:
    from workbench.models.binary import HierarchicalBinary  # PyMC: only when a fit is needed

    m = HierarchicalBinary()
    hard, easy = separated_cells(), agent_randomized_cells()
    assert m.centred(m.prepare(hard, "pressure", ["empathy"])) == m.centred(m.prepare(easy, "pressure", ["empathy"]))
    # A short chain, judged by the production gate (R-hat <= 1.01, bulk ESS >= 400, no divergences).
    separated = m.fit(hard, "pressure", ["empathy"], draws=60, tune=60, chains=2, seed=1)
    randomized = m.fit(easy, "pressure", ["empathy"], seed=2, **FAST)
    return _dump(folder, {"separated": separated, "randomized": randomized})


def _dump(folder: Path, fits: dict) -> dict:
    path = folder / "fits.pkl"
    path.write_bytes(pickle.dumps(fits))
    return {"path": str(path)}


_BUILDERS = {"crossed": _crossed, "agents": _agents}


@functools.cache
def shared_fits(structure: str) -> dict:
    """The fits of one structure: ``crossed`` (fit, again) or ``agents`` (separated, randomized)."""
    info = once(f"model-fits-{structure}", _BUILDERS[structure])
    return pickle.loads(Path(info["path"]).read_bytes())
