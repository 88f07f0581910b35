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
pilot: str = "../data/demo/pilot"
results: str = ""
level: float = 0.95
seed: int = 1
smoke: bool = False
figure_dpi: int = 110
subject: str = ""

# %%
import json

from IPython.display import HTML, Markdown, display

from workbench.report import views as report
from workbench.runs import pipeline as run
from workbench.contract.config import load_config
from workbench.metrics.engine import locate

folder, doc = run.open_results(pilot, results, level, seed, smoke, figure_dpi)
cfg = load_config(locate(pilot)[0])
who = subject or report.subject_for(doc["treatments"][0])
primary = doc["decision"].get("primary_metric")
order = sorted(doc["metrics"], key=lambda n: ({"primary": 0, "guardrail": 1, "exploratory": 2}.get(doc["metrics"][n].get("role"), 3), n))
display(Markdown(f"Pilot **{cfg.name}**: {who.lower() if subject == '' else who} (arm *{doc['treatments'][0]}*) "
                 f"against *{doc['control']}*, randomized by {cfg.randomization}, data until {cfg.observed_until:%d %B %Y}."))
display(HTML(report.badges_html(doc)))
display(Markdown(f"**{report.headline(doc)}**"))

# %% [markdown]
# ## Verdict per outcome

# %%
display(Markdown("\n".join(f"- **{doc['metrics'][n].get('label', n)}**: {report.verdict_sentence(doc, n, who)} "
                           f"*{report.role_note(doc, n)}*" for n in order)))

# %% [markdown]
# ## Every outcome at a glance
# Relative change of each outcome with its interval. Blue circles help, orange crosses harm, grey squares
# are not clearly different from no change.

# %%
report.show(report.effects_figure(doc, dpi=figure_dpi))

# %% [markdown]
# ## Guardrails
# A guardrail fails when the probability of harm beyond its margin exceeds its limit.

# %%
display(HTML(report.guardrails_frame(doc).to_html(index=False)))

# %% [markdown]
# ## Segment effects (exploratory)

# %%
if primary in doc["metrics"] and doc["metrics"][primary].get("segments") and not report.gate(doc, primary):
    report.show(report.segments_figure(doc, primary, dpi=figure_dpi))
else:
    display(Markdown("No segment effects to show for the primary outcome (no segments, or the verdict is inconclusive)."))

# %% [markdown]
# ## The industry's claims, tested on this pilot

# %%
from workbench.report import claims as report_claims

claims = json.loads((folder / "claims.json").read_text())
display(Markdown(report_claims.claims_summary(claims)))
display(HTML(report_claims.claims_frame(claims).to_html(index=False)))

# %% [markdown]
# ## Money impact for the portfolio

# %%
impact = report.money_impact(doc, cfg.portfolio.accounts, cfg.portfolio.cost_per_contact, cfg.windows.outcome_days)
display(Markdown("\n".join(f"- {line}" for line in report.money_lines(impact, doc["level"]))
                 + "\n\nAssumptions:\n\n" + "\n".join(f"- {a}" for a in impact["assumptions"])))

# %% [markdown]
# ## How to read this
# Intervals hold the effect with the stated probability given the data and the model. "Probability it
# helps" is the probability that the treatment is better than control on that outcome. Exploratory
# outcomes and segments are for the next pilot's questions, not for decisions.
