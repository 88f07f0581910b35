"""What would settle a claim: accounts per arm from assurance, at the verdict's own bars.

Observed power plugs the current estimate in as if it were the truth. Assurance
averages over the posterior instead: with q the claim's quantity, s its
posterior sd at n accounts per arm, a new pilot of m accounts per arm gives

    q_hat ~ N(q_true, s^2 n / m),   q_true ~ posterior (the draws),
    P_m(range | q_hat) = Phi((hi - q_hat) / s_m) - Phi((lo - q_hat) / s_m),   s_m = s sqrt(n / m)

and settles the claim when P_m >= support (supported) or <= contradict
(contradicted). Assurance(m) is the share of posterior draws for which it
does; the size is the smallest m on a grid where it reaches ``ASSURANCE``. As m
grows, the share supporting tends to P(q_true in range): when that is below
``ASSURANCE`` no size supports the claim with that assurance, and we say so.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as st

from workbench.defaults import Thresholds

ASSURANCE = 0.8  # the usual design target (as power in pilot sizing): 4 pilots in 5 settle it
FACTORS = np.geomspace(0.25, 1000, 57)  # new pilot sizes, in multiples of the current one
MAX_DRAWS = 2000


def assurance(q: np.ndarray, lo, hi, n: float, m: np.ndarray, th: Thresholds, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(P(supported), P(contradicted)) of a new pilot of ``m`` accounts per arm, averaged over the posterior."""
    rng = np.random.default_rng(seed)
    q = q[np.isfinite(q)]
    sd = float(np.std(q))
    truth = rng.choice(q, size=min(MAX_DRAWS, len(q)), replace=False)
    eps = rng.standard_normal(len(truth))
    s_m = sd * np.sqrt(n / np.asarray(m, dtype=float))[:, None]
    q_hat = truth[None, :] + s_m * eps[None, :]
    upper = st.norm.cdf((hi - q_hat) / s_m) if hi is not None else 1.0
    lower = st.norm.cdf((lo - q_hat) / s_m) if lo is not None else 0.0
    p = upper - lower
    return np.mean(p >= th.support, axis=1), np.mean(p <= th.contradict, axis=1)


def accounts_to_settle(q: np.ndarray, lo, hi, n: float, th: Thresholds, seed: int = 0) -> dict:
    """Accounts per arm for a new pilot to settle the claim with probability ``ASSURANCE`` (see the module)."""
    q = q[np.isfinite(q)]
    if not n or len(q) < 10 or float(np.std(q)) == 0:
        return {"accounts_per_arm": None, "note": "no spread in the estimate: sizing needs a posterior"}
    m = np.maximum(10, np.ceil(n * FACTORS))
    sup, con = assurance(q, lo, hi, n, m, th, seed)
    settle = sup + con
    i = int(np.argmax(settle >= ASSURANCE)) if np.any(settle >= ASSURANCE) else None
    out = {
        "accounts_per_arm": None if i is None else int(m[i]),
        "assurance": ASSURANCE,
        "now_per_arm": int(n),
        "max_prob_support": float(sup.max()),
        "method": "assurance: averaged over the posterior, at the support / contradict bars",
    }
    j = int(np.argmax(sup >= ASSURANCE)) if np.any(sup >= ASSURANCE) else None
    c = int(np.argmax(con >= ASSURANCE)) if np.any(con >= ASSURANCE) else None
    if j is None:
        tail = (
            f"; about {math.ceil(m[c]):,} accounts per arm would contradict it in {ASSURANCE:.0%} of pilots"
            if c is not None
            else ""
        )
        out["note"] = (
            "cannot be settled in the claimed direction at any size this data supports "
            f"(at most {sup.max():.0%} of pilots of any size would support it){tail} (now {int(n):,})"
        )
    elif i is not None:
        out["note"] = f"about {int(m[i]):,} accounts per arm settle it in {ASSURANCE:.0%} of pilots (now {int(n):,})"
    else:
        out["note"] = f"no size up to {int(m[-1]):,} accounts per arm settles it in {ASSURANCE:.0%} of pilots"
    return out
