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
# # Metrics by arm, segment and assignment week
# Sufficient statistics from `results.json`'s run folder (fitted once per run). Segment cells below the
# minimum reportable size are blanked.

# %% tags=["parameters"]
pilot: str = "../data/demo/pilot"
results: str = ""
level: float = 0.95
seed: int = 1
smoke: bool = False
figure_dpi: int = 110

# %%
import pandas as pd
import seaborn as sns

from workbench.report import views as report
from workbench.runs import pipeline as run
from workbench.metrics.catalogue import CATALOGUE

folder, _ = run.open_results(pilot, results, level, seed, smoke, figure_dpi)
stats = pd.read_csv(folder / "stats.csv")


def shown(row):
    """An arm's mean in the metric's own words."""
    return report.fmt_value({"unit": CATALOGUE[row["metric"]].unit}, row["mean"])


# %% [markdown]
# ## By arm

# %%
by_arm = stats.assign(value=stats.apply(shown, axis=1), unit=stats.metric.map(lambda m: CATALOGUE[m].unit))
by_arm.pivot_table(index=["metric", "unit"], columns="arm", values="value", aggfunc="first", sort=False)

# %%
by_arm[["metric", "arm", "accounts", "excluded", "n"]].pivot_table(index="metric", columns="arm", values=["n", "excluded"], sort=False)

# %% [markdown]
# ## By segment

# %%
seg_file = folder / "stats_segment.csv"
if seg_file.exists():
    seg = pd.read_csv(seg_file)
    seg["value"] = [shown(r) if not r["suppressed"] else "suppressed" for r in seg.to_dict("records")]
    display(seg.pivot_table(index=["metric", "segment"], columns="arm", values="value", aggfunc="first", sort=False))
else:
    print("the pilot has no segment column: no segment breakdown")

# %% [markdown]
# ## By assignment week

# %%
week = pd.read_csv(folder / "stats_week.csv")
keep = [m for m in ("engagement", "ptp", "kept_ptp", "recovery") if m in set(week.metric)]
weekly = week[week.metric.isin(keep) & week["mean"].notna()]
if weekly.empty:
    print("no assignment week has an account whose outcome window is over yet: nothing to plot")
else:
    g = sns.relplot(data=weekly, x="week", y="mean", hue="arm", style="arm", col="metric",
                    col_wrap=2, kind="line", markers=True, height=2.8, aspect=1.6, facet_kws={"sharey": False})
    g.set_xticklabels(rotation=60)
    g.set_axis_labels("assignment week", "arm mean (metric's unit)")
    report.show(g.figure)
