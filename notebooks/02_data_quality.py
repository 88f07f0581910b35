# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
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
results: str = ""  # results.json of this run (its data_quality.json is shown); empty: validate and check the pilot here
figure_dpi: int = 110  # figure resolution in dots per inch (50 to 600)
backend: str = "duckdb"  # engine: duckdb or pyspark (a pilot.yml with source.kind ibis uses its URL)

# %%
import json
from pathlib import Path

import pandas as pd

from workbench.report import views as report
from workbench.report.quality import pilot_quality
from workbench.runs import pipeline as run

pilot = run.resolve_pilot(pilot)
run.check_params(pilot=pilot, figure_dpi=figure_dpi, results=results, backend=backend)
report.use_theme(figure_dpi)  # whole tables, no scientific notation
# The run validated and checked the pilot before the notebooks; by hand, the same document is built here.
# Counts only either way: no ids or values behind a problem, no agent ids, undeclared segments read "other".
shown = Path(results).with_name("data_quality.json") if results else None
quality = json.loads(shown.read_text()) if shown is not None and shown.exists() else pilot_quality(pilot, backend)

# %% [markdown]
# ## Validation

# %%
print("\n".join(quality["validation"]["lines"]))
print("\n".join(quality["warnings"]) or "no warnings")

# %% [markdown]
# ## Pilot checks

# %%
checks = pd.DataFrame(quality["checks"], columns=["check", "status", "summary"])
checks if len(checks) else print("no checks: the pilot does not pass validation")

# %% [markdown]
# ## The numbers behind each check

# %%
for r in quality["checks"]:
    print(f"--- {r['check']}: {r['status'].upper()}")
    nums = r["numbers"]
    if r["check"] == "balance":  # each covariate named with its standardized difference
        display(report.balance_frame(nums))
        continue
    try:
        display(pd.DataFrame(nums))
    except ValueError:  # scalars and lists mixed: show them as a list of key, value
        display(pd.Series({k: str(v) for k, v in nums.items()}, name="value").to_frame())
