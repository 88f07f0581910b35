"""One outcome, one story: the typed view every page, notebook and terminal line is built from.

:func:`outcome_view` turns (results document, metric, arm) into an
:class:`OutcomeView`: the state in words, the reason, the numbers in the
metric's own unit, the colour, the figure marker and a text glyph. The
executive page, the notebooks, the terminal table and the claims table all
read it, so a sentence, a figure marker, a table cell and a badge cannot
disagree (tests/report/test_outcomes.py renders every state and checks).

The state comes from the decision object of :mod:`workbench.effects.decision`
(``metrics[m]["decision"]`` or ``metrics[m]["comparisons"][arm]["decision"]``),
overruled only by the gates the results document records: failed model
diagnostics, a failed gating check (sample ratio, balance, contamination) or a
failed check that taints the metric (survey response for CSAT and NPS).
Colour is never the only carrier: every state has its own word, marker and glyph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from workbench.effects.gates import CHECK_METRICS, blocked_by, comparison, harm_not_ruled_out
from workbench.metrics.catalogue import CATALOGUE

# Nouns that read well in a sentence ("raised kept promises from ... to ...").
NOUNS = {
    "engagement": "engagement",
    "ptp": "promises to pay",
    "kept_ptp": "kept promises",
    "kept_rate": "the kept rate",
    "complaints": "complaints",
    "csat": "CSAT",
    "retention": "retention",
    "recovery": "money collected (recovery)",
    "handle_time": "handle time",
    "contact_intensity": "contact attempts",
    "nps": "NPS",
}


@dataclass(frozen=True)
class Tone:
    """How a state is drawn: colour (seaborn colour-blind palette), matplotlib marker, text glyph."""

    name: str
    colour: str
    marker: str
    glyph: str


# seaborn "colorblind": blue, vermilion, green, grey, purple; markers and glyphs differ too (print in grey).
TONES = {
    "good": Tone("good", "#0173b2", "o", "+"),
    "bad": Tone("bad", "#d55e00", "X", "!"),
    "same": Tone("same", "#029e73", "D", "="),
    "open": Tone("open", "#949494", "s", "?"),
    "blocked": Tone("blocked", "#cc78bc", "P", "#"),
    "none": Tone("none", "#949494", "d", "-"),
}

# Every state a reader can meet, in words, with its tone.
STATES = {
    "better": "good",
    "worse": "bad",
    "equivalent": "same",
    "no clear change": "open",
    "harm": "bad",
    "no harm beyond margin": "good",
    "not enough data": "open",
    "blocked by a check": "blocked",
    "descriptive only": "none",
}
_FROM_VERDICT = {
    "better": "better",
    "worse": "worse",
    "equivalent": "equivalent",
    "inconclusive": "no clear change",
    "harm": "harm",
    "fail": "harm",
    "no harm beyond margin": "no harm beyond margin",
    "pass": "no harm beyond margin",
    "not enough data": "not enough data",
    "descriptive": "descriptive only",
}


def unit_kind(m: dict) -> str:
    unit = m.get("unit") or ""
    if unit == "kept promises per promise":
        return "per_promise"
    if unit.startswith("share"):
        return "share"
    if unit == "money paid per unit of balance":
        return "balance"
    if unit == "complaints per account":
        return "per1000"
    if unit.startswith("seconds"):
        return "seconds"
    if unit.startswith("mean score"):
        return "score"
    if unit.startswith("promoters minus detractors"):
        return "nps"
    if unit == "outbound attempts per account":
        return "attempts"
    return "plain"


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_value(m: dict, x: float | None) -> str:
    """An arm's mean in the metric's own words (8.4%, 3.1 per 1,000 accounts, 240 s, 3.42)."""
    if _missing(x):
        return "n/a"
    return {
        "share": f"{100 * x:.1f}%",
        "per_promise": f"{100 * x:.1f}%",
        "balance": f"{100 * x:.2f}%",
        "per1000": f"{1000 * x:.1f}",
        "seconds": f"{x:.0f} s",
        "score": f"{x:.2f}",
        "nps": f"{100 * x:+.0f}",
        "attempts": f"{x:.2f}",
    }.get(unit_kind(m), f"{x:,.3f}")


UNIT_WORDS = {
    "share": " points",
    "per_promise": " points",
    "balance": " points of balance",
    "per1000": " per 1,000 accounts",
    "seconds": " s",
    "score": " on the 1-5 scale",
    "nps": " NPS points",
    "attempts": " attempts per account",
}


def fmt_diff(m: dict, x: float | None, with_unit: bool = True) -> str:
    """A difference between arms: +7.1 points, +0.8 per 1,000 accounts, +53 s, +0.12."""
    if _missing(x):
        return "n/a"
    k = unit_kind(m)
    num = {
        "share": f"{100 * x:+.1f}",
        "per_promise": f"{100 * x:+.1f}",
        "balance": f"{100 * x:+.2f}",
        "per1000": f"{1000 * x:+.2f}",
        "seconds": f"{x:+.0f}",
        "score": f"{x:+.2f}",
        "nps": f"{100 * x:+.1f}",
        "attempts": f"{x:+.2f}",
    }.get(k, f"{x:+,.3f}")
    return num + UNIT_WORDS.get(k, "") if with_unit else num


SHOWN_UNIT = {
    "share": "% of accounts",
    "per_promise": "% of promises",
    "balance": "% of the balance due",
    "per1000": "per 1,000 accounts",
    "seconds": "seconds per reached contact",
    "score": "mean score, 1-5",
    "nps": "NPS, -100 to +100",
    "attempts": "outbound attempts per account",
}


def shown_unit(m: dict) -> str:
    """The unit of the numbers :func:`fmt_value` prints (complaints per 1,000 accounts, not per account)."""
    return SHOWN_UNIT.get(unit_kind(m), m.get("unit") or "")


def span(m: dict) -> str:
    """What follows 'from a to b' so the reader knows the unit."""
    return {
        "share": " of accounts",
        "per_promise": " of promises",
        "balance": " of the balance due",
        "per1000": " complaints per 1,000 accounts",
        "seconds": " per reached contact",
        "score": " (mean CSAT, 1-5)",
        "nps": " (NPS)",
        "attempts": " outbound attempts per account",
    }.get(unit_kind(m), f" ({m.get('unit', '')})")


def prob_phrase(p: float | None) -> str:
    """0.9996 -> 'over 99.9%'; extremes are capped because draws cannot resolve them."""
    if _missing(p):
        return "n/a"
    if p > 0.999:
        return "over 99.9%"
    if p < 0.001:
        return "under 0.1%"
    return f"{100 * p:.0f}%" if 0.01 <= p <= 0.99 else f"{100 * p:.1f}%"


def subject_for(arm: str) -> str:
    """'empathy' -> 'Empathy-led contact'; any other label -> 'The <label> arm'."""
    return f"{arm.capitalize()}-led contact" if arm.isalpha() else f"The {arm} arm"


@dataclass(frozen=True)
class OutcomeView:
    """One outcome for one treatment arm, ready to show.

    ``state`` is one of :data:`STATES`; ``colour``, ``marker`` and ``glyph`` follow
    from it. Strings are in the metric's unit; ``lift``/``lift_interval`` are the raw
    relative change (treatment / control - 1) for the figure, ``None`` when no effect
    may be shown (blocked) or the control mean is not positive.
    """

    metric: str
    arm: str
    label: str
    noun: str
    role: str
    state: str
    tone: Tone
    reason: str
    sentence: str
    control: str
    treatment: str
    difference: str
    interval: str
    accounts_control: int | None
    accounts_treatment: int | None
    prob_better: str
    blocked_by: str | None = None
    lift: float | None = None
    lift_interval: tuple[float, float] | None = None

    @property
    def colour(self) -> str:
        return self.tone.colour

    @property
    def marker(self) -> str:
        return self.tone.marker

    @property
    def cell(self) -> str:
        """The table cell: glyph and state in words (colour never alone)."""
        return f"{self.tone.glyph} {self.state}"


def _why(check: str) -> str:
    return "the model diagnostics failed" if check == "model diagnostics" else f"the {check} check failed"


def _lift(c: dict) -> tuple[float | None, tuple[float, float] | None]:
    r = (c.get("effect") or {}).get("relative_lift") or {}
    cm = (c.get("control") or {}).get("mean")
    lo, hi = (r.get("interval") or [None, None])[:2]
    if _missing(cm) or cm <= 0 or _missing(r.get("mean")) or _missing(lo) or _missing(hi):
        return None, None
    return float(r["mean"]), (float(lo), float(hi))


def _sentence(doc: dict, c: dict, v: dict, subject: str) -> str:
    """The sentence: the state first, then the numbers that carry it, in the metric's unit."""
    head = f"{v['label']}: {v['state']}"
    if v["blocked_by"]:
        return f"{head} (inconclusive), because {v['reason']}; no effect is reported."
    d = c["effect"]["difference"]
    lo, hi = d["interval"]
    interval = f"{doc['level']:.0%} interval {fmt_diff(c, lo, False)} to {fmt_diff(c, hi, False)}"
    clear = not _missing(lo) and not _missing(hi) and (lo > 0 or hi < 0)
    verb = ("raised" if d["mean"] > 0 else "lowered") if clear else "moved"
    core = f"{subject} {verb} {v['noun']} from {v['control']} to {v['treatment']}{span(c)}, {v['difference']} ({interval})"
    dec = c.get("decision") or {}
    state = v["state"]
    if state == "descriptive only":
        return f"{head}. {core}; it conditions on a promise having been made, so it is not causal."
    if c.get("role") == "guardrail":
        margin = fmt_diff(c, dec.get("margin"), True).lstrip("+") if "margin" in dec else "n/a"
        tail = {
            "harm": f"harm beyond the margin of {margin} is shown; rollout blocked",
            "no harm beyond margin": f"harm beyond the margin of {margin} is ruled out",
            "not enough data": f"harm beyond the margin of {margin} is neither shown nor ruled out",
        }.get(state, dec.get("reason", ""))
        settle = (dec.get("to_settle") or {}).get("accounts_per_arm")
        if state == "not enough data" and settle:
            tail += f"; about {settle:,} accounts per arm would settle it"
        return f"{head}. {core}; {tail}."
    tail = f"probability it helps: {prob_phrase(c.get('prob_better'))}"
    if dec.get("verdict_before_fdr"):
        tail += f"; {dec['verdict_before_fdr']} before the false-discovery control (q = {dec.get('q_value', 0):.3f})"
    elif state == "no clear change" and (dec.get("to_settle") or {}).get("accounts_per_arm"):
        tail += f"; about {dec['to_settle']['accounts_per_arm']:,} accounts per arm would settle it"
    return f"{head}. {core}; {tail}."


