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
# # Segment effects (exploratory)
# Effects within each customer situation, each segment on its own (no pooling). Segments are
# exploratory: with many segments some intervals miss zero by chance. Cells under the minimum reportable
# size are suppressed.

# %% tags=["parameters"]
pilot: str = "data/demo/pilot"  # pilot folder, its pilot.yml or a DuckDB file (relative paths: here, else the repository root)
results: str = ""  # results.json of this run; empty: fit once into reports/<pilot>/by-hand/
level: float = 0.95  # interval level of a fit made here (0.5 to 0.999)
seed: int = 1  # random seed of a fit made here
smoke: bool = False  # short sampling with low diagnostics bars (tests only)
figure_dpi: int = 110  # figure resolution in dots per inch (50 to 600)

# %%

from IPython.display import Markdown, display

from workbench.report import views as report
from workbench.runs import pipeline as run

pilot = run.resolve_pilot(pilot)
_, doc = run.open_results(pilot, results, level, seed, smoke, figure_dpi)
causal = [n for n, m in doc["metrics"].items() if m.get("segments") and m.get("role") != "descriptive"]

# %%
for name in causal:
    m = doc["metrics"][name]
    display(Markdown(f"## {m.get('label', name)} ({m.get('role')})"))
    frame = report.segments_frame(doc, name)
    if frame["difference"].notna().any():
        report.show(report.segments_figure(doc, name, dpi=figure_dpi))
    display(frame)
