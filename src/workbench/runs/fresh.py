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
    shell.reset(new_session=False)  # the user namespace, In/Out and _, __, ___
    warnings.filters[:] = _STARTED["filters"]
    warnings._filters_mutated()  # as warnings.catch_warnings does on exit: drops the "already warned" caches
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")
    shell.execution_count = 1
