"""The metrics and checks command functions: table on stdout, data with --out, one-line errors."""

import json

import pandas as pd
from conftest import config, frames
from typer.testing import CliRunner

from workbench.cli.main import app

runner = CliRunner()

ACCOUNTS = [
    {
        "account_id": f"a{i}",
        "arm": "empathy" if i % 2 else "pressure",
        "assigned_at": "2026-01-01",
        "balance": 100.0,
        "segment": "medical" if i % 3 else "retiree",
        "closed_at": None,
    }
    for i in range(40)
]


def test_metrics_prints_a_table_and_writes_json_and_csv(build, tmp_path):
    path = build(config(), frames(accounts=ACCOUNTS))
    r = runner.invoke(app, ["metrics", str(path), "--by", "segment", "--out", str(tmp_path / "s.json")])
    assert r.exit_code == 0, r.output
    assert "retention" in r.stdout and "segment" in r.stdout
    doc = json.loads((tmp_path / "s.json").read_text())
    assert {row["metric"] for row in doc["stats"]} == {"retention"}
    assert any("contacts" in n for n in doc["notes"])
    r = runner.invoke(app, ["metrics", str(path), "--out", str(tmp_path / "s.csv")])
    assert r.exit_code == 0 and len(pd.read_csv(tmp_path / "s.csv")) == 2


def test_checks_prints_statuses_and_writes_json(build, tmp_path):
    path = build(config(), frames(accounts=ACCOUNTS))
    r = runner.invoke(app, ["checks", str(path), "--out", str(tmp_path / "c.json")])
    assert r.exit_code == 0, r.output
    assert "srm" in r.stdout
    assert set(json.loads((tmp_path / "c.json").read_text())) >= {"srm", "balance", "freshness"}


def test_bad_input_is_one_line_per_problem_and_exit_1(build, tmp_path):
    path = build(config(), frames(accounts=ACCOUNTS))
    cases = [
        (["metrics", str(tmp_path / "nowhere")], "pilot: not found"),
        (["metrics", str(path), "--by", "colour", "--by", "mood"], "--by: unknown grouping"),
        (["metrics", str(path), "--out", str(tmp_path / "x.xlsx")], "--out: must end in .json or .csv"),
        (["checks", str(path), "--backend", "oracle"], "engine: unknown backend"),
    ]
    for args, msg in cases:
        r = runner.invoke(app, args)
        assert r.exit_code == 1 and msg in r.stderr and "Traceback" not in r.output, (args, r.output)
    r = runner.invoke(app, ["metrics", str(path), "--by", "colour", "--by", "mood"])
    assert len(r.stderr.strip().splitlines()) == 2
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "pilot.yml").write_text("name: x\narms: {control: a}\n")
    r = runner.invoke(app, ["metrics", str(tmp_path / "bad")])
    assert r.exit_code == 1 and r.stderr.startswith("ERROR pilot.yml:") and "Traceback" not in r.output


def test_by_accepts_the_comma_list_and_engine_flag(tmp_path):
    from pilot_factory import make_pilot
    from typer.testing import CliRunner

    from workbench.cli.main import app

    root = make_pilot(tmp_path / "p")
    r = CliRunner().invoke(
        app, ["metrics", str(root), "--by", "segment,agent", "--engine", "duckdb", "--out", str(tmp_path / "s.csv")]
    )
    assert r.exit_code == 0, r.output
    import pandas as pd

    cols = set(pd.read_csv(tmp_path / "s.csv").columns)
    assert {"segment", "agent_id"} <= cols
