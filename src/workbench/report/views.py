"""What the notebooks show: plain-language verdicts, tables and seaborn figures.

Everything here reads the results document of :func:`workbench.effects.analyze.analyze_pilot`
(``results.json``) and returns strings, frames or matplotlib figures, so the
notebooks stay thin and the wording is tested like any other code. Wording
follows STYLE.md: a failed gate (model diagnostics, data quality) prints
"inconclusive" and no number dressed as a finding.
"""

from __future__ import annotations

import html
import math

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import display

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
PALETTE = "colorblind"  # seaborn's colour-blind safe palette; markers differ too, for print in grey
OUTCOME_STYLE = {"helps": ("o", 0), "harms": ("X", 3), "unclear": ("s", 7)}


def _kind(m: dict) -> str:
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


def fmt_value(m: dict, x: float | None) -> str:
    """An arm's mean in the metric's own words (8.4%, 3.1 per 1,000 accounts, 240 s, 3.42)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    k = _kind(m)
    return {
        "share": f"{100 * x:.1f}%",
        "per_promise": f"{100 * x:.1f}%",
        "balance": f"{100 * x:.2f}%",
        "per1000": f"{1000 * x:.1f}",
        "seconds": f"{x:.0f} s",
        "score": f"{x:.2f}",
        "nps": f"{100 * x:+.0f}",
        "attempts": f"{x:.2f}",
    }.get(k, f"{x:.3g}")


def fmt_diff(m: dict, x: float | None, with_unit: bool = True) -> str:
    """A difference between arms: +7.1 points, +0.8 per 1,000 accounts, +53 s, +0.12."""
    if x is None:
        return "n/a"
    k = _kind(m)
    num = {
        "share": f"{100 * x:+.1f}",
        "per_promise": f"{100 * x:+.1f}",
        "balance": f"{100 * x:+.2f}",
        "per1000": f"{1000 * x:+.2f}",
        "seconds": f"{x:+.0f}",
        "score": f"{x:+.2f}",
        "nps": f"{100 * x:+.1f}",
        "attempts": f"{x:+.2f}",
    }.get(k, f"{x:+.3g}")
    if not with_unit:
        return num
    unit = {
        "share": " points",
        "per_promise": " points",
        "balance": " points of balance",
        "per1000": " per 1,000 accounts",
        "seconds": " s",
        "score": " on the 1-5 scale",
        "nps": " NPS points",
        "attempts": " attempts per account",
    }.get(k, "")
    return num + unit


def _span(m: dict) -> str:
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
    }.get(_kind(m), f" ({m.get('unit', '')})")


def prob_phrase(p: float | None) -> str:
    """0.9996 -> 'over 99.9%'; extremes are capped because draws cannot resolve them."""
    if p is None:
        return "n/a"
    if p > 0.999:
        return "over 99.9%"
    if p < 0.001:
        return "under 0.1%"
    return f"{100 * p:.0f}%" if 0.01 <= p <= 0.99 else f"{100 * p:.1f}%"


def subject_for(arm: str) -> str:
    """'empathy' -> 'Empathy-led contact'; any other label -> 'The <label> arm'."""
    return f"{arm.capitalize()}-led contact" if arm.isalpha() else f"The {arm} arm"


def gate(doc: dict, name: str) -> str | None:
    """Why a metric's effect must not be read, or None when it can."""
    m = doc["metrics"][name]
    if m.get("role") == "descriptive":
        return None
    if not m["diagnostics"].get("ok", False):
        return "the model diagnostics failed"
    dq = doc.get("data_quality", {"ok": True})
    if not dq.get("ok", True):
        return f"data quality checks failed ({', '.join(dq.get('gating', dq.get('failed', [])))})"
    reason = m.get("decision", {}).get("reason", "")
    if m.get("decision", {}).get("verdict") == "inconclusive" and "check failed" in reason:
        return reason
    return None


