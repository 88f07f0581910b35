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
pilot: str = "../data/demo/pilot"
results: str = ""
level: float = 0.95
seed: int = 1
smoke: bool = False
figure_dpi: int = 110

# %%

from IPython.display import Markdown, display

from workbench.report import views as report
from workbench.runs import pipeline as run

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
