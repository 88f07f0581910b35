"""The claims lab: the register of the industry's claims and their verdicts on a pilot.

``from workbench.claims import evaluate, load_register`` is the interface;
:mod:`~workbench.claims.register` holds the typed register,
:mod:`~workbench.claims.evaluate` the verdicts, :mod:`~workbench.claims.sizing`
what would settle a claim, :mod:`~workbench.claims.subgroups` the descriptive
figures of conditioned claims.
"""

from workbench.claims.evaluate import NOT_AT_HORIZON, NOT_CAUSAL, evaluate, pilot_horizon
from workbench.claims.register import CONDITIONS, Claim, Reading, claims_register, load_register
from workbench.claims.subgroups import longest_follow_up, subgroup_stats

__all__ = [
    "CONDITIONS",
    "NOT_AT_HORIZON",
    "NOT_CAUSAL",
    "Claim",
    "Reading",
    "claims_register",
    "evaluate",
    "load_register",
    "longest_follow_up",
    "pilot_horizon",
    "subgroup_stats",
]