def verdict_sentence(doc: dict, name: str, subject: str | None = None) -> str:
    """The headline for one outcome, generated from the numbers.

    E.g. "Empathy-led contact raised kept promises from 8.4% to 15.5% of accounts,
    +7.1 points (95% interval +6.1 to +8.0); probability it helps: over 99.9%."
    """
    m = doc["metrics"][name]
    noun = NOUNS.get(name, (m.get("label") or name).lower())
    subject = subject or subject_for(doc["treatments"][0])
    why = gate(doc, name)
    if why is not None:
        return f"{noun[0].upper() + noun[1:]}: inconclusive, because {why}; no effect is reported."
    d = m["effect"]["difference"]
    lo, hi = d["interval"]
    c, t = fmt_value(m, m["control"]["mean"]), fmt_value(m, m["treatment"]["mean"])
    interval = f"{doc['level']:.0%} interval {fmt_diff(m, lo, False)} to {fmt_diff(m, hi, False)}"
    if lo is not None and hi is not None and (lo > 0 or hi < 0):
        verb = "raised" if d["mean"] > 0 else "lowered"
        core = f"{subject} {verb} {noun} from {c} to {t}{_span(m)}, {fmt_diff(m, d['mean'])} ({interval})"
    else:
        core = f"{subject} moved {noun} from {c} to {t}{_span(m)}, {fmt_diff(m, d['mean'])} ({interval}: no clear change)"
    if m.get("role") == "descriptive":
        return core + "; descriptive only (it conditions on a promise having been made)."
    return f"{core}; probability it helps: {prob_phrase(m['prob_better'])}."


def guardrail_phrase(m: dict) -> str:
    """A guardrail's state in words: harm, no harm beyond the margin, or not enough data (with the size)."""
    dec = m["decision"]
    margin = fmt_diff(m, dec["margin"]).lstrip("+")
    p = prob_phrase(dec["prob_harm"])
    v = dec["verdict"]
    if v == "harm":
        return f"Guardrail HARM: the interval lies beyond the harm margin ({margin}); probability of harm beyond it {p}."
    if v in ("no harm beyond margin", "pass"):
        return (
            f"Guardrail: no harm beyond the margin ({margin}); probability of harm beyond it {p} (limit {dec['threshold']:.0%})."
        )
    settle = (dec.get("to_settle") or {}).get("accounts_per_arm")
    more = f"; about {settle:,} accounts per arm would settle it" if settle else ""
    return f"Guardrail: not enough data to rule out harm beyond the margin ({margin}); probability of harm beyond it {p}{more}."


def role_note(doc: dict, name: str) -> str:
    """The verdict behind the sentence: primary verdict, guardrail state, or exploratory (with its FDR label)."""
    m = doc["metrics"][name]
    dec, role = m["decision"], m.get("role", "")
    if role == "guardrail" and "prob_harm" in dec:
        return guardrail_phrase(m)
    if role == "primary":
        return f"Primary outcome: verdict {dec['verdict']}."
    if role == "descriptive":
        return "Descriptive only."
    fdr = f" ({dec['multiplicity']})" if dec.get("multiplicity") else ""
    return f"Exploratory: {dec['verdict']}{fdr}."


def headline(doc: dict) -> str:
    """One sentence for the whole pilot: the primary metric's verdict and the guardrails."""
    dec = doc["decision"]
    p = dec.get("primary_metric")
    noun = NOUNS.get(p, p or "the primary metric")
    arms = dec.get("arms") or {None: {"guardrails": dec.get("guardrails", {})}}
    several = len(arms) > 1

    def named(k: str, arm: str | None) -> str:
        return f"{NOUNS.get(k, k)} ({arm})" if several else NOUNS.get(k, k)

    harmed, open_, judged = [], [], False
    for arm, a in arms.items():
        for k, v in sorted(a.get("guardrails", {}).items()):
            judged = True
            if v in ("harm", "fail"):
                harmed.append(named(k, arm))
            elif v not in ("no harm beyond margin", "pass"):
                open_.append(named(k, arm))
    text = f"Headline ({noun}, the primary outcome): {dec['verdict'].upper()}"
    if dec.get("reason"):
        text += f", because {dec['reason']}"
    text += "."
    if harmed:
        text += f" Guardrails showing harm beyond their margin (rollout blocked): {', '.join(harmed)}."
    if open_:
        text += f" Harm not ruled out (not enough data, or no verdict) on: {', '.join(open_)}."
    if judged and not harmed and not open_:
        text += " No guardrail shows harm beyond its margin."
    return text