def outcome_view(doc: dict, metric: str, arm: str | None = None, subject: str | None = None) -> OutcomeView:
    """The one view of ``metric`` for treatment ``arm`` (first arm by default) of a results document."""
    arm = arm or doc["treatments"][0]
    c = comparison(doc, metric, arm)
    m = doc["metrics"][metric]
    dec = c.get("decision") or {}
    why = blocked_by(doc, metric, c)
    state = "blocked by a check" if why else _FROM_VERDICT.get(dec.get("verdict", ""), "no clear change")
    if c.get("role") == "descriptive":
        state = "descriptive only"
    d = (c.get("effect") or {}).get("difference") or {"mean": None, "interval": [None, None]}
    lo, hi = d["interval"]
    label = m.get("label") or (CATALOGUE[metric].label if metric in CATALOGUE else metric.replace("_", " "))
    noun = NOUNS.get(metric, label.lower())
    reason = _why(why) if why else dec.get("reason", "")
    lift, lift_iv = (None, None) if why else _lift(c)
    v = {
        "label": label,
        "noun": noun,
        "reason": reason,
        "state": state,
        "blocked_by": why,
        "control": fmt_value(c, c["control"].get("mean")),
        "treatment": fmt_value(c, c["treatment"].get("mean")),
        "difference": "not reported" if why else fmt_diff(c, d["mean"]),
    }
    sentence = _sentence(doc, c, v, subject or subject_for(arm))
    return OutcomeView(
        metric=metric,
        arm=arm,
        label=label,
        noun=noun,
        role=c.get("role") or m.get("role") or "",
        state=state,
        tone=TONES[STATES[state]],
        reason=reason,
        sentence=sentence,
        control=v["control"],
        treatment=v["treatment"],
        difference=v["difference"],
        interval="" if why else f"{fmt_diff(c, lo, False)} to {fmt_diff(c, hi, False)}",
        accounts_control=c["control"].get("n"),
        accounts_treatment=c["treatment"].get("n"),
        prob_better="" if why or state == "descriptive only" else prob_phrase(c.get("prob_better")),
        blocked_by=why,
        lift=lift,
        lift_interval=lift_iv,
    )


