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
# # Executive summary

# %% tags=["parameters"]
pilot: str = "data/demo/pilot"  # pilot folder, its pilot.yml or a DuckDB file (relative paths: here, else the repository root)
results: str = ""  # results.json of this run; empty: fit once into reports/<pilot>/by-hand/
level: float = 0.95  # interval level of a fit made here (0.5 to 0.999)
seed: int = 1  # random seed of a fit made here
smoke: bool = False  # short sampling with low diagnostics bars (tests only)
figure_dpi: int = 110  # figure resolution in dots per inch (50 to 600)
subject: str = ""  # how sentences name the treatment; empty: "<Arm>-led contact"

# %%
import json

from IPython.display import HTML, display

from workbench.report import views as report
from workbench.runs import pipeline as run
from workbench.contract.config import load_config
from workbench.metrics.engine import locate

pilot = run.resolve_pilot(pilot)
folder, doc = run.open_results(pilot, results, level, seed, smoke, figure_dpi)
cfg = load_config(locate(pilot)[0])
who = subject or report.subject_for(doc["treatments"][0])
primary = doc["decision"].get("primary_metric")
# The verdict banner and the scorecard first: every cell from the one outcome view (report.outcomes).
dates = f"Data until {cfg.observed_until:%d %B %Y}, randomized by {cfg.randomization}"
display(HTML(report.scorecard_html(doc, pilot=cfg.name, dates=dates)))
display(HTML(report.badges_html(doc)))

# %% [markdown]
# ## Verdict per outcome

# %%
display(HTML(report.sentences_html(doc, who)))

# %% [markdown]
# ## Every outcome at a glance
# Relative change of each outcome with its interval, primary at the top. Marker and colour follow the state
# written in the legend (the same words as the scorecard); an outcome blocked by a check sits at zero with no interval.

# %%
report.show(report.effects_figure(doc, dpi=figure_dpi), alt=report.effects_alt(doc))

# %% [markdown]
# ## Guardrails
# A guardrail shows harm when its interval lies wholly beyond the harm margin, and rules harm out when the
# probability of harm beyond the margin is under its limit; otherwise there is not enough data yet.

# %%
display(HTML(report.frame_html(report.guardrails_frame(doc, every_arm=True))))

# %% [markdown]
# ## Segment effects (exploratory)

# %%
if primary in doc["metrics"] and doc["metrics"][primary].get("segments") and not report.gate(doc, primary):
    report.show(report.segments_figure(doc, primary, dpi=figure_dpi))
else:
    display(HTML(report.text_html(["No segment effects to show for the primary outcome (no segments, or it is blocked by a check)."])))

# %% [markdown]
# ## The industry's claims, tested on this pilot

# %%
from workbench.report import claims as report_claims

claims = json.loads((folder / "claims.json").read_text())
display(HTML(report.text_html([report_claims.claims_summary(claims)])))
display(HTML(report.frame_html(report.claims_table(claims, doc))))

# %% [markdown]
# ## Money impact for the portfolio

# %%
impact = report.money_impact(doc, cfg.portfolio.accounts, cfg.portfolio.cost_per_contact, cfg.windows.outcome_days,
                             currency=cfg.portfolio.currency)
display(HTML(report.text_html([], report.money_lines(impact, doc["level"]))))
display(HTML(report.text_html(["Assumptions:"], impact["assumptions"])))

# %% [markdown]
# ## How to read this
# Intervals hold the effect with the stated probability given the data and the model. "Probability it
# helps" is the probability that the treatment is better than control on that outcome. Exploratory
# outcomes and segments are for the next pilot's questions, not for decisions.