def badges_html(doc: dict) -> str:
    """Two badges: data quality and model diagnostics (green ok, orange failed; words, not colour alone)."""
    dq = doc.get("data_quality", {"ok": True, "failed": []})
    bad = sorted(k for k, m in doc["metrics"].items() if not m["diagnostics"].get("ok", False))

    def badge(ok: bool, label: str, detail: str) -> str:
        colour = "#0173b2" if ok else "#d55e00"  # seaborn colorblind blue / vermilion
        word = "OK" if ok else "FAILED"
        return (
            f'<span style="display:inline-block;margin:0 8px 8px 0;padding:4px 10px;border-radius:4px;'
            f'background:{colour};color:#fff;font-weight:bold">{html.escape(label)}: {word}</span>'
            f'<span style="margin-right:16px">{html.escape(detail)}</span>'
        )

    dq_detail = (
        "sample ratio, balance and contamination checks passed"
        if dq.get("ok")
        else f"failed: {', '.join(dq.get('failed', []))} (every verdict is inconclusive)"
    )
    diag_detail = "every model converged" if not bad else f"unreliable fit: {', '.join(bad)} (inconclusive)"
    return (
        "<div>"
        + badge(bool(dq.get("ok")), "Data quality", dq_detail)
        + badge(not bad, "Model diagnostics", diag_detail)
        + "</div>"
    )


def outcome_class(m: dict) -> str:
    """helps / harms / unclear from the difference interval and the metric's direction."""
    lo, hi = m["effect"]["difference"]["interval"]
    if lo is None or hi is None or (lo <= 0 <= hi):
        return "unclear"
    up = lo > 0
    hib = m.get("higher_is_better")
    if hib is None:  # handle time: harm is an increase (it costs money), as in effects.prob_harm
        hib = False
    return "helps" if up == bool(hib) else "harms"


def effects_frame(doc: dict) -> pd.DataFrame:
    """One row per outcome: arms, difference and relative lift with interval, P(better), role, verdict."""
    rows = []
    for name, m in doc["metrics"].items():
        d, r = m["effect"]["difference"], m["effect"]["relative_lift"]
        rows.append(
            {
                "metric": name,
                "outcome": m.get("label", name),
                "role": m.get("role"),
                "control": fmt_value(m, m["control"]["mean"]),
                "treatment": fmt_value(m, m["treatment"]["mean"]),
                "difference": fmt_diff(m, d["mean"]),
                "interval": f"{fmt_diff(m, d['interval'][0], False)} to {fmt_diff(m, d['interval'][1], False)}",
                "lift": r["mean"],
                "lift_lo": r["interval"][0],
                "lift_hi": r["interval"][1],
                "p_better": m.get("prob_better"),
                "verdict": "inconclusive" if gate(doc, name) else m["decision"]["verdict"],
                "diagnostics_ok": m["diagnostics"].get("ok"),
                "class": outcome_class(m),
            }
        )
    return pd.DataFrame(rows)


