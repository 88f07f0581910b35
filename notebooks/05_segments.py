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
import json

from IPython.display import Markdown, display

from workbench import report, run

run.check_params(pilot=pilot, results=results, level=level, seed=seed, figure_dpi=figure_dpi)
report.use_theme(figure_dpi)
doc = json.loads(run.ensure_results(pilot, results, level, seed, smoke).read_text())
causal = [n for n, m in doc["metrics"].items() if m.get("segments") and m.get("role") != "descriptive"]

# %%
for name in causal:
    m = doc["metrics"][name]
    display(Markdown(f"## {m.get('label', name)} ({m.get('role')})"))
    frame = report.segments_frame(doc, name)
    if frame["difference"].notna().any():
        report.show(report.segments_figure(doc, name, dpi=figure_dpi))
    display(frame)
