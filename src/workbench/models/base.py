"""Shared machinery of the Bayesian models: the result type, priors as data,
input checks, the compiled-model cache, sampling and the convergence gate.

The models themselves live in :mod:`workbench.models.binary` and
:mod:`workbench.models.ordinal`; :mod:`workbench.models` is the public face.
"""

from __future__ import annotations

import copy
import logging
import os
import warnings
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
from pymc.initial_point import make_initial_point_fn

from workbench.errors import ModelInputError

PRODUCTION = {"r_hat": 1.01, "ess_bulk": 400.0, "label": "production"}
SMOKE = {"r_hat": 1.1, "ess_bulk": 50.0, "label": "smoke"}


@dataclass
class Fit:
    """What a fitted model hands to the effect engine.

    Attributes
    ----------
    model : model name, e.g. ``"hierarchical_logistic"``.
    draws : arm label -> 1-D posterior draws (chains stacked) of the arm's
        marginal mean in the metric's unit.
    prior_draws : arm label -> draws of the same quantity under the prior.
    diagnostics : ``r_hat_max``, ``ess_bulk_min``, ``divergences``, ``ok`` and
        the ``thresholds`` they were judged against (``r_hat``, ``ess_bulk``,
        ``label``: production | smoke).
    segments : segment -> arm -> draws of the marginal mean within the segment;
        ``{}`` when the model has no segments.
    idata : the ArviZ InferenceData (posterior, sample_stats, observed_data,
        prior), kept for notebooks.
    """

    model: str
    draws: dict[str, np.ndarray]
    prior_draws: dict[str, np.ndarray]
    diagnostics: dict
    segments: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    idata: object | None = None


# ---------------------------------------------------------------- priors as data


def merge_priors(defaults: dict, overrides: dict | None, owner: str) -> dict:
    """Defaults with user overrides merged over them, one level deep.

    Every prior is ``{name: {parameter: number}}``. An unknown prior or
    parameter, or a non-finite value, or a non-positive scale, raises
    :class:`ModelInputError` naming it and listing what is allowed.
    """
    merged = copy.deepcopy(defaults)
    if overrides is None:
        return merged
    if not isinstance(overrides, dict):
        raise ModelInputError(f"{owner}: priors must be a dict, got {type(overrides).__name__}")
    for name, params in overrides.items():
        if name not in defaults:
            raise ModelInputError(f"{owner}: unknown prior {name!r}; known priors: {', '.join(sorted(defaults))}")
        if not isinstance(params, dict):
            raise ModelInputError(f"{owner}: prior {name!r} must be a dict of parameters, got {params!r}")
        for key, value in params.items():
            if key not in defaults[name]:
                raise ModelInputError(
                    f"{owner}: unknown parameter {key!r} of prior {name!r}; known: {', '.join(sorted(defaults[name]))}"
                )
            if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
                raise ModelInputError(f"{owner}: prior {name}.{key} must be a finite number, got {value!r}")
            if key in ("sigma", "alpha") and value <= 0:
                raise ModelInputError(f"{owner}: prior {name}.{key} must be > 0, got {value!r}")
            merged[name][key] = float(value)
    return merged


def freeze(obj: Any) -> Hashable:
    """A hashable, order-independent image of nested dicts/lists (cache keys)."""
    if isinstance(obj, dict):
        return tuple(sorted((k, freeze(v)) for k, v in obj.items()))
    if isinstance(obj, list | tuple):
        return tuple(freeze(v) for v in obj)
    return obj


# ---------------------------------------------------------------- input checks


def check_arms(control: str, treatments: list[str] | tuple[str, ...], owner: str) -> list[str]:
    """``[control, *treatments]`` after checking labels are distinct strings."""
    if isinstance(treatments, str):
        raise ModelInputError(f"{owner}: treatments must be a list of arm labels, got the string {treatments!r}")
    arms = [control, *list(treatments)]
    if not treatments:
        raise ModelInputError(f"{owner}: at least one treatment arm is needed")
    for a in arms:
        if not isinstance(a, str) or not a:
            raise ModelInputError(f"{owner}: arm labels must be non-empty strings, got {a!r}")
    dup = sorted({a for a in arms if arms.count(a) > 1})
    if dup:
        raise ModelInputError(f"{owner}: arm labels repeated in control/treatments: {', '.join(dup)}")
    return arms


