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
pilot: str = "data/demo/pilot"  # pilot folder, its pilot.yml or a DuckDB file (relative paths: here, else the repository root)
results: str = ""  # results.json of this run; empty: fit once into reports/<pilot>/by-hand/
level: float = 0.95  # interval level of a fit made here (0.5 to 0.999)
seed: int = 1  # random seed of a fit made here
smoke: bool = False  # short sampling with low diagnostics bars (tests only)
figure_dpi: int = 110  # figure resolution in dots per inch (50 to 600)

# %%
import pandas as pd
import seaborn as sns

from workbench.report import views as report
from workbench.runs import pipeline as run
from workbench.metrics.catalogue import CATALOGUE

pilot = run.resolve_pilot(pilot)
folder, _ = run.open_results(pilot, results, level, seed, smoke, figure_dpi)
stats = pd.read_csv(folder / "stats.csv")


def shown(row):
    """An arm's mean in the metric's own words."""
    return report.fmt_value({"unit": CATALOGUE[row["metric"]].unit}, row["mean"])


# %% [markdown]
# ## By arm

# %%
label = {m: CATALOGUE[m].label for m in CATALOGUE}
by_arm = stats.assign(value=stats.apply(shown, axis=1), outcome=stats.metric.map(label),
                      unit=stats.metric.map(lambda m: report.shown_unit({"unit": CATALOGUE[m].unit})))
by_arm.pivot_table(index=["outcome", "unit"], columns="arm", values="value", aggfunc="first", sort=False)

# %%
# Counts as whole numbers: n is what each mean is taken over (accounts; responders for CSAT and NPS).
counts = by_arm.pivot_table(index="outcome", columns="arm", values=["n", "excluded"], aggfunc="sum", sort=False)
counts.astype("Int64")

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
    weekly = weekly.assign(mean=weekly["mean"] * weekly.metric.map(lambda m: 100 if report.shown_unit({"unit": CATALOGUE[m].unit}).startswith("%") else 1))
    g = sns.relplot(data=weekly, x="week", y="mean", hue="arm", style="arm", col="metric",
                    col_wrap=2, kind="line", markers=True, height=2.8, aspect=1.6, facet_kws={"sharey": False})
    for ax in g.axes.flat:  # every facet keeps its week labels (a wrapped grid hides the upper rows')
        ax.tick_params(axis="x", labelbottom=True, labelrotation=60)
        unit = report.shown_unit({"unit": CATALOGUE[ax.get_title().split(" = ")[-1]].unit})
        ax.set_ylabel(f"arm mean ({unit})")
        ax.set_xlabel("assignment week")
    report.show(g.figure)
