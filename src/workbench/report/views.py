"""What the notebooks show: plain-language verdicts, tables and seaborn figures.

Everything here reads the results document of :func:`workbench.effects.analyze.analyze_pilot`
(``results.json``) and returns strings, frames or matplotlib figures, so the
notebooks stay thin and the wording is tested like any other code. Wording
follows STYLE.md: a failed gate (model diagnostics, data quality) prints
"inconclusive" and no number dressed as a finding.
"""

from __future__ import annotations

import base64
import io

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import HTML, display

from workbench.report.outcomes import (
    NOUNS,
    TONES,
    banner,
    data_problems,
    fmt_diff,
    fmt_value,
    outcome_view,
    outcome_views,
    prob_phrase,
    shown_unit,
    span,
    subject_for,
    unit_kind,
)
from workbench.report.pages import render

__all__ = ["NOUNS", "fmt_diff", "fmt_value", "prob_phrase", "shown_unit", "span", "subject_for"]

PALETTE = "colorblind"  # seaborn's colour-blind safe palette; markers differ too, for print in grey


def gate(doc: dict, name: str, arm: str | None = None) -> str | None:
    """Why a metric's effect must not be read (the check that blocks it, in words), or None when it can."""
    v = outcome_view(doc, name, arm)
    return v.reason if v.blocked_by else None


def verdict_sentence(doc: dict, name: str, subject: str | None = None, arm: str | None = None) -> str:
    """The sentence for one outcome: its state first, then the numbers in its unit (:func:`outcome_view`).

    E.g. "Kept promise to pay: better. Empathy-led contact raised kept promises from 8.4% to
    15.5% of accounts, +7.1 points (95% interval +6.1 to +8.0); probability it helps: over 99.9%."
    """
    return outcome_view(doc, name, arm, subject).sentence


def role_note(doc: dict, name: str, arm: str | None = None) -> str:
    """The role and state behind the sentence (guardrail state, primary verdict, exploratory with its FDR label)."""
    v = outcome_view(doc, name, arm)
    dec = (doc["metrics"][name].get("comparisons") or {}).get(v.arm, doc["metrics"][name])["decision"]
    if v.role == "guardrail":
        word = "HARM" if v.state == "harm" else v.state
        p = f"; probability of harm beyond the margin {prob_phrase(dec['prob_harm'])}" if "prob_harm" in dec else ""
        return f"Guardrail {word}{p}."
    if v.role == "primary":
        return f"Primary outcome: {v.state}."
    if v.role == "descriptive":
        return "Descriptive only."
    fdr = f" ({dec['multiplicity']})" if dec.get("multiplicity") and not v.blocked_by else ""
    return f"Exploratory: {v.state}{fdr}."


def headline(doc: dict) -> str:
    """One sentence for the whole pilot: the primary's verdict per arm and the guardrail states (from the views)."""
    dec = doc["decision"]
    p = dec.get("primary_metric")
    noun = NOUNS.get(p, p or "the primary metric")
    several = len(doc["treatments"]) > 1
    harmed, open_ = [], []
    guards = [v for v in outcome_views(doc) if v.role == "guardrail"]
    for v in guards:
        name = f"{NOUNS.get(v.metric, v.label)} ({v.arm})" if several else NOUNS.get(v.metric, v.label)
        if v.state == "harm":
            harmed.append(name)
        elif v.state != "no harm beyond margin":
            open_.append(f"{name}, {v.state}" if v.state == "blocked by a check" else name)
    text = f"Headline ({noun}, the primary outcome): {dec['verdict'].upper()}"
    if dec.get("reason"):
        text += f", because {dec['reason']}"
    text += "."
    if harmed:
        text += f" Guardrails showing harm beyond their margin (rollout blocked): {', '.join(harmed)}."
    if open_:
        text += f" Harm not ruled out (not enough data, or blocked by a check) on: {', '.join(open_)}."
    if guards and not harmed and not open_:
        text += " No guardrail shows harm beyond its margin."
    return text


