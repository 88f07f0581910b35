"""What the effect engine is asked: how to fit (:class:`Settings`) and what the pilot is (:class:`Design`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.defaults import DEFAULT_DRAWS, DEFAULT_LEVEL, DEFAULT_SEED, THRESHOLDS, Thresholds


@dataclass(frozen=True)
class Settings:
    """How to fit: interval level, draws, seed, MCMC budget, diagnostics thresholds."""

    level: float = DEFAULT_LEVEL
    draws: int = DEFAULT_DRAWS  # independent draws for the conjugate posteriors
    seed: int = DEFAULT_SEED
    mcmc_draws: int = 2000  # hierarchical fits: see HierarchicalBinary.fit
    mcmc_tune: int = 2000
    mcmc_chains: int = 2
    smoke: bool = False  # lower diagnostics thresholds, labelled "smoke" in the output
    thresholds: Thresholds = field(default_factory=lambda: THRESHOLDS)  # a locked plan's, when there is one


@dataclass
class Design:
    """What the engine needs to know about the pilot (from pilot.yml, or given for summaries)."""

    control: str
    treatments: list[str]
    primary: str | None = None
    guardrails: dict | None = None  # metric -> {"margin", "threshold"}
    rope: dict | None = None
    priors: dict | None = None
    randomization: str = "account"
    retention_days: int = 180
    higher_is_better: dict | None = None  # overrides for summaries (metric -> bool)
    design_effect: dict | None = None  # given design effects for summaries (metric -> float >= 1)


def design_from_config(cfg) -> Design:
    """The engine's view of a pilot.yml."""
    return Design(
        control=cfg.control,
        treatments=cfg.treatments,
        primary=cfg.primary_metric,
        guardrails={k: g.model_dump() for k, g in cfg.guardrails.items()},
        rope=dict(cfg.rope),
        priors=dict(cfg.priors),
        randomization=cfg.randomization,
        retention_days=cfg.windows.retention_days,
    )
