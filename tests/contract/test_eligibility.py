"""Eligibility per metric in validate: an error naming the primary metric and the date it needs."""

from __future__ import annotations

import pandas as pd
from pilot_factory import config_dict, make_pilot
from typer.testing import CliRunner

from workbench.cli.main import app
from workbench.contract.config import Windows, parse_config
from workbench.contract.eligibility import FEW, NEEDS, eligibility, eligibility_problems, horizon_days
from workbench.contract.validate import validate_pilot
from workbench.metrics.accounts import account_outcomes
from workbench.metrics.catalogue import CATALOGUE
from workbench.metrics.engine import open_pilot
from workbench.metrics.stats import SPECS


def _accounts(n_per_arm: int, days: list[int]) -> pd.DataFrame:
    rows = []
    for arm in ("pressure", "empathy"):
        for i in range(n_per_arm):
            rows.append((f"{arm}{i}", arm, pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(days=days[i % len(days)])))
    return pd.DataFrame(rows, columns=["account_id", "arm", "assigned_at"])


def test_horizons_by_hand():
    w = Windows(outcome_days=60, grace_days=3, max_due_days=30, retention_days=180)
    assert [horizon_days(m, w) for m in ("engagement", "kept_ptp", "kept_rate", "retention", "recovery")] == [
        60,
        93,
        93,
        180,
        60,
    ]
    assert set(NEEDS) == set(CATALOGUE)


def test_horizons_agree_with_the_metric_engine(tmp_path):
    """The counts validation shows are the engine's eligibility flags (e_out, e_kept, e_ret)."""
    cfg = config_dict(observed_until="2026-04-10T00:00:00Z", windows={"outcome_days": 80, "max_due_days": 5})
    root = make_pilot(tmp_path / "p", "parquet", cfg)
    pilot = validate_pilot(root).pilot
    p = open_pilot(root)
    out, _, _ = account_outcomes(p.tables, p.config)
    flags = out.execute()
    counted = {e.metric: e.total for e in eligibility(pilot.tables["accounts"], pilot.config, list(NEEDS))}
    for metric, cols in SPECS.items():
        assert counted[metric] == int(flags[cols["elig"]].sum()), metric


def test_no_eligible_account_for_the_primary_is_an_error_with_the_date():
    acc = _accounts(40, [0, 10])
    cfg = parse_config(config_dict(observed_until="2026-03-15T00:00:00Z"))  # 73 days after the first assignment
    errors, warnings = eligibility_problems(acc, cfg, ["engagement", "kept_ptp"])
    assert [p.line() for p in errors] == [
        "ERROR pilot.yml.primary_metric [kept_ptp: assigned_at + 93 days <= observed_until 2026-03-15: no account is "
        "eligible for the primary metric; observed_until 2026-04-04 or later would give some "
        "(or shorten windows in pilot.yml, or choose another primary_metric)]"
    ]
    assert warnings == []  # engagement: all 80 eligible


def test_too_few_is_a_warning_per_metric():
    acc = _accounts(FEW + 5, [0] * (FEW - 1) + [50] * 6)
    cfg = parse_config(config_dict(observed_until="2026-03-05T00:00:00Z", primary_metric="ptp"))
    errors, warnings = eligibility_problems(acc, cfg, ["ptp"])
    assert errors == []
    assert [p.line() for p in warnings] == [
        f"WARNING pilot.yml.primary_metric [ptp: assigned_at + 60 days <= observed_until 2026-03-05: fewer than {FEW} "
        f"eligible accounts in an arm (pressure {FEW - 1}, empathy {FEW - 1}), too few to judge; "
        "every account is eligible from 2026-04-21]"
    ]


def test_validate_names_the_metric_and_no_verb_prints_a_traceback(tmp_path):
    root = make_pilot(tmp_path / "p", "parquet", config_dict(observed_until="2026-03-20T00:00:00Z"))
    r = CliRunner().invoke(app, ["validate", str(root)])
    assert r.exit_code == 1
    assert "kept_ptp: assigned_at + 93 days <= observed_until 2026-03-20: no account is eligible" in r.output
    assert "observed_until 2026-04-08 or later would give some" in r.output
    for verb in (["analyze", str(root), "--draws", "200"], ["metrics", str(root)]):
        r = CliRunner().invoke(app, verb)
        assert "Traceback" not in r.output, verb
        assert r.exception is None or isinstance(r.exception, SystemExit), verb