def badges_html(doc: dict) -> str:
    """Two badges: data quality (any failed check named, with what it blocks) and model diagnostics.

    Words carry the meaning ("OK", "CHECK FAILED"); the colour repeats it.
    """
    problems = data_problems(doc)
    checks = [p for p in problems if not p.startswith("model diagnostics")]
    diag = [p for p in problems if p.startswith("model diagnostics")]
    warned = sorted(k for k, v in (doc.get("checks") or {}).items() if v.get("status") == "warn")
    dq_detail = "; ".join(checks) if checks else "every check passed"
    if warned:
        dq_detail += f" (warnings: {', '.join(warned)})"
    rows = [
        {
            "label": "Data quality",
            "word": "CHECK FAILED" if checks else "OK",
            "tone": TONES["blocked" if checks else "good"],
            "detail": dq_detail,
        },
        {
            "label": "Model diagnostics",
            "word": "FAILED" if diag else "OK",
            "tone": TONES["blocked" if diag else "good"],
            "detail": diag[0] if diag else "every model converged",
        },
    ]
    return render("badges.html.j2", badges=rows)


def outcome_class(m: dict) -> str:
    """helps / harms / unclear from the difference interval and the metric's direction (the raw interval only)."""
    lo, hi = m["effect"]["difference"]["interval"]
    if lo is None or hi is None or (lo <= 0 <= hi):
        return "unclear"
    up = lo > 0
    hib = m.get("higher_is_better")
    if hib is None:  # handle time: harm is an increase (it costs money), as in effects.prob_harm
        hib = False
    return "helps" if up == bool(hib) else "harms"


def effects_frame(doc: dict) -> pd.DataFrame:
    """One row per outcome and arm (primary first), every cell from :func:`outcome_view`."""
    rows = []
    for v in outcome_views(doc):
        rows.append(
            {
                "metric": v.metric,
                "arm": v.arm,
                "outcome": v.label,
                "role": v.role,
                "control": v.control,
                "treatment": v.treatment,
                "difference": v.difference,
                "interval": v.interval,
                "lift": v.lift,
                "lift_lo": v.lift_interval[0] if v.lift_interval else None,
                "lift_hi": v.lift_interval[1] if v.lift_interval else None,
                "p_better": v.prob_better,
                "verdict": v.state,
                "state": v.cell,
                "marker": v.marker,
                "colour": v.colour,
                "accounts": f"{v.accounts_control or 0:,} / {v.accounts_treatment or 0:,}",
                "diagnostics_ok": v.blocked_by != "model diagnostics",
                "class": v.tone.name,
            }
        )
    return pd.DataFrame(rows)