def effects_figure(doc: dict, dpi: int = 110):
    """Every outcome's relative lift (treatment / control - 1) with its interval, in one seaborn figure.

    Outcomes whose control mean is not positive (NPS can be negative) have no
    meaningful relative lift and are left out, with a note under the axis.
    """

    df = effects_frame(doc)
    keep = [doc["metrics"][n]["control"]["mean"] is not None and doc["metrics"][n]["control"]["mean"] > 0 for n in df.metric]
    left_out = list(df.loc[[not k for k in keep], "outcome"])
    df = df[keep].dropna(subset=["lift"]).iloc[::-1].reset_index(drop=True)
    pal = sns.color_palette(PALETTE)
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(df) + 1.6), dpi=dpi)
    for cls, (marker, ci) in OUTCOME_STYLE.items():
        sub = df[df["class"] == cls]
        if sub.empty:
            continue
        ax.hlines(sub.index, 100 * sub.lift_lo, 100 * sub.lift_hi, color=pal[ci], linewidth=2.5)
        sns.scatterplot(x=100 * sub.lift, y=sub.index, ax=ax, color=pal[ci], marker=marker, s=90, label=cls, zorder=3)
    ax.axvline(0, color="black", linewidth=1)
    ax.set_yticks(range(len(df)), [f"{o} ({r})" for o, r in zip(df.outcome, df.role, strict=True)])
    ax.set_xlabel(f"relative change, treatment vs control, % ({doc['level']:.0%} interval)")
    ax.set_ylabel("")
    ax.legend(title="effect", loc="lower right", frameon=True)
    if left_out:
        ax.set_title(f"not shown (no meaningful relative change): {', '.join(left_out)}", fontsize=8, loc="left")
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def guardrails_frame(doc: dict) -> pd.DataFrame:
    """Guardrails: the difference, the harm margin, P(harm beyond it) and the state (harm / no harm / not enough data)."""
    rows = []
    for name, m in doc["metrics"].items():
        if m.get("role") != "guardrail":
            continue
        dec = m["decision"]
        rows.append(
            {
                "guardrail": m.get("label", name),
                "difference": fmt_diff(m, m["effect"]["difference"]["mean"]),
                "harm margin": fmt_diff(m, dec.get("margin"), True).lstrip("+") if "margin" in dec else "",
                "P(harm beyond margin)": prob_phrase(dec.get("prob_harm")),
                "result": "inconclusive" if gate(doc, name) else dec["verdict"].upper(),
                "accounts per arm to settle": (dec.get("to_settle") or {}).get("accounts_per_arm") or "",
            }
        )
    return pd.DataFrame(rows)


def segments_frame(doc: dict, name: str) -> pd.DataFrame:
    """Segment effects of one outcome (exploratory; small cells suppressed)."""
    m = doc["metrics"][name]
    rows = []
    for seg, s in sorted((m.get("segments") or {}).items()):
        if s.get("suppressed"):
            rows.append(
                {
                    "segment": seg,
                    "control": None,
                    "treatment": None,
                    "difference": None,
                    "lo": None,
                    "hi": None,
                    "p_better": None,
                    "note": s.get("reason", "suppressed"),
                }
            )
            continue
        # The partially pooled estimate when there is one (small segments borrow strength).
        pooled = s.get("pooled")
        d = pooled["difference"] if pooled else s["effect"]["difference"]
        pb = pooled["prob_better"] if pooled else s.get("prob_better")
        rows.append(
            {
                "segment": seg,
                "control": s["control"]["mean"],
                "treatment": s["treatment"]["mean"],
                "difference": d["mean"],
                "lo": d["interval"][0],
                "hi": d["interval"][1],
                "p_better": pb,
                "note": ("" if s["diagnostics"].get("ok") else "unreliable fit") + ("" if pooled else " (not pooled)"),
            }
        )
    return pd.DataFrame(rows, columns=["segment", "control", "treatment", "difference", "lo", "hi", "p_better", "note"])


