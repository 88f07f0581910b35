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
# # Effects per outcome, with diagnostics
# Each outcome's effect from the model fitted once for this run (`results.json`): difference, relative
# lift, probability of being better, the model's diagnostics, the frequentist cross-check, the prior
# beside the posterior, and a posterior predictive check of each arm's mean.

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

pilot = run.resolve_pilot(pilot)
folder, doc = run.open_results(pilot, results, level, seed, smoke, figure_dpi)

# %% [markdown]
# ## Effects

# %%
report.scorecard_frame(doc)

# %%
report.show(report.effects_figure(doc, dpi=figure_dpi))

# %% [markdown]
# ## Diagnostics, cross-check, prior and sceptical prior
# A verdict is given only when the diagnostics pass (R-hat, effective sample size, divergences for MCMC fits).

# %%
report.diagnostics_frame(doc)

# %% [markdown]
# ## Posterior predictive check of the arm means
# The observed mean of each arm against replicated means drawn from the posterior. An observed mean
# outside its predictive interval (small tail probability) means the model does not describe the data.

# %%
ppc = pd.read_csv(folder / "ppc.csv")
ppc

# %%
g = sns.FacetGrid(ppc.assign(row=range(len(ppc))), col="arm", height=4.2, aspect=1.1, sharex=False)
for ax, (arm, sub) in zip(g.axes.flat, ppc.groupby("arm", sort=False), strict=False):
    sub = sub.reset_index(drop=True)
    rel = lambda x, s=sub: (x - s.posterior_mean) / (s.predictive_hi - s.predictive_lo).where(lambda d: d > 0, 1)  # noqa: E731
    ax.hlines(sub.index, rel(sub.predictive_lo), rel(sub.predictive_hi), color=sns.color_palette()[7], linewidth=4,
              label="predictive interval")
    ax.scatter(rel(sub.observed), sub.index, color=sns.color_palette()[0], zorder=3, label="observed")
    ax.set_yticks(sub.index, sub.metric)
    ax.set_title(f"arm {arm}")
    ax.set_xlabel("(mean - posterior mean) / interval width")
g.axes.flat[0].legend(loc="lower left", fontsize=8)
report.show(g.figure)