def scorecard_frame(doc: dict) -> pd.DataFrame:
    """The scorecard: one row per outcome (per arm with several), primary first, in each metric's unit."""
    several = len(doc["treatments"]) > 1
    rows = []
    for v in outcome_views(doc):
        row = {"Outcome": v.label, "Role": v.role}
        if several:
            row["Arm"] = v.arm
        row.update(
            {
                "Control": v.control,
                "Treatment": v.treatment,
                "Difference": v.difference,
                f"{doc['level']:.0%} interval": v.interval,
                "State": v.cell,
                "Accounts (control / treatment)": f"{v.accounts_control or 0:,} / {v.accounts_treatment or 0:,}",
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _bar(v) -> dict | None:
    """Positions (0-100) of an interval bar on the row's own symmetric axis, zero in the middle."""
    if v.lift is None:
        return None
    lo, hi = v.lift_interval
    bound = max(abs(lo), abs(hi), abs(v.lift)) or 1.0

    def pos(x: float) -> float:
        return round(50 + 45 * x / bound, 1)

    return {
        "lo": pos(lo),
        "hi": pos(hi),
        "mid": pos(v.lift),
        "label": f"relative change {100 * v.lift:+.1f}% ({100 * lo:+.1f}% to {100 * hi:+.1f}%)",
    }


def scorecard_html(doc: dict, pilot: str = "", dates: str = "") -> str:
    """The verdict banner and the scorecard as HTML (Jinja2 with autoescape; colour repeats the words)."""
    views = outcome_views(doc)
    accounts = {}
    for v in views:
        accounts.setdefault(doc["control"], v.accounts_control)
        accounts.setdefault(v.arm, v.accounts_treatment)
    return render(
        "scorecard.html.j2",
        banner=banner(doc),
        rows=[{"v": v, "bar": _bar(v)} for v in views],
        several=len(doc["treatments"]) > 1,
        level=f"{doc['level']:.0%}",
        accounts=accounts,
        pilot=pilot,
        dates=dates,
    )


def effects_figure(doc: dict, dpi: int = 110):
    """Every outcome's relative change (treatment / control - 1) with its interval, primary at the top.

    Marker and colour are the outcome view's (one per state); each point carries
    the gid ``metric:arm:state`` so tests read what was drawn. An outcome blocked
    by a check is drawn as its marker at zero with no interval; outcomes whose
    control mean is not positive (NPS can be negative) have no meaningful relative
    change and are named under the axis. The legend sits outside the plot.
    """
    views = outcome_views(doc)
    several = len(doc["treatments"]) > 1
    shown = [v for v in views if v.lift is not None or v.blocked_by]
    left_out = [f"{v.label} ({v.arm})" if several else v.label for v in views if v not in shown]
    fig, ax = plt.subplots(figsize=(8.5, 0.45 * len(shown) + 1.8), dpi=dpi)
    seen = set()
    for i, v in enumerate(shown):
        y = len(shown) - 1 - i  # primary at the top
        if v.lift is not None:
            ax.hlines(y, 100 * v.lift_interval[0], 100 * v.lift_interval[1], color=v.colour, linewidth=2.5)
        x = 0.0 if v.lift is None else 100 * v.lift
        label = v.state if v.state not in seen else None
        seen.add(v.state)
        ax.scatter([x], [y], color=v.colour, marker=v.marker, s=90, zorder=3, label=label, gid=f"{v.metric}:{v.arm}:{v.state}")
    ax.axvline(0, color="black", linewidth=1)
    names = [f"{v.label} ({v.arm})" if several else v.label for v in shown]
    ax.set_yticks(range(len(shown)), [f"{n} [{v.role}]" for n, v in zip(names, shown, strict=True)][::-1])
    ax.set_xlabel(f"relative change, treatment vs control, % ({doc['level']:.0%} interval)")
    ax.set_ylabel("")
    ax.legend(title="state", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    if left_out:
        ax.set_title(f"not shown (no meaningful relative change): {', '.join(left_out)}", fontsize=8, loc="left")
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def effects_alt(doc: dict) -> str:
    """Alt text of :func:`effects_figure`: every outcome's state and change in words."""
    parts = [
        f"{v.label}{f' ({v.arm})' if len(doc['treatments']) > 1 else ''}: {v.state}, {v.difference}" for v in outcome_views(doc)
    ]
    return "Relative change of every outcome with its interval. " + "; ".join(parts) + "."


def guardrails_frame(doc: dict, every_arm: bool = False) -> pd.DataFrame:
    """Guardrails: the difference, the harm margin, P(harm beyond it) and the state (the view's words)."""
    rows = []
    for v in outcome_views(doc):
        if v.role != "guardrail" or (not every_arm and v.arm != doc["treatments"][0]):
            continue
        m = doc["metrics"][v.metric]
        dec = (m.get("comparisons") or {}).get(v.arm, m)["decision"]
        row = {"guardrail": v.label}
        if every_arm and len(doc["treatments"]) > 1:
            row["arm"] = v.arm
        row.update(
            {
                "difference": v.difference,
                "harm margin": fmt_diff(m, dec.get("margin"), True).lstrip("+") if "margin" in dec else "",
                "P(harm beyond margin)": "" if v.blocked_by else prob_phrase(dec.get("prob_harm")),
                "result": v.state.upper(),
                "accounts per arm to settle": f"{n:,}" if (n := (dec.get("to_settle") or {}).get("accounts_per_arm")) else "",
            }
        )
        rows.append(row)
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
    scale = 1000.0 if unit_kind(m) == "per1000" else 100.0 if unit_kind(m) in ("share", "per_promise", "balance", "nps") else 1.0
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


def money_impact(doc: dict, portfolio_accounts: int, cost_per_contact: float, window_days: int, currency: str = "") -> dict:
    """Money for the portfolio, with the assumptions written out.

    extra collected = recovery difference x average balance x portfolio accounts;
    contact cost change = contact_intensity difference x cost per contact x portfolio accounts.
    Both are linear in the difference, so its interval carries over unchanged. Amounts
    are in ``currency`` (pilot.yml ``portfolio.currency``); a cost per contact of zero
    means "not set", so no cost line is estimated and no zero cost is assumed.
    """
    cur = currency or "the pilot's currency (pilot.yml portfolio.currency is not set)"
    out: dict = {
        "currency": currency,
        "assumptions": [
            (
                f"{portfolio_accounts:,} accounts a year enter collections and are all treated like the pilot's treatment arm "
                "(pilot.yml portfolio.accounts)"
            ),
            f"money collected counts the {window_days}-day outcome window only, like the recovery metric",
            f"the average balance of the portfolio equals the pilot's control arm; amounts are in {cur}",
        ],
    }
    if cost_per_contact > 0:
        out["assumptions"].append(
            f"one outbound attempt costs {_money(cost_per_contact, currency, 2)} (pilot.yml portfolio.cost_per_contact)"
        )
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


def _money(x: float, currency: str, digits: int = 0, sign: bool = False) -> str:
    """12,345 EUR / -1,200 EUR (the amount, then the currency code as written in pilot.yml)."""
    num = f"{x:+,.{digits}f}" if sign else f"{x:,.{digits}f}"
    return f"{num} {currency}".strip()


def money_lines(impact: dict, level: float) -> list[str]:
    """The money impact as sentences in the pilot's currency (blocked when the metric is blocked by a check)."""
    cur = impact.get("currency", "")
    lines = []
    c = impact.get("collected")
    if c is not None:
        if c["gated"]:
            lines.append(f"Extra money collected a year: not reported ({c['gated']}).")
        else:
            lo, hi = c["interval"]
            lines.append(
                f"Extra money collected a year: {_money(c['mean'], cur, sign=True)} ({level:.0%} interval "
                f"{_money(lo, cur, sign=True)} to {_money(hi, cur, sign=True)}), at an average balance of "
                f"{_money(impact['average_balance'], cur)}."
            )
    k = impact.get("contact_cost")
    if k is not None:
        if not k["cost_set"]:
            lines.append("Contact cost change: not estimated, pilot.yml sets no cost per contact (portfolio.cost_per_contact).")
        elif k["gated"]:
            lines.append(f"Contact cost change a year: not reported ({k['gated']}).")
        else:
            lo, hi = k["interval"]
            lines.append(
                f"Contact cost change a year: {_money(k['mean'], cur, sign=True)} ({level:.0%} interval "
                f"{_money(lo, cur, sign=True)} to {_money(hi, cur, sign=True)})."
            )
    return lines


CLAIM_WORDS = {
    "supported": "supported",
    "contradicted": "contradicted by this pilot",
    "inconclusive": "not settled by this pilot",
    "not testable": "not testable with this data",
}


def _claim_q(c: dict, m: dict | None, x, unit: bool = False) -> str:
    """A claim's quantity in its own scale: 1.20x, +12.0%, 44.0% (a level is a share), or a difference
    in the metric's unit (the unit written once, after the estimate)."""
    if x is None:
        return "n/a"
    scale = c.get("scale")
    if scale == "ratio":
        return f"{x:.2f}x"
    if scale == "relative_lift":
        return f"{100 * x:+.1f}%"
    if scale == "level":
        return f"{100 * x:.1f}%"
    return fmt_diff(m, x, unit) if m else f"{x:+,.3f}"


def _claim_estimate(c: dict, m: dict | None) -> str:
    if c.get("mean") is None:
        return "n/a"
    lo, hi = c.get("interval") or (None, None)
    mid = _claim_q(c, m, c.get("median", c["mean"]))
    text = f"{mid} ({_claim_q(c, m, lo)} to {_claim_q(c, m, hi)})"
    if c.get("scale") == "difference" and m:
        text += fmt_diff(m, 0.0)[len(fmt_diff(m, 0.0, False)) :]
    return text


def claims_table(claims: dict, doc: dict) -> pd.DataFrame:
    """The claims for the executive page: plain outcome names, the estimate in the claim's own scale,
    and no verdict on a claim whose outcome is blocked by a check (the outcome view decides)."""
    rows = []
    for c in claims["claims"]:
        metric = c.get("metric")
        v = outcome_view(doc, metric) if metric in doc["metrics"] else None
        m = doc["metrics"].get(metric)
        est = _claim_estimate(c, m)
        verdict = CLAIM_WORDS.get(c["verdict"], c["verdict"])
        if v is not None and v.blocked_by:
            est, verdict = "not reported", f"not judged: {v.reason}"
        rows.append(
            {
                "claim": c["text"],
                "source": c.get("source", ""),
                "outcome": v.label if v else (metric or "").replace("_", " "),
                "this pilot": est,
                "probability of the claimed range": "" if v and v.blocked_by else prob_phrase(c.get("probability")),
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)


def plain_number(x: float) -> str:
    """Pandas' float format in the notebooks: whole numbers with thousands separators, never scientific notation."""
    if x != x:  # NaN
        return ""
    if float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.4f}" if abs(x) >= 0.001 else f"{x:.6f}"


def use_theme(dpi: int = 110) -> None:
    """seaborn's colour-blind palette on a white grid, sized to read in print; whole tables, plain numbers."""

    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")
    mpl.rcParams.update({"figure.dpi": dpi, "savefig.dpi": dpi})
    # The tables that matter are short: show them whole, with no scientific notation.
    pd.set_option("display.max_rows", 500)
    pd.set_option("display.max_columns", None)
    pd.set_option("display.width", None)
    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.float_format", plain_number)


def scrub_undeclared(text: str, numbers: dict, declared) -> str:
    """A check's summary without the segment values pilot.yml does not declare (free text, maybe personal):
    each ``segment=<value>`` named in the check's numbers and not declared reads ``segment=other``."""
    if declared is None:
        return text
    known, found = set(declared), set()

    def walk(x: object) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                if str(k).startswith("segment=") and str(k).removeprefix("segment=") not in known:
                    found.add(str(k))
                walk(v)

    walk(numbers)
    for key in sorted(found, key=len, reverse=True):  # longest first: a value may contain a shorter one
        text = text.replace(key, "segment=other")
    return text


def balance_frame(numbers: dict) -> pd.DataFrame:
    """The balance check as a table: one row per covariate, each arm's mean and each treatment's
    standardized difference (SMD) with its flag against the check's bars (warn / FAIL / ok)."""
    smd, means = numbers.get("smd") or {}, numbers.get("means") or {}
    warn, fail = numbers.get("warn", float("inf")), numbers.get("fail", float("inf"))
    rows = []
    for cov, by_arm in means.items():
        share = cov.startswith("segment=")
        row = {"covariate": cov.replace("segment=", "share in segment ") if share else cov.replace("_", " ")}
        for arm, x in by_arm.items():
            row[f"mean, {arm}"] = f"{100 * x:.1f}%" if share else f"{x:,.1f}"
        for arm, d in smd.items():
            x = d.get(cov)
            row[f"SMD, {arm}"] = "" if x is None else f"{x:+.3f}"
            row[f"flag, {arm}"] = "" if x is None else "FAIL" if abs(x) > fail else "warn" if abs(x) > warn else "ok"
        rows.append(row)
    return pd.DataFrame(rows)


def diagnostics_frame(doc: dict) -> pd.DataFrame:
    """Per outcome: the model, and R-hat / ESS / divergences only where a sampler ran (exact posteriors have none)."""
    rows = []
    for k in doc["metrics"]:
        m = doc["metrics"][k]
        v = outcome_view(doc, k)
        dg, fq = m["diagnostics"], m.get("frequentist") or {}
        sampled = "exact" not in (dg.get("method") or "") and "independent draws" not in (dg.get("method") or "")
        rows.append(
            {
                "outcome": v.label,
                "model": m["model"],
                "diagnostics": ("ok" if dg.get("ok") else "FAILED") if sampled else "exact posterior (no sampler)",
                "R-hat (max)": f"{dg['r_hat_max']:.3f}" if sampled and dg.get("r_hat_max") is not None else "",
                "ESS bulk (min)": f"{dg['ess_bulk_min']:,.0f}" if sampled and dg.get("ess_bulk_min") is not None else "",
                "divergences": f"{dg['divergences']:,}" if sampled and dg.get("divergences") is not None else "",
                "Bayes difference": fmt_diff(m, m["effect"]["difference"]["mean"]),
                "frequentist difference": fmt_diff(m, fq.get("difference")),
                "frequentist p": ""
                if fq.get("p_value") is None
                else ("< 0.0001" if fq["p_value"] < 1e-4 else f"{fq['p_value']:.4f}"),
                "prior P(better)": prob_phrase((m.get("prior") or {}).get("prob_better")),
                "sceptical prior P(better)": prob_phrase((m.get("sensitivity") or {}).get("prob_better")),
            }
        )
    return pd.DataFrame(rows)


def show(fig, alt: str | None = None) -> None:
    """Display a figure once, as an embedded PNG with alt text, and free it (returning it would draw it twice).

    Without ``alt`` the text is made from the axes' titles and labels, so no figure goes without one.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    display(
        HTML(
            render("figure.html.j2", png=base64.b64encode(buf.getvalue()).decode("ascii"), alt=alt or figure_alt(fig), caption="")
        )
    )


def figure_alt(fig) -> str:
    """A description of a figure from its axes: title, axis labels."""
    parts = []
    for ax in fig.axes:
        bits = [ax.get_title(), ax.get_ylabel() and f"{ax.get_ylabel()} against", ax.get_xlabel()]
        text = " ".join(b for b in bits if b).strip()
        if text:
            parts.append(text)
    return "Figure: " + ("; ".join(parts) if parts else "chart")


def sentences_html(doc: dict, subject: str | None = None) -> str:
    """Every outcome's sentence (state first) with its role note, primary first."""
    rows = []
    for v in outcome_views(doc, subject):
        rows.append({"sentence": v.sentence, "note": role_note(doc, v.metric, v.arm), "tone": v.tone})
    return render("outcome_sentences.html.j2", views=rows)


def frame_html(frame: pd.DataFrame, caption: str = "") -> str:
    """A table as HTML through a template with autoescape; whole (no truncation), numbers as given."""
    rows = [["" if pd.isna(x) else str(x) for x in r] for r in frame.itertuples(index=False)]
    return render("frame.html.j2", columns=[str(c) for c in frame.columns], rows=rows, caption=caption)


def text_html(paragraphs: list[str], items: list[str] | None = None) -> str:
    """Paragraphs and a bullet list as HTML (autoescaped: text from the data stays text)."""
    return render("paragraphs.html.j2", paragraphs=paragraphs, items=items or [])