def check_cells(cells: pd.DataFrame, count_cols: list[str], arms: list[str], owner: str) -> pd.DataFrame:
    """Common checks of a frame of cells; returns a copy with counts as int64.

    Checks: a DataFrame; columns ``arm`` and ``count_cols`` present; counts
    whole, non-negative and not missing; ``segment``/``agent_id`` (when present)
    not missing; every arm of the frame declared and every declared arm
    present with at least one unit.
    """
    if not isinstance(cells, pd.DataFrame):
        raise ModelInputError(f"{owner}: cells must be a pandas DataFrame, got {type(cells).__name__}")
    missing = [c for c in ["arm", *count_cols] if c not in cells.columns]
    if missing:
        raise ModelInputError(f"{owner}: cells lack column(s) {', '.join(missing)}")
    out = cells.copy()
    for c in count_cols:
        v = pd.to_numeric(out[c], errors="coerce")
        bad = v.isna() | (v < 0) | (v != np.floor(v))
        if bad.any():
            rows = list(out.index[bad][:5])
            raise ModelInputError(f"{owner}: column {c!r} must hold whole numbers >= 0; bad value(s) at row(s) {rows}")
        out[c] = v.astype("int64")
    for c in ("arm", "segment", "agent_id"):
        if c in out.columns and out[c].isna().any():
            rows = list(out.index[out[c].isna()][:5])
            raise ModelInputError(f"{owner}: column {c!r} has missing values at row(s) {rows}")
        if c in out.columns:
            out[c] = out[c].astype(str)
    unknown = sorted(set(out["arm"]) - set(arms))
    if unknown:
        raise ModelInputError(
            f"{owner}: cells hold arm(s) {', '.join(unknown)} that are neither control nor treatments ({', '.join(arms)})"
        )
    return out


def require_units(units_per_arm: pd.Series, arms: list[str], owner: str, what: str) -> None:
    """Every declared arm must have at least one unit (``what``: accounts, responders)."""
    empty = [a for a in arms if units_per_arm.get(a, 0) <= 0]
    if empty:
        raise ModelInputError(f"{owner}: arm(s) {', '.join(empty)} have no {what} (n = 0) in cells")


# ---------------------------------------------------------------- compiled-model cache

_CACHE: OrderedDict[Hashable, Any] = OrderedDict()
_CACHE_SIZE = 8


def cached(key: Hashable, build: Callable[[], Any]) -> Any:
    """The object stored under ``key``, built on first use (small LRU).

    The models cache their ``pm.Model`` together with its compiled NUTS step:
    a new dataset with the same structure (same arms, segments, agents and
    number of cells) only swaps the ``pm.Data`` values.
    """
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    obj = build()
    _CACHE[key] = obj
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return obj


def clear_cache() -> None:
    """Forget every cached compiled model."""
    _CACHE.clear()


# ---------------------------------------------------------------- sampling


#: The NUTS implementation, chosen by measurement (docs/models.md): nutpie's
#: Rust sampler on a Numba-compiled log density fits the hierarchical
#: logistic on 480 cells in 8.7 s against 38.0 s for PyMC's own NUTS (2,000 +
#: 2,000 draws, compiled model cached), whose Python loop costs as much per
#: leapfrog step as the gradient itself. PyMC's NUTS stays available
#: (``sampler="pymc"``): no Numba compilation of a new structure (15-40 s).
SAMPLERS = ("nutpie", "pymc")
DEFAULT_SAMPLER = "nutpie"


