"""Bayesian models of the effect engine, fitted on sufficient statistics.

Public face of :mod:`workbench.models_base` (the :class:`Fit` result, priors,
diagnostics, compiled-model cache), :mod:`workbench.models_binary`
(:class:`HierarchicalBinary`) and :mod:`workbench.models_ordinal`
(:class:`CumulativeLogit`). See ``docs/models.md``.
"""

from workbench.models_base import (
    DEFAULT_SAMPLER,
    PRODUCTION,
    SAMPLERS,
    SMOKE,
    Fit,
    ModelInputError,
    clear_cache,
    diagnostics,
    merge_priors,
)
from workbench.models_binary import BinaryCells, HierarchicalBinary
from workbench.models_ordinal import QUANTITIES, SCALES, CumulativeLogit

__all__ = [
    "DEFAULT_SAMPLER",
    "PRODUCTION",
    "QUANTITIES",
    "SAMPLERS",
    "SCALES",
    "SMOKE",
    "BinaryCells",
    "CumulativeLogit",
    "Fit",
    "HierarchicalBinary",
    "ModelInputError",
    "clear_cache",
    "diagnostics",
    "merge_priors",
]