def segments_figure(doc: dict, name: str, dpi: int = 110):
    """Difference per segment with its interval, the overall effect as a band (exploratory)."""

    m = doc["metrics"][name]
    scale = 1000.0 if _kind(m) == "per1000" else 100.0 if _kind(m) in ("share", "per_promise", "balance", "nps") else 1.0
    df = segments_frame(doc, name).dropna(subset=["difference"]).iloc[::-1].reset_index(drop=True)
    pal = sns.color_palette(PALETTE)
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * max(len(df), 1) + 1.5), dpi=dpi)
    overall = m["effect"]["difference"]
    ax.axvspan(scale * overall["interval"][0], scale * overall["interval"][1], color=pal[7], alpha=0.25, label="all accounts")
    ax.hlines(df.index, scale * df.lo, scale * df.hi, color=pal[0], linewidth=2.5)
    sns.scatterplot(x=scale * df.difference, y=df.index, ax=ax, color=pal[0], s=80, zorder=3, label="segment")
    ax.axvline(0, color="black", linewidth=1)
    ax.set_yticks(range(len(df)), list(df.segment))
    unit = fmt_diff(m, 0.0).split(" ", 1)[1] if " " in fmt_diff(m, 0.0) else m.get("unit", "")
    ax.set_xlabel(f"{m.get('label', name)}: difference, {unit} ({doc['level']:.0%} interval)")
    ax.set_ylabel("")
    ax.legend(loc="lower right")
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def money_impact(doc: dict, portfolio_accounts: int, cost_per_contact: float, window_days: int) -> dict:
    """Money for the portfolio, with the assumptions written out.

    extra collected = recovery difference x average balance x portfolio accounts;
    contact cost change = contact_intensity difference x cost per contact x portfolio accounts.
    Both are linear in the difference, so its interval carries over unchanged.
    """
    out: dict = {
        "assumptions": [
            (
                f"{portfolio_accounts:,} accounts a year enter collections and are all treated like the pilot's treatment arm "
                "(pilot.yml portfolio.accounts)"
            ),
            f"money collected counts the {window_days}-day outcome window only, like the recovery metric",
            "the average balance of the portfolio equals the pilot's control arm; amounts are in the pilot's currency",
            f"one outbound attempt costs {cost_per_contact:,.2f} (pilot.yml portfolio.cost_per_contact)",
        ]
    }
    rec = doc["metrics"].get("recovery")
    if rec and rec["control"].get("per_account") and rec["control"]["mean"]:
        bal = rec["control"]["per_account"] / rec["control"]["mean"]
        d = rec["effect"]["difference"]
        out["average_balance"] = bal
        out["collected"] = {
            "mean": d["mean"] * bal * portfolio_accounts,
            "interval": [x * bal * portfolio_accounts for x in d["interval"]],
            "gated": gate(doc, "recovery"),
        }
    ci = doc["metrics"].get("contact_intensity")
    if ci:
        d = ci["effect"]["difference"]
        out["contact_cost"] = {
            "mean": d["mean"] * cost_per_contact * portfolio_accounts,
            "interval": [x * cost_per_contact * portfolio_accounts for x in d["interval"]],
            "gated": gate(doc, "contact_intensity"),
            "cost_set": cost_per_contact > 0,
        }
    return out


def money_lines(impact: dict, level: float) -> list[str]:
    """The money impact as sentences (inconclusive when the metric is gated)."""
    lines = []
    c = impact.get("collected")
    if c is not None:
        if c["gated"]:
            lines.append(f"Extra money collected a year: inconclusive ({c['gated']}).")
        else:
            lines.append(
                f"Extra money collected a year: {c['mean']:+,.0f} ({level:.0%} interval {c['interval'][0]:+,.0f} "
                f"to {c['interval'][1]:+,.0f}), at an average balance of {impact['average_balance']:,.0f}."
            )
    k = impact.get("contact_cost")
    if k is not None:
        if not k["cost_set"]:
            lines.append("Contact cost change: not estimated, pilot.yml sets no cost per contact (portfolio.cost_per_contact).")
        elif k["gated"]:
            lines.append(f"Contact cost change a year: inconclusive ({k['gated']}).")
        else:
            lines.append(
                f"Contact cost change a year: {k['mean']:+,.0f} ({level:.0%} interval {k['interval'][0]:+,.0f} "
                f"to {k['interval'][1]:+,.0f})."
            )
    return lines


def use_theme(dpi: int = 110) -> None:
    """seaborn's colour-blind palette on a white grid, sized to read in print."""

    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")
    mpl.rcParams.update({"figure.dpi": dpi, "savefig.dpi": dpi})


def show(fig) -> None:
    """Display a figure once (as PNG) and free it; returning it would draw it twice."""

    display(fig)
    plt.close(fig)
