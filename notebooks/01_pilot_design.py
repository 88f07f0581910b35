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
# # Pilot design
# The pilot's arms, allocation, randomization unit, windows and how accounts arrived, week by week.

# %% tags=["parameters"]
pilot: str = "data/demo/pilot"  # pilot folder, its pilot.yml or a DuckDB file (relative paths: here, else the repository root)
figure_dpi: int = 110  # figure resolution in dots per inch (50 to 600)
backend: str = "duckdb"  # engine: duckdb or pyspark (a pilot.yml with source.kind ibis uses its URL)

# %%
import pandas as pd
import seaborn as sns

from workbench.metrics.engine import open_pilot
from workbench.report import views as report
from workbench.runs import pipeline as run

pilot = run.resolve_pilot(pilot)
run.check_params(pilot=pilot, figure_dpi=figure_dpi, backend=backend)
report.use_theme(figure_dpi)
p = open_pilot(pilot, backend)
cfg = p.config

# %% [markdown]
# ## Arms, allocation and windows

# %%
shares = cfg.allocation_shares()
pd.DataFrame([{"role": role, "arm": arm, "planned share": f"{shares[arm]:.0%}"} for role, arm in cfg.arms.items()])

# %%
w = cfg.windows
pd.Series({"pilot": cfg.name, "randomization unit": cfg.randomization, "primary metric": cfg.primary_metric,
           "guardrails": ", ".join(cfg.guardrails), "observed until (UTC)": f"{cfg.observed_until:%Y-%m-%d %H:%M}",
           "outcome window (days)": w.outcome_days, "grace (days)": w.grace_days,
           "longest promise horizon (days)": w.max_due_days, "retention horizon (days)": w.retention_days,
           "minimum reportable cell": cfg.min_cell_size}, name="value").to_frame()

# %% [markdown]
# ## Accounts per arm and arrivals by assignment week

# %%
a = p.tables["accounts"]
weekly = a.group_by([a.arm, a.assigned_at.truncate("W").name("week")]).aggregate(accounts=a.count()).execute()
weekly["week"] = pd.to_datetime(weekly["week"]).dt.strftime("%Y-%m-%d")
# Cells under the minimum reportable size are suppressed (no total column: it would give them back by difference).
weekly["accounts"] = weekly["accounts"].where(weekly["accounts"] >= cfg.min_cell_size)
weekly.pivot_table(index="week", columns="arm", values="accounts", dropna=False).map(
    lambda n: f"< {cfg.min_cell_size}" if pd.isna(n) else int(n))

# %%
g = sns.catplot(data=weekly.sort_values("week"), x="week", y="accounts", hue="arm", kind="bar", height=3.6, aspect=2.2)
g.set_xticklabels(rotation=60)
g.set_axis_labels("assignment week (Monday, UTC)", "accounts assigned")
report.show(g.figure)
