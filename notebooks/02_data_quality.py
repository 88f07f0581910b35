# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Data quality
# Validation against the data contract, then the pilot checks: sample-ratio mismatch, covariate balance,
# contamination, survey response, manipulation (was empathy delivered?), contact frequency and freshness.
# A failed sample-ratio, balance or contamination check makes every verdict inconclusive.

# %% tags=["parameters"]
pilot: str = "data/demo/pilot"  # pilot folder, its pilot.yml or a DuckDB file (relative paths: here, else the repository root)
figure_dpi: int = 110  # figure resolution in dots per inch (50 to 600)
backend: str = "duckdb"  # engine: duckdb or pyspark (a pilot.yml with source.kind ibis uses its URL)

# %%
from dataclasses import replace

import pandas as pd

from workbench.checks import check_pilot, checks_frame
from workbench.contract.config import load_config
from workbench.contract.validate import validate_pilot
from workbench.metrics.engine import locate
from workbench.report import views as report
from workbench.report.privacy import hide_undeclared
from workbench.runs import pipeline as run

pilot = run.resolve_pilot(pilot)
run.check_params(pilot=pilot, figure_dpi=figure_dpi, backend=backend)
cfg = load_config(locate(pilot)[0])
report.use_theme(figure_dpi)  # whole tables, no scientific notation

# %% [markdown]
# ## Validation

# %%
v = validate_pilot(pilot, backend)
# Counts only: a report never shows the ids or values behind a problem (replace drops the examples).
print("\n".join(v.summary_lines() if v.ok else [replace(p, examples=()).line() for p in v.errors]))
print("\n".join(replace(p, examples=()).line() for p in v.warnings) or "no warnings")

# %% [markdown]
# ## Pilot checks

# %%
results = check_pilot(pilot, backend)
frame = checks_frame(results)
# The whole summary is shown: undeclared segment values in it read "other", as in the numbers below.
frame["summary"] = [report.scrub_undeclared(r.summary, r.numbers, cfg.segments) for r in results]
frame[["check", "status", "summary"]]

# %% [markdown]
# ## The numbers behind each check

# %%
for r in results:
    print(f"--- {r.check}: {r.status.upper()}")
    nums = {k: v for k, v in r.numbers.items() if k != "agents"}  # aggregates only: no agent identifiers
    nums = hide_undeclared(nums, cfg.segments)  # segment values pilot.yml does not declare are free text
    if r.check == "balance":  # each covariate named with its standardized difference
        display(report.balance_frame(nums))
        continue
    try:
        display(pd.DataFrame(nums))
    except ValueError:  # scalars and lists mixed: show them as a list of key, value
        display(pd.Series({k: str(v) for k, v in nums.items()}, name="value").to_frame())
