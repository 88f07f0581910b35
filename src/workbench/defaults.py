"""Run-wide defaults in one place: the seed, the interval level and the decision thresholds.

Every verb, notebook and module reads these; ``plan.lock`` may record other
thresholds, and then the engine uses the locked ones
(:func:`workbench.effects.gates.apply_plan`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from workbench.errors import PlanError

DEFAULT_SEED = 1  # the same seed for analyze, run, claims, monitor, design and the notebooks
DEFAULT_LEVEL = 0.95  # level of every interval shown
DEFAULT_DRAWS = 4000  # independent draws from the conjugate posteriors
# Under agent randomization, an arm with fewer agents gets no verdict on any metric: with a
# handful of agents, treatment cannot be told apart from who the agents happen to be.
MIN_AGENTS_PER_ARM = 5


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on posterior probabilities.

    Attributes
    ----------
    better : floor of the bar for "better": a metric is "better" when P(better) >
        ``max(better, (1 + level) / 2)`` (:func:`better_bar`), so the verdict agrees with
        the equal-tailed interval at the results' level printed beside it.
    worse : ceiling of the bar for "worse": P(better) < ``min(worse, (1 - level) / 2)``.
    equivalent : "equivalent" when P(inside the region of practical equivalence) > ``equivalent``.
    harm : a guardrail's default bar on P(harm beyond its margin): "no harm beyond the
        margin" when P(harm beyond it) < ``harm`` (one-sided non-inferiority); "harm" needs
        P(harm beyond it) > ``max(1 - harm, (1 + level) / 2)``, i.e. the interval shown lies
        wholly beyond the margin.
    support, contradict : a claim is supported when P(claim's range) >= ``support``,
        contradicted when <= ``contradict``.
    """

    better: float = 0.95
    worse: float = 0.05
    equivalent: float = 0.95
    harm: float = 0.05
    support: float = 0.95
    contradict: float = 0.05

    def as_dict(self) -> dict[str, float]:
        """The thresholds as plan.lock records them."""
        return asdict(self)

    @classmethod
    def from_mapping(cls, values: Mapping[str, float] | None, where: str = "thresholds") -> Thresholds:
        """Defaults overridden by ``values`` (e.g. plan.lock's ``thresholds``); each in (0, 1)."""
        known = {f.name for f in fields(cls)}
        problems = [
            f"{where}.{k}: unknown threshold; known: {', '.join(sorted(known))}" for k in (values or {}) if k not in known
        ]
        out = {}
        for k, v in (values or {}).items():
            if k not in known:
                continue
            try:
                x = float(v)
            except (TypeError, ValueError):
                x = float("nan")
            if not 0 < x < 1:
                problems.append(f"{where}.{k}: must be a probability strictly between 0 and 1, not {v!r}")
            out[k] = x
        if problems:
            raise PlanError(problems)
        return cls(**out)


THRESHOLDS = Thresholds()


def better_bar(thresholds: Thresholds, level: float) -> float:
    """The P(better) a "better" verdict needs: ``max(thresholds.better, (1 + level) / 2)``.

    P(better) > (1 + level) / 2 holds exactly when the equal-tailed interval at
    ``level`` lies above no change, so the verdict never contradicts the interval.
    """
    return max(thresholds.better, (1 + level) / 2)


def worse_bar(thresholds: Thresholds, level: float) -> float:
    """The P(better) below which a metric is "worse": ``min(thresholds.worse, (1 - level) / 2)``."""
    return min(thresholds.worse, (1 - level) / 2)


# Regions of practical equivalence when pilot.yml sets none: the smallest change
# a collections business would act on, per metric. Assumptions, stated in
# docs/effects.md and overridable in pilot.yml ``rope`` (in the metric's unit).
# ("relative", x): x times the control mean; ("absolute", x): x in the metric's unit.
DEFAULT_ROPE = {
    "engagement": ("relative", 0.10),  # a 10% relative change in reach moves staffing plans
    "ptp": ("relative", 0.10),
    "kept_ptp": ("relative", 0.10),  # the industry claims +35%; under 10% would not change the program
    "kept_rate": ("relative", 0.10),
    "complaints": ("relative", 0.25),  # rare events: a quarter of the rate
    "csat": ("absolute", 0.1),  # a tenth of a point on the 1-5 scale
    "nps": ("absolute", 0.05),  # 5 NPS points (NPS is a share here, -1..1)
    "retention": ("absolute", 0.02),  # 2 points of customers kept
    "recovery": ("relative", 0.05),  # 5% of the liquidation rate: money, so a tighter band
    "handle_time": ("absolute", 15.0),  # 15 seconds per reached contact
    "contact_intensity": ("absolute", 0.5),  # half an outbound attempt per account
}
DEFAULT_ROPE_RELATIVE = 0.10  # any other metric: 10% of the control mean


def default_rope(metric: str, control_mean: float) -> float:
    """Half-width of the default region of practical equivalence, in the metric's unit."""
    kind, x = DEFAULT_ROPE.get(metric, ("relative", DEFAULT_ROPE_RELATIVE))
    return float(x) if kind == "absolute" else float(x) * abs(float(control_mean))