ROLE_ORDER = {"primary": 0, "guardrail": 1, "exploratory": 2, "descriptive": 3}


def ordered_metrics(doc: dict) -> list[str]:
    """Primary first, then guardrails, exploratory and descriptive outcomes (by label within a role)."""
    ms = doc["metrics"]
    return sorted(ms, key=lambda k: (ROLE_ORDER.get(ms[k].get("role"), 4), ms[k].get("label") or k))


def outcome_views(doc: dict, subject: str | None = None) -> list[OutcomeView]:
    """Every outcome for every treatment arm, primary first (arms in the document's order within a metric)."""
    out = []
    for k in ordered_metrics(doc):
        m = doc["metrics"][k]
        arms = [a for a in doc["treatments"] if a == doc["treatments"][0] or a in (m.get("comparisons") or {})]
        out += [outcome_view(doc, k, a, subject if a == doc["treatments"][0] else None) for a in arms]
    return out


@dataclass(frozen=True)
class Banner:
    """The verdict banner: the primary's state per arm, guardrail states, blocking problems by name."""

    title: str
    tone: Tone
    primary: list[OutcomeView]
    guardrails: list[OutcomeView]
    problems: list[str]
    rollout: dict[str, str]
    lines: list[str]


def banner(doc: dict) -> Banner:
    """The headline verdict, built from the same views as every row (so it cannot disagree)."""
    views = outcome_views(doc)
    p = (doc.get("decision") or {}).get("primary_metric")
    prim = [v for v in views if v.metric == p]
    guards = [v for v in views if v.role == "guardrail"]
    problems = data_problems(doc)
    arms = (doc.get("decision") or {}).get("arms") or {}
    several = len(doc["treatments"]) > 1
    harmed = [v for v in guards if v.state == "harm"]
    rollout = {}
    for a in arms:
        r = arms[a].get("rollout", "")
        # Only harm blocks a rollout; "not blocked" alone beside a guardrail that is blocked by a
        # check or short of data would read as "no harm", which these rows do not say. The list is
        # the decision's own (results.json), in the rows' order and words.
        listed = arms[a].get("harm_not_ruled_out")
        unsettled = set(harm_not_ruled_out(doc, a) if listed is None else listed)  # None: results.json before the list
        open_ = [v.label for v in guards if v.arm == a and v.metric in unsettled]
        if r == "not blocked" and open_:
            r += f" (harm not ruled out on {', '.join(open_)})"
        rollout[a] = r
    if not prim:
        title, tone = "No verdict: the primary outcome could not be computed", TONES["blocked"]
    else:
        parts = []
        for v in prim:
            word = v.state
            if v.state == "better" and any(g.arm == v.arm for g in harmed):
                word += ", but a guardrail shows harm"
            parts.append(f"{v.arm}: {word}" if several else word)
        title = f"{prim[0].label} (primary): " + "; ".join(parts)
        tone = prim[0].tone if len({v.state for v in prim}) == 1 else TONES["open"]
        if harmed:
            tone = TONES["bad"]
    lines = []
    for v in guards:
        who = f" ({v.arm})" if several else ""
        lines.append(f"{v.tone.glyph} {v.label}{who}: {v.state}")
    if harmed:
        lines.append("Rollout blocked: harm beyond the margin on " + ", ".join(sorted({v.label for v in harmed})) + ".")
    return Banner(title, tone, prim, guards, problems, rollout, lines)


def data_problems(doc: dict) -> list[str]:
    """Every failed check by name with what it blocks, and failed model diagnostics."""
    out = []
    dq = doc.get("data_quality") or {}
    failed = list(
        dict.fromkeys(
            [*(dq.get("failed") or []), *[k for k, v in (doc.get("checks") or {}).items() if v.get("status") == "fail"]]
        )
    )
    for check in failed:
        if check in (dq.get("gating") or []):
            out.append(f"{check} check failed: every comparison is blocked")
        elif check in CHECK_METRICS:
            names = [outcome_view(doc, m).label for m in CHECK_METRICS[check] if m in doc["metrics"]]
            out.append(f"{check} check failed: blocks {', '.join(names)}" if names else f"{check} check failed")
        else:
            out.append(f"{check} check failed")
    bad = [m.get("label", k) for k, m in doc["metrics"].items() if not m.get("diagnostics", {}).get("ok", True)]
    if bad:
        out.append(f"model diagnostics failed: blocks {', '.join(bad)}")
    return out
