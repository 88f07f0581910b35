"""The catalogue: one definition per metric, and docs/metrics.md generated from it."""

from pathlib import Path

from workbench.contract.config import METRICS
from workbench.metrics.catalogue import CATALOGUE, STAT_COLUMNS
from workbench.metrics.stats import COLUMNS, SPECS
from workbench.report.catalogue_page import render_catalogue

ROOT = Path(__file__).resolve().parents[2]


def test_every_metric_is_defined_once_with_direction_and_family():
    assert tuple(CATALOGUE) == METRICS == tuple(SPECS)
    for m in CATALOGUE.values():
        assert m.family in {"binary", "count", "ratio", "ordinal", "continuous", "time-to-event"}
        assert m.higher_is_better in (True, False) and m.unit and m.formula and m.eligibility


def test_every_statistics_column_is_documented():
    documented = set()
    for key in STAT_COLUMNS:
        documented |= set(key.split(" / ")) if "/" in key else {key}
    documented |= {f"cat_{k}" for k in range(11)}
    assert set(COLUMNS) <= documented


def test_docs_page_is_up_to_date():
    page = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert page == render_catalogue(), "docs/metrics.md is stale: regenerate with render_catalogue()"
