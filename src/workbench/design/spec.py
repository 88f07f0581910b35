"""What a pilot's design must achieve (:class:`DesignSpec`) and when a simulated decision is correct."""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.contract.config import Windows
from workbench.defaults import DEFAULT_LEVEL, DEFAULT_SEED, THRESHOLDS, better_bar
from workbench.metrics.catalogue import CATALOGUE

THRESHOLD = better_bar(THRESHOLDS, DEFAULT_LEVEL)  # P(better) bar of the engine's verdict (effects.decision)


@dataclass
class DesignSpec:
    """What the pilot must be able to detect, and how it is randomized.

    Under agent randomization (``unit="agent"``): ``icc`` is the intra-cluster
    correlation of the outcome within an agent, ``accounts_per_agent`` the mean
    accounts an agent handles, ``agent_size_cv`` the coefficient of variation of
    agents' sizes (0: every agent the same size), ``agents_per_arm`` a pilot
    size to evaluate (the agents the team can put in each arm), and
    ``confirm_sims`` the simulated pilots of the hierarchical confirmation (0:
    none); ``smoke`` runs that confirmation with small MCMC budgets and the
    smoke convergence thresholds (tests only, labelled in the output).
    """

    metric: str
    baseline: float
    effect: float  # treatment - control, in the metric's unit (a share for binary metrics)
    unit: str = "account"
    icc: float = 0.0
    accounts_per_agent: int = 50
    weekly_arrivals: float | None = None
    target: float = 0.8
    sims: int = 200
    seed: int = DEFAULT_SEED
    rope: float | None = None
    windows: Windows = field(default_factory=Windows)
    # metric -> {"margin", "threshold" (default Thresholds.harm), "sd" (per-account standard deviation)}
    guardrails: dict | None = None
    agent_size_cv: float = 0.0
    agents_per_arm: int | None = None
    confirm_sims: int = 100
    smoke: bool = False

    def check(self) -> list[str]:
        """Problems with the specification, one line each (empty when valid)."""
        out = []
        fam = CATALOGUE[self.metric].family if self.metric in CATALOGUE else None
        if fam not in ("binary", "time-to-event"):
            out.append(f"--metric: {self.metric!r} is not a binary metric (design covers binary metrics)")
        if not 0 < self.baseline < 1:
            out.append("--baseline: must be a share strictly between 0 and 1")
        elif not 0 < self.baseline + self.effect < 1:
            out.append("--effect: baseline + effect must stay strictly between 0 and 1")
        if self.effect == 0 and not self.rope:
            out.append("--effect 0 asks for equivalence: give --rope (the region of practical equivalence)")
        if self.unit not in ("account", "agent"):
            out.append("--unit: must be account or agent")
        if self.unit == "agent" and not 0 <= self.icc < 1:
            out.append("--icc: must be in [0, 1)")
        if self.unit == "agent" and self.accounts_per_agent < 1:
            out.append("--accounts-per-agent: must be at least 1")
        if self.unit == "agent" and not 0 <= self.agent_size_cv <= 3:
            out.append("--agent-size-cv: must be in [0, 3] (0: every agent handles the same number of accounts)")
        if self.agents_per_arm is not None and (self.unit != "agent" or self.agents_per_arm < 1):
            out.append("--agents-per-arm: needs --unit agent and at least 1 agent")
        if self.confirm_sims < 0:
            out.append("--confirm-sims: must be 0 (no confirmation) or more")
        if not 0 < self.target < 1:
            out.append("--target: must be between 0 and 1")
        return out

    @property
    def higher_is_better(self) -> bool:
        hib = CATALOGUE[self.metric].higher_is_better if self.metric in CATALOGUE else True
        return hib is not False

    @property
    def design_effect(self) -> float:
        """Kish design effect ``1 + (m - 1) rho`` (1 under account randomization)."""
        return 1.0 + (self.accounts_per_agent - 1) * self.icc if self.unit == "agent" else 1.0

    def window_days(self) -> int:
        """Days from assignment until an account's outcome is known (its eligibility)."""
        w = self.windows
        if self.metric == "kept_ptp":
            return w.outcome_days + w.grace_days + w.max_due_days
        if self.metric == "retention":
            return w.retention_days
        return w.outcome_days


def correct_decision(doc: dict, spec: DesignSpec) -> bool:
    """Did the engine's end-of-pilot numbers give the right decision for the planned effect?"""
    v = doc["metrics"][spec.metric]["decision"]["verdict"]
    if spec.effect == 0:
        return v == "equivalent"
    better = (spec.effect > 0) == spec.higher_is_better
    return v == ("better" if better else "worse")
