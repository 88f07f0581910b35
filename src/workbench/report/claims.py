"""The report's claims, monitoring and pilot-size views: tables, sentences and one figure."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from workbench.defaults import THRESHOLDS
from workbench.design.sizing import DesignSpec, closed_form_n
from workbench.report.claims_text import VERDICT_WORDS
from workbench.report.claims_text import estimate as _estimate
from workbench.report.claims_text import fmt_q as _fmt_q
from workbench.report.claims_text import horizon as _horizon
from workbench.report.claims_text import shown as _shown
from workbench.report.views import PALETTE, fmt_diff


def claims_legend(doc: dict | None = None) -> str:
    """What the verdicts mean, with the bars the run used (plan-locked or the defaults)."""
    th = (doc or {}).get("thresholds") or THRESHOLDS.as_dict()
    return (
        f"*supported*: P(claimed range) >= {th['support']}; *contradicted*: <= {th['contradict']}; otherwise "
        "*inconclusive*, with the accounts per arm a new pilot needs to settle it (assurance, averaged over the "
        "posterior). A claim beyond the pilot's horizon is *not testable at this horizon* (the figures at the "
        "pilot's horizon are labelled); a claim about a subgroup defined after assignment is *not a causal "
        "contrast* (its figure is descriptive)."
    )


def claims_frame(claims: dict) -> pd.DataFrame:
    """One row per claim: the claim, its reading, who made it, what this pilot says, and how sure."""
    rows = []
    for c in claims["claims"]:
        r = _shown(c)
        rows.append(
            {
                "claim": c["text"],
                "reading": c.get("reading") or c.get("note", ""),
                "source": c.get("source", ""),
                "metric": c["metric"],
                "horizon (claim / pilot)": _horizon(c),
                f"this pilot ({claims.get('level', 0.95):.0%} interval)": _estimate(c),
                "P(claimed range)": "n/a" if r.get("probability") is None else f"{r['probability']:.3f}",
                "verdict": VERDICT_WORDS.get(c["verdict"], c["verdict"]),
            }
        )
    return pd.DataFrame(rows)


def _shares(d: dict) -> str:
    return ", ".join(f"{arm}: {v:.1%} of {d['n'][arm]:,}" for arm, v in d["share"].items() if v is not None)


def claims_notes(claims: dict) -> list[str]:
    """Readings, horizons, causal labels, arithmetic impossibilities and what it would take to settle."""
    out = []
    for c in claims["claims"]:
        t = c["text"]
        if len(c.get("readings") or []) > 1:
            out.append(f"'{t}': {len(c['readings'])} readings ({c.get('agreement', '')}): {c.get('reading', '')}.")
        a = c.get("arithmetic") or {}
        if a.get("feasible") is False:
            out.append(f"'{t}': {a['note']}.")
        if c.get("horizon_note"):
            out.append(f"'{t}': {c['horizon_note']}.")
        if c.get("causal_note"):
            d = c.get("descriptive") or {}
            fig = d.get("note") or (
                f"{d['metric']} {_fmt_q(d, d['mean'])} [{_fmt_q(d, d['interval'][0])}, {_fmt_q(d, d['interval'][1])}] "
                f"({_shares(d)})"
            )
            out.append(f"'{t}': not a causal contrast: {c['causal_note']}. Descriptive figure: {fig}.")
        s = c.get("to_settle") or {}
        if s.get("note") and c["verdict"] == "inconclusive":
            out.append(f"'{t}': to settle it, {s['note']}.")
        if c["verdict"] == "not testable":
            out.append(f"'{t}': {c.get('reason', 'not testable')}.")
        if any(x.get("also") for x in c.get("readings") or []) and c.get("beside"):
            out.append(
                f"'{t}': judged jointly; the pilot's own verdicts beside: "
                + ", ".join(f"{m}: {v}" for m, v in c["beside"].items())
                + "."
            )
    return out


def claims_summary(claims: dict) -> str:
    """One sentence for the executive summary."""
    counts = pd.Series([c["verdict"] for c in claims["claims"]]).value_counts()
    parts = [f"{int(counts[v])} {VERDICT_WORDS.get(v, v)}" for v in VERDICT_WORDS if v in counts]
    parts += [f"{int(counts[v])} {v}" for v in counts.index if v not in VERDICT_WORDS]
    return f"Of {len(claims['claims'])} registered industry claims: " + ", ".join(parts) + "."


def monitor_figure(mon: dict, dpi: int = 110):
    """P(better) at each weekly look with the tuned bar and the naive 0.95 bar."""

    pal = sns.color_palette(PALETTE)
    looks = [x for x in mon["looks"] if x.get("status") == "analysed"]
    fig, ax = plt.subplots(figsize=(7.5, 3.2), dpi=dpi)
    ax.plot([x["look"] for x in looks], [x["prob_better"] for x in looks], marker="o", color=pal[0], label="P(better)")
    rule = mon.get("rule", {})
    if "u" in rule:
        ax.axhline(rule["u"], color=pal[1], linestyle="-", label=f"tuned bar {rule['u']:.3f}")
        ax.axhline(1 - rule["u"], color=pal[1], linestyle="-")
    ax.axhline(0.95, color="grey", linestyle=":", label="naive 0.95 (too many false wins)")
    ax.set(xlabel="weekly look", ylabel="P(treatment better)", ylim=(-0.02, 1.02), title=f"{mon['metric']}: replay")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def monitor_lines(mon: dict) -> list[str]:
    """Where the tuned rule (and the naive one) would have stopped, in words."""
    out = list(mon.get("notes", []))
    rule = mon.get("rule", {})
    if "u" not in rule:
        return out or ["No look could be analysed."]
    out.append(
        f"Rule: stop for benefit when P(better) > {rule['u']:.3f}, for harm when it is below {1 - rule['u']:.3f}, "
        f"for equivalence when P(inside the equivalence region) > {rule['e']}; the bar is tuned by simulation so "
        f"that an A/A pilot with {rule['max_looks']} weekly looks wins falsely at most 5% of the time."
    )
    for key, name in (("stop", "The tuned rule"), ("stop_fixed_095", "A naive bar of 0.95")):
        s = mon.get(key) or {}
        if s.get("stopped"):
            out.append(
                f"{name} would have stopped for {s['reason']} at look {s['look']} ({s['date'][:10]}), "
                f"P(better) {s['prob_better']:.3f}."
            )
        elif s:
            out.append(f"{name} would not have stopped: {s['reason']}.")
    out += estimate_lines((mon.get("stop") or {}).get("estimate"))
    return out


def estimate_lines(est: dict | None) -> list[str]:
    """The effect after an early stop: naive, bias-adjusted, sceptical, and which one to quote."""
    if not est:
        return []

    def pts(x) -> str:
        return "n/a" if x is None else f"{100 * x:+.1f} points"

    sceptical = (est.get("sceptical") or {}).get("mean") if isinstance(est.get("sceptical"), dict) else est.get("sceptical")
    out = [
        f"Effect at the stop: naive {pts(est.get('naive'))}, bias-adjusted {pts(est.get('bias_adjusted'))}"
        + (f" ({est['note']})" if est.get("note") else "")
        + f", sceptical prior {pts(sceptical)}."
    ]
    if est.get("quote"):
        which, _, why = est["quote"].partition(": ")
        out.append(f"Quote the {which.replace('_', '-')} estimate: {why}.")
    return out


def oc_rows(oc: dict) -> list[dict]:
    """Operating characteristics of the tuned and the naive rule, with Monte-Carlo errors."""
    rows = []
    for name, block in (("tuned", oc["tuned"]), ("naive 0.95", oc["fixed_095"])):
        rows.append(
            {
                "rule": name,
                "bar": round(block["threshold"], 4),
                "false wins under A/A": f"{block['false_win']['rate']:.3f} ± {block['false_win']['mc_error']:.3f}",
                "power": f"{block['power']['rate']:.3f} ± {block['power']['mc_error']:.3f}",
                "mean looks (effect)": f"{block['effect']['looks']['mean']:.1f}",
                "simulated sequences": block["sims"],
            }
        )
    return rows


def design_line(doc: dict, level: float) -> str:
    """Accounts per arm to detect the observed primary effect with 80% probability (closed form)."""

    name = doc["decision"].get("primary_metric")
    m = doc["metrics"].get(name or "")
    if not m or m.get("family") not in ("binary", "time-to-event"):
        return "The pilot-size check covers binary primary outcomes; see `workbench design` for the options."
    c, d = m["control"]["mean"], m["effect"]["difference"]["mean"]
    if not c or not d or not 0 < c + d < 1 or abs(d) < 1e-9:
        return "The observed effect is zero: no pilot size detects it."
    n = closed_form_n(DesignSpec(metric=name, baseline=c, effect=d))
    have = min(m["control"]["n"], m["treatment"]["n"])
    return (
        f"To detect the observed change in {m.get('label', name)} ({fmt_diff(m, d)}) with 80% probability at the "
        f"P(better) > 0.95 bar, a pilot needs about {math.ceil(n):,} accounts per arm (this one had {int(have):,}; "
        "closed form, statsmodels; `workbench design` simulates it through the engine)."
    )
