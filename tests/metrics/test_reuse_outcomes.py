"""The per-account table built once for a run's many groupings gives the numbers of a fresh query."""

from __future__ import annotations

import pandas as pd
import pytest
from pilot_factory import make_pilot

from workbench.metrics import stats
from workbench.metrics.engine import open_pilot


@pytest.mark.parametrize("by", [[], ["segment"], ["agent_id"], ["week"], ["segment", "agent_id"]])
def test_reused_outcomes_give_the_same_statistics(tmp_path, by):
    path = make_pilot(tmp_path)
    fresh = stats.sufficient_stats(open_pilot(path).tables, open_pilot(path).config, by=by)
    p = open_pilot(path)
    stats.reuse_outcomes(p.tables)
    first = stats.sufficient_stats(p.tables, p.config, by=by)
    again = stats.sufficient_stats(p.tables, p.config, by=by)
    pd.testing.assert_frame_equal(first, fresh)
    pd.testing.assert_frame_equal(again, fresh)
    # built once: one temporary table for this configuration and metric set, read by both queries
    [(t, _, _)] = stats._REUSED[id(p.tables)][1].values()
    assert "_workbench_outcomes_" in str(t.get_name())
    # another observation date is another table: eligibility moves with it
    earlier = p.config.model_copy(update={"observed_until": pd.Timestamp("2026-03-01", tz="UTC").to_pydatetime()})
    pd.testing.assert_frame_equal(
        stats.sufficient_stats(p.tables, earlier, by=by),
        stats.sufficient_stats(open_pilot(path).tables, earlier, by=by),
    )
