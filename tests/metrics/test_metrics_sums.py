"""The warehouse's sufficient statistics equal the same sums taken in pandas over the per-account outcomes.

:func:`workbench.metrics.stats.stats_expr` sums per eligibility group and then over
the eligible groups; here every statistic is recomputed from its definition
(eligible accounts, units with a non-missing outcome, covariate present) on
the rows of :func:`workbench.metrics.stats.account_outcomes`, with missing
covariates, missing answers and cells without any eligible account.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.contract.io import write_pilot
from workbench.metrics.catalogue import CATALOGUE
from workbench.metrics.engine import open_pilot
from workbench.metrics.stats import SPECS, account_outcomes, sufficient_stats


@pytest.fixture(scope="module")
def pilot(tmp_path_factory):
    simulate = pytest.importorskip("workbench.simulate.pilot")
    cfg, tables, _ = simulate.simulate_tables(accounts=1200, seed=3, agents=8, with_truth=False)
    acc = tables["accounts"].copy()
    acc.loc[acc.index % 5 == 0, "prior_paid"] = np.nan  # CUPED sums skip missing covariates
    tables = tables | {"accounts": acc}
    return open_pilot(write_pilot(tmp_path_factory.mktemp("sums") / "p", cfg, tables, "parquet"))


def expected(o: pd.DataFrame, metric: str, covariate: str = "prior_paid") -> dict[str, float]:
    """The statistics of one metric over the per-account rows ``o`` (one cell), from their definitions."""
    spec = SPECS[metric]
    e = o[spec["elig"]] == 1
    f = {"accounts": e.sum()}
    if metric == "handle_time":
        return f | {"n": o.ht_n[e].sum(), "sum": o.ht_sum[e].sum(), "sum_sq": o.ht_sq[e].sum()}
    y = o[spec["y"]].astype("float64")
    unit = e & y.notna()
    f |= {"n": unit.sum(), "sum": y[unit].sum(), "sum_sq": (y * y)[unit].sum()}
    if CATALOGUE[metric].family in ("binary", "time-to-event"):
        f["successes"] = y[unit].sum()
    elif metric == "recovery":
        f["successes"] = (unit & (y > 0)).sum()
    if "x" in spec:
        x = o[spec["x"]].astype("float64")
        f |= {"denom": x[unit].sum(), "denom_sq": (x * x)[unit].sum(), "cross": (x * y)[unit].sum()}
    for k in spec.get("cats", ()):
        f[f"cat_{k}"] = (unit & (y == k)).sum()
    if metric == "retention":
        obs = o.e_obs == 1
        f |= {"events": o.ret_event[obs].sum(), "exposure": o.ret_days[obs].sum()}
    c = o[covariate].astype("float64")
    cu = unit & c.notna()
    f |= {"cov_n": cu.sum(), "cov_sum": c[cu].sum(), "cov_sum_sq": (c * c)[cu].sum(), "cov_cross": (c * y)[cu].sum()}
    if "x" in spec:
        f["cov_cross_denom"] = (c * o[spec["x"]].astype("float64"))[cu].sum()
    return f


@pytest.mark.parametrize("by", [[], ["segment"], ["week"]])
def test_sums_match_their_definitions(pilot, by):
    o = account_outcomes(pilot.tables, pilot.config)[0].execute()
    o["week"] = pd.to_datetime(o["week"]).dt.strftime("%Y-%m-%d")
    s = sufficient_stats(pilot.tables, pilot.config, by=by)
    assert set(s.metric) == set(CATALOGUE)
    if by == ["week"]:  # late weeks: no account eligible for the longer windows
        assert (s[s.metric == "retention"].accounts == 0).any()
    for (arm, *cell), grp in o.groupby(["arm", *by], dropna=False):
        for metric in CATALOGUE:
            sel = (s.metric == metric) & (s.arm == arm)
            for b, v in zip(by, cell, strict=True):
                sel &= s[b] == v
            got = s[sel].iloc[0]
            assert got.excluded == len(grp) - got.accounts
            for stat, want in expected(grp, metric).items():
                assert got[stat] == pytest.approx(want, rel=1e-12, abs=1e-9), (metric, arm, cell, stat)
