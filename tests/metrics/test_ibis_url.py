"""source.kind ibis: a pilot reached by a connection URL (here DuckDB's own URL, no server needed)."""

from __future__ import annotations

import pandas as pd
import yaml
from pilot_factory import make_pilot

from workbench.contract.validate import validate_pilot
from workbench.metrics.stats import compute_metrics


def test_pilot_by_connection_url_validates_and_matches_the_file(tmp_path):
    root = make_pilot(tmp_path / "p", "duckdb")
    url_dir = tmp_path / "u"
    url_dir.mkdir()
    cfg = yaml.safe_load((root / "pilot.yml").read_text())
    cfg["source"] = {"kind": "ibis", "url": f"duckdb://{root / 'pilot.duckdb'}"}
    (url_dir / "pilot.yml").write_text(yaml.safe_dump(cfg))
    report = validate_pilot(url_dir)
    assert report.ok, [p.line() for p in report.errors]
    assert report.pilot.tables["accounts"].count().execute() == 4
    by_url = compute_metrics(url_dir)
    by_file = compute_metrics(root)
    cols = ["metric", "arm", "accounts", "n", "mean"]
    pd.testing.assert_frame_equal(by_url[cols], by_file[cols])


def test_unreachable_url_is_one_line(tmp_path):
    root = make_pilot(tmp_path / "p")
    cfg = yaml.safe_load((root / "pilot.yml").read_text())
    cfg["source"] = {"kind": "ibis", "url": "duckdb:///nonexistent/dir/x.duckdb"}
    (root / "pilot.yml").write_text(yaml.safe_dump(cfg))
    report = validate_pilot(root)
    assert not report.ok
    assert any(p.column == "source.url" and "cannot connect" in p.rule for p in report.errors)
