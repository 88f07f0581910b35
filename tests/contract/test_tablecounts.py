"""One table's own counts, planned once per shape (:mod:`workbench.contract.tablecounts`).

What is decided: the counts a pilot gets from a plan made on another pilot of the same shape are
its own, value for value and type for type the row the direct way (ibis expressions on its own
tables) gives, on a valid pilot and on broken ones (text that does not parse, values out of range,
a repeated key, long cells); a pilot of another shape gets a plan of its own. (The lines of a
report come from these rows: tests/contract/test_validate.py reads every broken case through plans,
tests/metrics/test_validate_engines.py compares them with Spark's and PostgreSQL's, read the direct way.)
"""

from __future__ import annotations

import pandas as pd
from pilot_factory import config_dict, make_pilot

from workbench.contract import tablecounts
from workbench.contract.config import parse_config
from workbench.contract.engine import open_location
from workbench.contract.mapping import Mapping
from workbench.contract.source import MAX_CELL_CHARS, resolve


def _opened(root):
    pilot, problems = open_location(resolve(root))
    assert pilot is not None and not problems
    return pilot


def _break(tables: dict[str, pd.DataFrame]) -> None:
    tables["accounts"]["balance"] = tables["accounts"]["balance"].astype(object)
    tables["accounts"].loc[1, "balance"] = "n/a"  # a CSV cell that is not a number
    tables["accounts"].loc[2, "account_id"] = "A1"  # a repeated key
    tables["payments"].loc[0, "amount"] = -5.0  # out of range
    tables["contacts"].loc[0, "channel"] = "x" * (MAX_CELL_CHARS + 1)  # a long cell, not a channel


def _empty(tables: dict[str, pd.DataFrame]) -> None:
    for name in ("payments", "complaints"):  # a header without rows
        tables[name] = tables[name].iloc[0:0]
    tables["accounts"]["segment"] = None  # optional columns left empty: their rules hold on no row
    tables["promises"]["due_at"] = None


def _direct(monkeypatch, pilot, name, mapping):
    with monkeypatch.context() as m:
        m.setattr(tablecounts, "_plan", lambda *a: None)
        return tablecounts.count_table(name, pilot.raw[name], mapping, pilot.config, name)


def test_a_plan_made_on_one_pilot_counts_another_as_its_own_tables_say(tmp_path, monkeypatch):
    first = _opened(make_pilot(tmp_path / "first", "csv"))
    broken = _opened(make_pilot(tmp_path / "broken", "csv", edit=_break))
    empty = _opened(make_pilot(tmp_path / "empty", "csv", edit=_empty))
    mapping = Mapping.of(first.config)
    tablecounts._PLANS.clear()
    for name in first.raw:
        tablecounts.count_table(name, first.raw[name], mapping, first.config, name)  # the plans, made on the valid pilot
    plans = len(tablecounts._PLANS)
    assert plans == len(first.raw) and all(p is not None for p in tablecounts._PLANS.values())
    rows = {}
    for label, pilot in (("first", first), ("broken", broken), ("empty", empty)):
        for name in pilot.raw:
            t, casts, row = tablecounts.count_table(name, pilot.raw[name], mapping, pilot.config, name)
            t0, casts0, row0 = _direct(monkeypatch, pilot, name, mapping)
            assert row == row0, name
            assert [type(v) for v in row.values()] == [type(v) for v in row0.values()], name
            assert casts == casts0 and t.schema() == t0.schema()
            assert t.to_pyarrow().equals(t0.to_pyarrow())  # the view reads what the direct cast reads
            rows[label, name] = row
    assert len(tablecounts._PLANS) == plans  # the broken and empty pilots have the same shape: no new plan
    # a table without rows: no count of a rule (NULL, as the direct way's sum over no rows), on a plan too
    assert rows["empty", "payments"]["_rows"] == 0 and rows["empty", "payments"]["v_amount_0"] is None
    # a rule whose condition is null on every row: counted 0, not NULL (COUNT_IF alone would say NULL)
    assert rows["empty", "promises"]["due"] == 0 and rows["empty", "accounts"]["segment"] == 0
    # its counts are its own: what _break did, and nothing of the first pilot's
    failed = [k for k in rows["broken", "accounts"] if k.startswith("f_balance_") and rows["broken", "accounts"][k]]
    assert [rows["broken", "accounts"][k] for k in failed] == [1] and not rows["first", "accounts"][failed[0]]
    assert rows["broken", "accounts"]["keys"] == rows["broken", "accounts"]["distinct_keys"] + 1
    assert (rows["first", "payments"]["v_amount_0"], rows["broken", "payments"]["v_amount_0"]) == (0, 1)
    long = [k for k in rows["broken", "contacts"] if k.startswith("long") and rows["broken", "contacts"][k]]
    assert len(long) == 1 and not any(rows["first", "contacts"][k] for k in long)


def test_another_shape_gets_its_own_plan(tmp_path):
    tablecounts._PLANS.clear()
    parquet = _opened(make_pilot(tmp_path / "parquet"))
    csv = _opened(make_pilot(tmp_path / "csv", "csv"))
    for pilot in (parquet, csv):
        tablecounts.count_table("accounts", pilot.raw["accounts"], Mapping.of(pilot.config), pilot.config, "accounts")
    assert len(tablecounts._PLANS) == 2  # typed Parquet columns and CSV text are two shapes
    other = parse_config(config_dict(observed_until="2026-03-01T00:00:00Z"))
    tablecounts.count_table("accounts", csv.raw["accounts"], Mapping.of(other), other, "accounts")
    assert len(tablecounts._PLANS) == 3  # another pilot.yml: the rules read it


def test_a_file_broken_after_opening_is_one_unreadable_line(tmp_path):
    """The planned way binds each table's view when it counts: a file broken since the pilot was
    opened is the table's one problem line, as the direct way says, not an exception."""
    from workbench.contract import validate

    root = make_pilot(tmp_path / "p", "csv")
    validate.open_and_validate(make_pilot(tmp_path / "first", "csv"))  # the plans of this shape are made here
    pilot, problems = open_location(resolve(root))
    (root / "payments.csv").write_text("garbage\n")
    report = validate.validate_opened(pilot, problems)
    lines = [p.line() for p in report.errors]
    assert any(line.startswith("ERROR payments") and "unreadable file" in line for line in lines), lines
