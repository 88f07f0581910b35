"""Posteriors of the effect engine, fitted on sufficient statistics.

:mod:`~workbench.models.conjugate` holds the exact or large-sample posteriors per
family; :mod:`~workbench.models.base` the shared machinery of the PyMC models (the
:class:`Fit` result, priors, diagnostics, compiled-model cache);
:mod:`~workbench.models.binary` the hierarchical logistic model and
:mod:`~workbench.models.ordinal` the cumulative logit. Import the submodule you
need: this package imports nothing, so that the conjugate path never loads PyMC.
See ``docs/models.md``.
"""
