"""A clean slate in a notebook kernel between two notebooks of one run.

``workbench run`` executes its notebooks one after the other in one kernel
(:func:`workbench.runs.notebooks.shared_kernel`): each kernel would otherwise
start Python and import pandas, matplotlib, seaborn, SciPy and the package
again, the larger part of a small pilot's run. This module is what the run
sends to the kernel before each notebook, so that no notebook sees anything
another left behind. It imports nothing heavy: the kernel runs it before the
notebook's own imports.
"""

from __future__ import annotations

import gc
import sys
import warnings
from typing import Any

#: The warning filters of the kernel as it started, restored before each notebook.
_STARTED: dict[str, Any] = {}


def fresh(shell: Any) -> None:
    """Forget the previous notebook: its variables, history, open figures and warning filters; number cells from 1.

    Plotting and display options need no reset: every notebook's first cell
    sets the same theme (:func:`workbench.report.views.use_theme`) from its own
    ``figure_dpi``.
    """
    if not _STARTED:
        _STARTED["filters"] = list(warnings.filters)
        # Before the first notebook the kernel holds only what it imported (the run's warm-up): kept
        # out of every later full collection (gc.freeze, CPython's tool for long-lived start-up objects).
        # IPython's reset below ends in a full gc.collect() that otherwise walks those ~10^6 objects
        # again before each notebook (0.3 s each, measured), and so do the notebooks' own collections.
        gc.collect()
        gc.freeze()
    shell.reset(new_session=False)  # the user namespace, In/Out and _, __, ___
    warnings.filters[:] = _STARTED["filters"]
    warnings._filters_mutated()  # as warnings.catch_warnings does on exit: drops the "already warned" caches
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")
    shell.execution_count = 1
