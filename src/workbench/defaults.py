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


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on posterior probabilities.

    Attributes
    ----------
    better : a metric is "better" when P(better) > ``better``.
    worse : "worse" when P(better) < ``worse``.
    equivalent : "equivalent" when P(inside the region of practical equivalence) > ``equivalent``.
    harm : a guardrail's default bar on P(harm beyond its margin).
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
