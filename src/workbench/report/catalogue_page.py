"""The metric catalogue as a Markdown page (``docs/metrics.md``), generated from the definitions."""

from __future__ import annotations

from workbench.checks import CHECKS
from workbench.metrics import stats as metrics  # the algorithm's documentation lives with its code
from workbench.metrics.catalogue import CATALOGUE, STAT_COLUMNS


def render_catalogue() -> str:
    """The catalogue as a Markdown page (``docs/metrics.md``)."""
    out = [
        "# Metric catalogue",
        "",
        (
            "Generated from `workbench.metrics.catalogue` by `workbench.report.catalogue_page.render_catalogue()`; "
            "do not edit by hand (a test checks that this page is up to date)."
        ),
        "",
        (
            "All metrics are intention-to-treat: the denominator is every assigned account whose window is over. "
            "Windows run from each account's `assigned_at` (pilot.yml `windows`): the outcome window is "
            "`[assigned_at, assigned_at + outcome_days)`. Eligibility depends on assignment time only. "
            "Accounts left out are counted per arm (`excluded`). Timestamps are UTC on every engine."
        ),
        "",
        "| metric | family | unit | better | per unit | n counts | eligible when |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in CATALOGUE.values():
        better = {True: "higher", False: "lower", None: "neither"}[m.higher_is_better]
        out.append(
            f"| `{m.name}` | {m.family} | {m.unit} | {better} | {m.per_account} | {m.unit_of_analysis} | `{m.eligibility}` |"
        )
    out += ["", "## Definitions", ""]
    for m in CATALOGUE.values():
        out += [
            f"### {m.name}: {m.label}",
            "",
            f"- formula: {m.formula}",
            f"- per unit: {m.per_account}",
            f"- denominator: {m.denominator}",
            f"- eligibility: `{m.eligibility}`",
            f"- reads: {', '.join(f'`{x}`' for x in m.needs)}",
        ]
        out += [f"- beside it: {b}" for b in m.beside]
        if m.scale != 1:
            out.append(f"- displayed x {m.scale:,.0f}")
        if m.descriptive:
            out.append("- descriptive only: not a causal estimand")
        out.append("")
    out += ["## Keeping a promise", "", metrics.KEPT_ALGORITHM.strip(), ""]
    out += [
        "## Sufficient statistics (`workbench.metrics.stats.sufficient_stats`)",
        "",
        "One row per metric x arm (x segment | agent_id | week when grouped). Columns:",
        "",
        "| column | meaning |",
        "|---|---|",
    ]
    out += [f"| `{c}` | {d} |" for c, d in STAT_COLUMNS.items()]
    out += [
        "",
        (
            "The retention survival table (`workbench.metrics.stats.survival_table`) has one row per arm x day of "
            "follow-up: `exits` (accounts whose follow-up ends that day), `events` (of them, left the lender), "
            "`time_sum` (their exact follow-up in days). Kaplan-Meier and piecewise-exponential exposure for any "
            "whole-day pieces follow exactly from it."
        ),
        "",
    ]
    out += ["## Pilot checks (`workbench.checks`)", "", "Each returns pass | warn | fail with its numbers.", ""]
    out += [f"- `{name}`: {' '.join((f.__doc__ or '').split())}" for name, f in CHECKS.items()]
    out.append("")
    return "\n".join(out)
