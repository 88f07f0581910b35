"""One query for every weekly look equals one query per look (the monitoring replay's statistics)."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.design.monitor import look_dates
from workbench.metrics.catalogue import CATALOGUE
from workbench.metrics.engine import open_pilot
from workbench.metrics.stats import stats_by_look, sufficient_stats

METRICS = [m for m in CATALOGUE if m != "retention"]


@pytest.fixture(scope="module")
def pilot(tmp_path_factory):
    """A small simulated pilot, plus events after observed_until (a sloppy export keeps them)."""
    from workbench.simulate.pilot import simulate_pilot

    path = simulate_pilot(tmp_path_factory.mktemp("looks") / "p", accounts=400, seed=4, preset="null", agents=8, with_truth=False)
    pay = pd.read_parquet(path / "payments.parquet")
    late = pay.head(20).assign(payment_id=[f"LATE{i}" for i in range(20)], paid_at=pd.Timestamp("2027-01-01", tz="UTC"))
    pd.concat([pay, late], ignore_index=True).to_parquet(path / "payments.parquet", index=False)
    return path


def _looks(p):
    first = pd.Timestamp(p.tables["accounts"]["assigned_at"].min().execute()).tz_localize("UTC").to_pydatetime()
    return look_dates(first, p.config.observed_until)


@pytest.mark.parametrize("by", [[], ["segment"]])
def test_each_look_equals_its_own_query(pilot, by):
    p = open_pilot(pilot)
    looks = _looks(p)
    fast = stats_by_look(p.tables, p.config, looks, METRICS, by=by)
    assert len(fast) == len(looks) > 5
    # a look with no one eligible yet (counts 0, sums NULL), the first with some, one later, the last
    first = next(i for i, f in enumerate(fast) if f["n"].sum() > 0)
    picked = [0, first, (first + len(looks)) // 2, len(looks) - 1] if not by else [first, len(looks) - 1]
    for i in picked:
        d, frame = looks[i], fast[i]
        cfg = p.config.model_copy(update={"observed_until": d})
        slow = sufficient_stats(p.tables, cfg, by=by, metrics=METRICS, covariate=None)
        pd.testing.assert_frame_equal(frame, slow, check_exact=False, rtol=1e-12)
    assert fast[0]["n"].sum() == 0 and fast[-1]["n"].sum() > 0


def test_retention_is_refused(pilot):
    p = open_pilot(pilot)
    with pytest.raises(ValueError, match="retention"):
        stats_by_look(p.tables, p.config, _looks(p), ["ptp", "retention"])
