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

from IPython.display import HTML, display

from workbench.report import pages
from workbench.report import views as report
from workbench.runs import pipeline as run
from workbench.contract.config import load_config
from workbench.metrics.engine import locate

folder, doc = run.open_results(pilot, results, level, seed, smoke, figure_dpi)
cfg = load_config(locate(pilot)[0])
who = subject or report.subject_for(doc["treatments"][0])
primary = doc["decision"].get("primary_metric")
order = sorted(doc["metrics"], key=lambda n: ({"primary": 0, "guardrail": 1, "exploratory": 2}.get(doc["metrics"][n].get("role"), 3), n))
# Every text from the data or pilot.yml goes through a template with autoescape (never Markdown, which passes HTML through).
display(HTML(pages.render("executive_intro.html.j2", name=cfg.name, subject=who.lower() if subject == "" else who,
                          treatment=doc["treatments"][0], control=doc["control"], randomization=cfg.randomization,
                          observed_until=f"{cfg.observed_until:%d %B %Y}")))
display(HTML(pages.clean_fragment(report.badges_html(doc))))
display(HTML(pages.render("text.html.j2", paragraphs=[report.headline(doc)], strong=True, items=[], heading="", more=[])))

# %% [markdown]
# ## Verdict per outcome

# %%
display(HTML(pages.render("verdicts.html.j2", rows=[{"label": doc["metrics"][n].get("label", n),
                                                      "sentence": report.verdict_sentence(doc, n, who),
                                                      "note": report.role_note(doc, n)} for n in order])))

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
display(HTML(pages.clean_fragment(report.guardrails_frame(doc).to_html(index=False, escape=True))))

# %% [markdown]
# ## Segment effects (exploratory)

# %%
if primary in doc["metrics"] and doc["metrics"][primary].get("segments") and not report.gate(doc, primary):
    report.show(report.segments_figure(doc, primary, dpi=figure_dpi))
else:
    display(HTML(pages.render("text.html.j2", paragraphs=["No segment effects to show for the primary outcome "
                                                          "(no segments, or the verdict is inconclusive)."],
                              strong=False, items=[], heading="", more=[])))

# %% [markdown]
# ## The industry's claims, tested on this pilot

# %%
from workbench.report import claims as report_claims

claims = json.loads((folder / "claims.json").read_text())
display(HTML(pages.render("text.html.j2", paragraphs=[report_claims.claims_summary(claims)], strong=False, items=[],
                          heading="", more=[])))
display(HTML(pages.clean_fragment(report_claims.claims_frame(claims).to_html(index=False, escape=True))))

# %% [markdown]
# ## Money impact for the portfolio

# %%
impact = report.money_impact(doc, cfg.portfolio.accounts, cfg.portfolio.cost_per_contact, cfg.windows.outcome_days)
display(HTML(pages.render("text.html.j2", paragraphs=[], strong=False, items=report.money_lines(impact, doc["level"]),
                          heading="Assumptions:", more=impact["assumptions"])))

# %% [markdown]
# ## How to read this
# Intervals hold the effect with the stated probability given the data and the model. "Probability it
# helps" is the probability that the treatment is better than control on that outcome. Exploratory
# outcomes and segments are for the next pilot's questions, not for decisions.
