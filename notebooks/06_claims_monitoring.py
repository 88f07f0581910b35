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
# # Claims, monitoring and pilot size
# The industry's claims for empathy-led collections judged against this pilot; a week-by-week replay of the
# primary outcome under a stopping rule tuned for the number of looks; and the pilot size the observed effect
# would need.

# %% tags=["parameters"]
pilot: str = "data/demo/pilot"  # pilot folder, its pilot.yml or a DuckDB file (relative paths: here, else the repository root)
results: str = ""  # results.json of this run; empty: fit once into reports/<pilot>/by-hand/
level: float = 0.95  # interval level of a fit made here (0.5 to 0.999)
seed: int = 1  # random seed of a fit made here
smoke: bool = False  # short sampling with low diagnostics bars (tests only)
figure_dpi: int = 110  # figure resolution in dots per inch (50 to 600)

# %%
import json

import pandas as pd
from IPython.display import Markdown, display

from workbench.report import views as report
from workbench.report import claims as report_claims
from workbench.runs import pipeline as run

pilot = run.resolve_pilot(pilot)
folder, doc = run.open_results(pilot, results, level, seed, smoke, figure_dpi)
claims = json.loads((folder / "claims.json").read_text())
mon = json.loads((folder / "monitor.json").read_text())

# %% [markdown]
# ## The claims register
# Each claim with its reading (how the wording became a quantity and a range), its horizon against the pilot's,
# the estimate in the claim's own scale and the verdict (docs/claims.md).

# %%
display(Markdown(report_claims.claims_legend(doc)))
display(report_claims.claims_frame(claims))

# %%
notes = report_claims.claims_notes(claims)
display(Markdown("\n".join(f"- {n}" for n in notes) if notes else "No reading, arithmetic or horizon notes."))

# %% [markdown]
# ## Week-by-week replay of the primary outcome

# %%
if mon.get("looks"):
    report.show(report_claims.monitor_figure(mon, dpi=figure_dpi))
display(Markdown("\n".join(f"- {line}" for line in report_claims.monitor_lines(mon))))

# %%
oc = mon.get("operating_characteristics")
if oc:
    display(pd.DataFrame(report_claims.oc_rows(oc)))

# %% [markdown]
# ## Pilot size for the observed effect

# %%
display(Markdown(report_claims.design_line(doc, level)))