class Compiled:
    """A model compiled once, sampled many times with new data.

    ``sampler="nutpie"``: :func:`nutpie.compile_pymc_model` (Numba backend)
    compiles the log density and its gradient once; each fit swaps the
    ``pm.Data`` values (``with_data``) and runs nutpie's NUTS, chains in
    parallel threads, each seeded from ``seed`` (same seed, same draws).

    ``sampler="pymc"``: PyMC's NUTS step is created once and reused, its
    adaptation state reset to the fresh one before each fit, so refits only
    pay for sampling. Initial points are jittered in the unconstrained space
    like PyMC's default ``jitter+adapt_diag`` (uniform(-1, 1) around the
    model's initial point).
    """

    def __init__(self, model: pm.Model, data_names: list[str], target_accept: float = 0.8, sampler: str = DEFAULT_SAMPLER):
        if sampler not in SAMPLERS:
            raise ModelInputError(f"unknown sampler {sampler!r}; choose from {', '.join(SAMPLERS)}")
        self.model = model
        self.data_names = data_names
        self.sampler = sampler
        self.target_accept = target_accept
        self._data: dict[str, np.ndarray] = {}
        if sampler == "nutpie":
            import nutpie  # Numba compiles on import: only when the nutpie sampler is asked for

            with _quiet():
                self._nutpie = nutpie.compile_pymc_model(model, backend="numba")
            return
        with model:
            self.step = pm.NUTS(model=model, target_accept=target_accept)
        self.fresh = copy.deepcopy(self.step.sampling_state)
        # constrained values (by RV name), jittered uniform(-1, 1) in the
        # unconstrained space, exactly as PyMC's own "jitter+adapt_diag" init
        self._jitter = make_initial_point_fn(model=model, jitter_rvs=set(model.free_RVs), return_transformed=False)

    def set_data(self, values: dict[str, np.ndarray]) -> None:
        for k, v in values.items():
            arr = np.asarray(v, dtype=self.model[k].dtype)
            self.model[k].set_value(arr)  # prior draws read the model's own containers
            self._data[k] = arr

    def sample(self, draws: int, tune: int, chains: int, seed: int) -> az.InferenceData:
        if self.sampler == "nutpie":
            import nutpie  # Numba compiles on import: only when the nutpie sampler is asked for

            compiled = self._nutpie.with_data(**self._data) if self._data else self._nutpie
            with _quiet():
                return nutpie.sample(
                    compiled,
                    draws=draws,
                    tune=tune,
                    chains=chains,
                    seed=seed,
                    cores=min(chains, os.cpu_count() or 1),
                    target_accept=self.target_accept,
                    progress_bar=False,
                )
        seeds = np.random.default_rng([seed, 7919]).integers(2**30, size=chains)
        initvals = [self._jitter(int(s)) for s in seeds]
        self.step.sampling_state = copy.deepcopy(self.fresh)
        with self.model, _quiet():
            return pm.sample(
                draws=draws,
                tune=tune,
                chains=chains,
                cores=1,
                step=self.step,
                initvals=initvals,
                random_seed=seed,
                progressbar=False,
                compute_convergence_checks=False,
                quiet=True,
            )

    def prior(self, var_names: list[str], draws: int, seed: int) -> az.InferenceData:
        """Forward draws of ``var_names`` under the prior."""
        with self.model, _quiet():
            return pm.sample_prior_predictive(draws=draws, var_names=var_names, random_seed=seed)


class _quiet:
    """Silence PyMC's per-fit logging and sampler warnings (diagnostics are ours)."""

    def __enter__(self):
        self._log = logging.getLogger("pymc")
        self._level = self._log.level
        self._log.setLevel(logging.ERROR)
        self._warn = warnings.catch_warnings()
        self._warn.__enter__()
        warnings.simplefilter("ignore")
        return self

    def __exit__(self, *exc):
        self._warn.__exit__(*exc)
        self._log.setLevel(self._level)
        return False


# ---------------------------------------------------------------- convergence gate


def diagnostics(idata: az.InferenceData, var_names: list[str], smoke: bool) -> dict:
    """R-hat (rank-normalized, max), bulk ESS (min) and divergences, judged.

    ``ok`` is True when r_hat_max <= 1.01, ess_bulk_min >= 400 and there is no
    divergence (smoke: 1.1 and 50, for the tiny fits of the test suite).
    """
    th = dict(SMOKE if smoke else PRODUCTION)
    rhat = az.rhat(idata, var_names=var_names, method="rank")
    ess = az.ess(idata, var_names=var_names, method="bulk")
    r = np.concatenate([np.atleast_1d(rhat[v].values).ravel() for v in var_names])
    e = np.concatenate([np.atleast_1d(ess[v].values).ravel() for v in var_names])
    r_max = float(np.nanmax(r)) if np.isfinite(r).any() else float("nan")
    e_min = float(np.nanmin(e)) if np.isfinite(e).any() else float("nan")
    div = int(idata.sample_stats["diverging"].values.sum())
    ok = bool(np.isfinite(r_max) and np.isfinite(e_min) and r_max <= th["r_hat"] and e_min >= th["ess_bulk"] and div == 0)
    return {"r_hat_max": r_max, "ess_bulk_min": e_min, "divergences": div, "ok": ok, "thresholds": th}


def stacked(idata: az.InferenceData, name: str, group: str = "posterior") -> Any:
    """``idata.<group>[name]`` with chains and draws stacked into one ``sample`` dim."""
    da = idata[group][name]
    return da.stack(sample=("chain", "draw")).transpose("sample", ...)
