"""Decision rules: the role of each metric and the verdict its posterior earns.

One typed :class:`Decision` per outcome and treatment arm carries the state,
the reason, the numbers it rests on and the size that would settle it; it
becomes the ``decision`` block of the results document only at the edge
(:meth:`Decision.as_dict`). Every bar comes from
:class:`workbench.defaults.Thresholds` (or a locked plan's) and the results'
level, never from a literal here. The rules, written out in docs/effects.md:

* primary and exploratory metrics: ``better`` when P(better) >
  ``max(better, (1 + level) / 2)`` *and* the expected loss of choosing treatment
  is under the region of practical equivalence (the smallest change that
  matters); ``worse`` mirrored; ``equivalent`` when P(rope) > ``equivalent``;
  else ``inconclusive`` with the accounts per arm that would settle it;
* guardrails: ``harm`` when the interval shown lies wholly beyond the harm margin,
  ``no harm beyond margin`` when P(harm beyond it) < the guardrail's threshold,
  else ``not enough data`` with the accounts per arm that would rule harm out;
* exploratory metrics are further held to a Benjamini-Hochberg false-discovery
  control on the cross-check's p-values (:func:`control_fdr`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from workbench.defaults import Thresholds, better_bar, worse_bar
from workbench.effects import compare as effects
from workbench.effects.gates import harm_not_ruled_out
from workbench.effects.spec import Design
from workbench.metrics.catalogue import CATALOGUE

# The chance that the suggested size settles the question (the usual 80% power).
SETTLE_POWER = 0.8

GUARDRAIL_STATES = ("harm", "no harm beyond margin", "not enough data")
EFFECT_STATES = ("better", "worse", "equivalent", "inconclusive")


@dataclass(frozen=True)
class Decision:
    """One outcome's decision for one treatment arm.

    Attributes
    ----------
    state : better, worse, equivalent, inconclusive (no clear change), harm, no harm
        beyond margin, not enough data, descriptive (``verdict`` in the JSON).
    role : primary, guardrail, exploratory or descriptive.
    reason : one sentence saying why, in words a reader can check against the numbers.
    numbers : what the state rests on (probabilities, bars, intervals, losses, margin).
    to_settle : accounts per arm that would settle an open question, and the assumption.
    """

    state: str
    role: str
    reason: str
    numbers: dict = field(default_factory=dict)
    to_settle: dict | None = None

    def as_dict(self) -> dict:
        """The ``decision`` block of the results document (``verdict`` is the state)."""
        out = {"verdict": self.state, "reason": self.reason, **self.numbers}
        if self.role in ("primary", "exploratory"):
            out["exploratory"] = self.role == "exploratory"
        if self.to_settle is not None:
            out["to_settle"] = self.to_settle
        return out


def role_of(metric: str, design: Design) -> str:
    if CATALOGUE.get(metric) is not None and CATALOGUE[metric].descriptive:
        return "descriptive"
    if metric == design.primary:
        return "primary"
    if design.guardrails and metric in design.guardrails:
        return "guardrail"
    return "exploratory"


def settle_n(n_now: float, sd_now: float, distance: float, z_bar: float, power: float = SETTLE_POWER) -> int | None:
    """Accounts per arm at which a bar ``z_bar`` standard errors away is crossed with ``power``.

    The standard error of the difference falls as ``1 / sqrt(n)``, so with
    ``se(n) = sd_now sqrt(n_now / n)`` the question is settled with probability
    ``power`` when ``distance = (z_bar + z_power) se(n)``::

        n = n_now ((z_bar + z_power) sd_now / distance)^2

    ``None`` when ``distance <= 0`` or the inputs are not finite.
    """
    if not (n_now and sd_now and distance > 0) or not all(map(math.isfinite, (n_now, sd_now, distance))):
        return None
    return math.ceil(n_now * ((z_bar + stats.norm.ppf(power)) * sd_now / distance) ** 2)


def _n_per_arm(res: dict) -> float:
    ns = [res.get(a, {}).get("n") for a in ("control", "treatment")]
    ns = [float(x) for x in ns if x]
    return float(np.mean(ns)) if ns else 0.0


def judge_effect(role: str, res: dict, thresholds: Thresholds) -> Decision:
    """Better / worse / equivalent / inconclusive for a primary or exploratory metric.

    ``better``: P(better) > ``max(thresholds.better, (1 + level) / 2)`` and
    E[loss of choosing treatment] < rope; ``worse``: P(better) <
    ``min(thresholds.worse, (1 - level) / 2)`` and E[loss of keeping control] <
    rope; ``equivalent``: P(|t - c| < rope) > ``thresholds.equivalent``.
    """
    level = float(res["level"])
    pb, pr, rope = res["prob_better"], res["prob_rope"], float(res["rope"])
    up, down = better_bar(thresholds, level), worse_bar(thresholds, level)
    loss_t, loss_c = res["expected_loss"], res.get("expected_loss_control", 0.0)
    d = res["effect"]["difference"]
    lo, hi = d["interval"]
    numbers = {
        "prob_better": pb,
        "bar_better": up,
        "bar_worse": down,
        "prob_rope": pr,
        "bar_equivalent": thresholds.equivalent,
        "rope": rope,
        "expected_loss": loss_t,
        "loss_tolerance": rope,
        "interval": [lo, hi],
        "level": level,
    }
    span = f"the {level:.0%} interval [{lo:+.4g}, {hi:+.4g}]"
    # The interval itself must exclude no change on the verdict's side (draws can tie at the bar).
    s = -1 if res.get("direction") == "lower is better" else 1
    ends = (s * lo, s * hi) if lo is not None and hi is not None else (0.0, 0.0)
    up_ok, down_ok = min(ends) > 0, max(ends) < 0
    if pr > thresholds.equivalent:
        return Decision("equivalent", role, f"P(inside +-{rope:.4g}) = {pr:.3f} > {thresholds.equivalent:g}", numbers)
    if pb > up and up_ok and loss_t < rope:
        return Decision("better", role, f"P(better) = {pb:.3f} > {up:g}: {span} excludes no change", numbers)
    if pb < down and down_ok and loss_c < rope:
        return Decision("worse", role, f"P(better) = {pb:.3f} < {down:g}: {span} excludes no change", numbers)
    if pb > up or pb < down:
        return Decision(
            "inconclusive",
            role,
            f"the direction is clear but the expected loss of the choice is not under the smallest change that matters ({rope:.4g})",
            numbers,
        )
    sd = float((hi - lo) / (2 * stats.norm.ppf((1 + level) / 2))) if lo is not None and hi is not None else float("nan")
    n_eq = settle_n(_n_per_arm(res), sd, rope, stats.norm.ppf((1 + thresholds.equivalent) / 2))
    to_settle = {
        "accounts_per_arm": n_eq,
        "question": f"equivalence within +-{rope:.4g}",
        "assumes": f"the true difference is zero; {SETTLE_POWER:.0%} chance to show it",
    }
    reason = f"{span} holds no change and reaches beyond +-{rope:.4g} (the region of practical equivalence)"
    if n_eq is not None:
        reason += f"; about {n_eq:,} accounts per arm would show equivalence if nothing changes"
    return Decision("inconclusive", role, reason, numbers, to_settle)


def judge_guardrail(res: dict, harm: dict, margin: float, threshold: float) -> Decision:
    """Harm / no harm beyond margin / not enough data, from the difference turned toward harm.

    With ``h`` = the difference in the harm direction (:func:`workbench.effects.compare.harm_summary`)
    and p = P(h > margin): ``harm`` when p > ``max(1 - threshold, (1 + level) / 2)``
    (the interval shown lies wholly beyond the margin, so it also excludes no
    change); ``no harm beyond margin`` when p < ``threshold`` (one-sided
    non-inferiority); else ``not enough data``, with the accounts per arm that
    would show non-inferiority with 80% probability if nothing changes:
    ``n = n_now ((z_{1-threshold} + z_0.8) sd / margin)^2``.
    """
    level = float(res["level"])
    p = harm["prob_harm"]
    harm_bar = max(1 - threshold, (1 + level) / 2)
    lo, hi = harm["interval"]
    numbers = {
        "prob_harm": p,
        "margin": margin,
        "threshold": threshold,
        "bar_harm": harm_bar,
        "harm_interval": [lo, hi],
        "level": level,
    }
    if p > harm_bar and lo is not None and lo > margin and lo > 0:
        return Decision(
            "harm",
            "guardrail",
            f"the {level:.0%} interval of the harm [{lo:+.4g}, {hi:+.4g}] lies beyond the margin {margin:.4g}",
            numbers,
        )
    if p < threshold:
        return Decision("no harm beyond margin", "guardrail", f"P(harm beyond {margin:.4g}) = {p:.3f} < {threshold:g}", numbers)
    h = harm["mean"]
    n_now, sd = _n_per_arm(res), harm["sd"]
    zero = {
        "accounts_per_arm": settle_n(n_now, sd, margin, stats.norm.ppf(1 - threshold)),
        "question": f"no harm beyond {margin:.4g}",
        "assumes": f"the true difference is zero; {SETTLE_POWER:.0%} chance to show it",
    }
    seen = f"the true difference is the one observed ({h:+.4g} toward harm); {SETTLE_POWER:.0%} chance to show it"
    if h >= margin:  # the estimate lies beyond the margin: more data would show harm, not rule it out
        observed = {
            "accounts_per_arm": settle_n(n_now, sd, h - margin, stats.norm.ppf(harm_bar)),
            "question": f"harm beyond {margin:.4g}",
            "assumes": seen,
        }
    elif h > 0:  # some harm under the margin: the zero-change size would be too optimistic
        observed = {
            "accounts_per_arm": settle_n(n_now, sd, margin - h, stats.norm.ppf(1 - threshold)),
            "question": f"no harm beyond {margin:.4g}",
            "assumes": seen,
        }
    else:
        observed = None
    # Assume no change only while the interval is consistent with no change.
    consistent_with_zero = lo is not None and lo <= 0 <= hi
    to_settle = dict(zero if consistent_with_zero or observed is None else observed)
    if observed is not None and consistent_with_zero:
        to_settle["if_observed"] = observed
    reason = f"P(harm beyond {margin:.4g}) = {p:.3f}: harm is neither shown nor ruled out"
    if to_settle["accounts_per_arm"] is not None:
        reason += (
            f"; about {to_settle['accounts_per_arm']:,} accounts per arm would settle it "
            f"({to_settle['question']}, if {to_settle['assumes'].split(';')[0]})"
        )
    return Decision("not enough data", "guardrail", reason, numbers, to_settle)


def decide(role: str, res: dict, c_draws, t_draws, hib, design: Design, metric: str, thresholds: Thresholds) -> Decision:
    """The :class:`Decision` of DESIGN.md; a failed diagnostic never yields a verdict."""
    if role == "descriptive":
        return Decision("descriptive", role, "conditions on a post-treatment event; not causal")
    if not res["diagnostics"]["ok"]:
        return Decision("inconclusive", role, "model diagnostics failed: the effect is unreliable")
    if role == "guardrail":
        g = design.guardrails[metric]
        margin, threshold = float(g.get("margin", 0.0)), float(g.get("threshold", thresholds.harm))
        harm = effects.harm_summary(c_draws, t_draws, higher_is_better=hib, level=float(res["level"]))
        harm["prob_harm"] = effects.prob_harm(c_draws, t_draws, higher_is_better=hib, margin=margin)
        return judge_guardrail(res, harm, margin, threshold)
    return judge_effect(role, res, thresholds)


def verdict(role: str, res: dict, c_draws, t_draws, hib, design: Design, metric: str, thresholds: Thresholds) -> dict:
    """The ``decision`` block (:func:`decide` at the JSON edge)."""
    return decide(role, res, c_draws, t_draws, hib, design, metric, thresholds).as_dict()


def bh_adjust(p: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values: ``q_(i) = min_{j >= i} p_(j) m / j``, capped at 1."""
    m = len(p)
    if m == 0:
        return []
    order = np.argsort(p)
    ranked = np.asarray(p, dtype=float)[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    out = np.empty(m)
    out[order] = q
    return [float(x) for x in out]


def control_fdr(entries: dict[str, dict], level: float) -> None:
    """Benjamini-Hochberg at FDR ``1 - level`` over the exploratory metrics of one arm (in place).

    ``entries`` maps metric -> its comparison (with ``decision`` and ``frequentist``).
    An exploratory better / worse stands only when the cross-check's adjusted
    p-value is under ``1 - level``; otherwise it becomes inconclusive with the
    reason. Every exploratory decision records ``q_value`` and the label.
    """
    fdr = 1 - level
    names = [
        k
        for k, r in entries.items()
        if r.get("role") == "exploratory" and (r.get("frequentist") or {}).get("p_value") is not None
    ]
    q = dict(zip(names, bh_adjust([entries[k]["frequentist"]["p_value"] for k in names]), strict=True))
    label = f"Benjamini-Hochberg over {len(names)} exploratory metrics (cross-check p-values), FDR {fdr:.0%}"
    for k, r in entries.items():
        if r.get("role") != "exploratory":
            continue
        dec = r["decision"]
        dec["multiplicity"] = label if k in q else "no cross-check p-value: not part of the false-discovery control"
        if k not in q:
            continue
        dec["q_value"] = q[k]
        if dec["verdict"] in ("better", "worse") and q[k] >= fdr:
            dec["verdict_before_fdr"] = dec["verdict"]
            dec["verdict"] = "inconclusive"
            dec["reason"] = f"{dec['reason']}; not significant after the false-discovery control (q = {q[k]:.3f})"


def prob_best(draws: dict[str, np.ndarray], higher_is_better: bool | None) -> dict:
    """P(each arm is best) and each arm's expected loss against the best, from joint draws.

    ``loss_a = E[max_b s m_b - s m_a]`` with s the direction sign, in the metric's unit.
    """
    arms = list(draws)
    s = effects.sign_of_better(higher_is_better)
    n = min(len(v) for v in draws.values())
    m = s * np.vstack([np.asarray(draws[a][:n], dtype=float) for a in arms])
    best = m.max(axis=0)
    win = np.bincount(m.argmax(axis=0), minlength=len(arms)) / n
    return {a: {"prob_best": float(win[i]), "expected_loss_vs_best": float(np.mean(best - m[i]))} for i, a in enumerate(arms)}


def _arm_headline(primary: dict | None, guards: dict[str, str]) -> tuple[str, str | None]:
    if primary is None:
        return "inconclusive", "the primary metric could not be computed"
    v = primary["decision"]["verdict"]
    harmed = sorted(k for k, s in guards.items() if s == "harm")
    if harmed and v == "better":
        return "better, but a guardrail shows harm", f"harm beyond the margin on {', '.join(harmed)}: rollout blocked"
    return v, None


def overall_decision(doc: dict, design: Design) -> dict:
    """Headline: every treatment arm's primary verdict and guardrail states; the rest exploratory.

    With one treatment arm ``verdict`` is that arm's verdict; with more it names
    each arm's (``"empathy: better; hybrid: worse"``). ``guardrails`` keeps the
    first arm's states (add-only); ``arms`` holds every arm's. Only ``harm``
    blocks a rollout; ``not enough data`` is stated as such, and every guardrail
    harm is not ruled out on is listed (``harm_not_ruled_out``): the rollout's
    "not blocked" does not mean "no harm" on those.
    """
    m = doc["metrics"]
    arms = list(doc.get("treatments") or design.treatments)

    def comp(entry: dict, arm: str) -> dict | None:
        if "comparisons" in entry:
            return entry["comparisons"].get(arm)
        return entry if arm == arms[0] else None

    per_arm = {}
    for arm in arms:
        guards = {}
        for k, v in m.items():
            if v.get("role") == "guardrail" and comp(v, arm) is not None:
                guards[k] = comp(v, arm)["decision"]["verdict"]
        primary = comp(m[design.primary], arm) if design.primary and design.primary in m else None
        verdict_, reason = _arm_headline(primary, guards)
        per_arm[arm] = {
            "verdict": verdict_,
            "guardrails": guards,
            "rollout": "blocked: a guardrail shows harm" if any(s == "harm" for s in guards.values()) else "not blocked",
            "guardrails_not_settled": sorted(k for k, s in guards.items() if s == "not enough data"),
            # every guardrail harm is not ruled out on: short of data, inconclusive or blocked by a check
            # (gates.apply_checks writes it again once the checks are in)
            "harm_not_ruled_out": harm_not_ruled_out({**doc, "treatments": arms}, arm),
        }
        if reason:
            per_arm[arm]["reason"] = reason
    first = per_arm[arms[0]] if arms else {"verdict": "inconclusive", "guardrails": {}}
    out = {
        "primary_metric": design.primary,
        "guardrails": first["guardrails"],
        "exploratory": sorted(k for k, v in m.items() if v.get("role") == "exploratory"),
        "arms": per_arm,
    }
    if len(per_arm) > 1:
        out["verdict"] = "; ".join(f"{a}: {p['verdict']}" for a, p in per_arm.items())
    else:
        out["verdict"] = first["verdict"]
        if first.get("reason"):
            out["reason"] = first["reason"]
    if design.primary is None or design.primary not in m:
        out["verdict"] = "inconclusive"
        out["reason"] = "the primary metric could not be computed"
    return out
