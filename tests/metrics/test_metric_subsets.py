"""Asking for some metrics reads only the tables they need, and gives the same statistics.

The monitoring replay asks for one metric (the primary); building every
per-account aggregate for it joined the contacts, the largest table. :func:`workbench.metrics.accounts.account_outcomes` now leaves
out the aggregates no asked metric reads; these tests hold the decision (which
tables each metric reads) and the numbers (equal to the full computation).
"""

from __future__ import annotations

import ibis.expr.operations as ops
import numpy as np
import pandas as pd
import pytest

from workbench.contract.io import write_pilot
from workbench.metrics.accounts import NEEDS
from workbench.metrics.catalogue import CATALOGUE
from workbench.metrics.engine import open_pilot
from workbench.metrics.stats import stats_expr, sufficient_stats
from workbench.simulate.pilot import simulate_tables

# the event tables each metric must read (accounts is read by every metric)
READS = {
    "engagement": {"contacts"},
    "contact_intensity": {"contacts"},
    "handle_time": {"contacts"},
    "ptp": {"promises"},
    "kept_ptp": {"promises", "payments"},
    "kept_rate": {"promises", "payments"},
    "recovery": {"payments"},
    "complaints": {"complaints"},
    "csat": {"surveys"},
    "nps": {"surveys"},
    "retention": set(),
}


@pytest.fixture(scope="module")
def pilot(tmp_path_factory):
    cfg, tables, _ = simulate_tables(accounts=1500, seed=5, agents=6, with_truth=False)
    return open_pilot(write_pilot(tmp_path_factory.mktemp("subsets") / "p", cfg, tables, "parquet"))


def read_tables(pilot, metrics) -> set[str]:
    """Contract tables an expression reads (the engine's view names carry a suffix)."""
    expr, _, _ = stats_expr(pilot.tables, pilot.config, metrics=metrics)
    names = {t.name for t in expr.op().find(ops.DatabaseTable)}
    return {name for name in pilot.tables if any(n.startswith(f"{name}_") for n in names)}


def test_every_metric_is_covered():
    assert set(READS) == set(CATALOGUE)
    assert {m for ms in NEEDS.values() for m in ms} <= set(CATALOGUE)


@pytest.mark.parametrize("metric", list(READS))
def test_one_metric_reads_only_its_tables(pilot, metric):
    assert read_tables(pilot, [metric]) == {"accounts"} | READS[metric]


def test_all_metrics_read_every_table(pilot):
    assert read_tables(pilot, None) == set(pilot.tables)


@pytest.fixture(scope="module")
def full(pilot):
    return {tuple(by): sufficient_stats(pilot.tables, pilot.config, by=by) for by in ([], ["week"])}


def same(part: pd.DataFrame, full: pd.DataFrame, metrics) -> None:
    """``part`` holds the full computation's rows of ``metrics``: counts exactly, sums to 1e-12
    (a float sum's order may differ), NaN where the family has no such statistic."""
    assert part.metric.unique().tolist() == [m for m in CATALOGUE if m in metrics]
    want = full[full.metric.isin(metrics)].reset_index(drop=True)
    assert len(want) == len(part) > 0
    pd.testing.assert_frame_equal(part.reset_index(drop=True), want, check_dtype=False, check_exact=False, rtol=1e-12)
    assert np.array_equal(part["n"].to_numpy(), want["n"].to_numpy())


@pytest.mark.parametrize("metrics", [[m] for m in CATALOGUE] + [["kept_ptp", "ptp"], ["engagement", "csat", "nps"]])
def test_a_subset_gives_the_full_computations_numbers(pilot, full, metrics):
    same(sufficient_stats(pilot.tables, pilot.config, metrics=metrics), full[()], metrics)


def test_the_monitor_replay_metric_by_week_keeps_its_covariate_sums(pilot, full):
    s = sufficient_stats(pilot.tables, pilot.config, by=["week"], metrics=["kept_ptp"])
    assert s["cov_n"].gt(0).any()
    same(s, full[("week",)], ["kept_ptp"])
