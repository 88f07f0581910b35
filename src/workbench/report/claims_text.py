"""The claims' verdicts as terminal text: one aligned row per claim, its reading and what settles it.

Apart from :mod:`workbench.report.claims` (tables and figures for the notebook) so
that ``workbench claims`` prints without importing matplotlib, seaborn and
IPython: about 2 s of every command's start.
"""

from __future__ import annotations

VERDICT_WORDS = {
    "supported": "supported",
    "contradicted": "contradicted by this pilot",
    "inconclusive": "not settled by this pilot",
    "not testable": "not testable with this data",
    "not testable at this horizon": "not testable at this horizon",
    "not a causal contrast": "not a causal contrast (descriptive only)",
    "depends on the reading": "depends on the reading",
}


def fmt_q(c: dict, x) -> str:
    """A value in the claim's own scale: 2.10x, +12.0%, 91.0%, +0.004, sd 0.021."""
    if x is None:
        return "n/a"
    if c["scale"] == "ratio":
        return f"{x:.2f}x"
    if c["scale"] == "relative_lift":
        return f"{x:+.1%}"
    if c["scale"] == "level":
        return f"{x:.1%}"
    if c["scale"] == "between_segment_sd":
        return f"sd {x:.3g}"
    return f"{x:+.3g}"


def shown(c: dict) -> dict:
    """The figures to show: the claim's own, else the labelled ones at the pilot's horizon or over all accounts."""
    if c.get("probability") is not None:
        return c
    beside = (c.get("at_pilot_horizon") or {}).get("readings") or c.get("all_accounts") or []
    return beside[0] if beside and beside[0].get("probability") is not None else c


def estimate(c: dict) -> str:
    r = shown(c)
    if r.get("mean") is None:
        return "n/a"
    lo, hi = r.get("interval") or (None, None)
    lab = "" if r is c else (" at the pilot's horizon" if c.get("at_pilot_horizon") else " all accounts")
    return f"{fmt_q(r, r.get('median', r['mean']))} [{fmt_q(r, lo)}, {fmt_q(r, hi)}]{lab}"


def settle(c: dict) -> str:
    if c["verdict"] == "not testable at this horizon":
        return f"a pilot following accounts {c['horizon']['claim_days']} days"
    if c["verdict"] == "not a causal contrast":
        return "a randomized contrast cannot condition on an outcome; see the descriptive figure"
    if c["verdict"] == "not testable":
        return c.get("reason", "")
    s = c.get("to_settle") or {}
    if s.get("note"):
        return s["note"]
    if c["verdict"] in ("supported", "contradicted"):
        return "settled at this bar"
    if c["scale"] == "between_segment_sd":
        return "more accounts per segment (the segment model's spread narrows)"
    return "a larger pilot (joint readings are not sized)"


def horizon(c: dict) -> str:
    h = c.get("horizon") or {}
    claim = f"{h['claim_days']}d" if h.get("claim_days") else "none stated"
    pilot = f"{h['pilot_days']}d" if h.get("pilot_days") else "n/a"
    return f"{claim} / pilot {pilot}"


def claim_lines(results: list[dict], level: float) -> list[str]:
    """The terminal view: one aligned row per claim (verdict, id, horizon, estimate, P), its reading and what settles it.

    Columns: verdict, id, horizon (claim / pilot), estimate in the claim's own
    scale with its interval at ``level``, P(claimed range); under each row the
    claim's text, its reading(s) and what would settle it.
    """
    head = ("verdict", "claim", "horizon", f"estimate [{level:.0%} interval]", "P")
    rows = []
    for c in results:
        r = shown(c)
        p = "n/a" if r.get("probability") is None else f"{r['probability']:.3f}"
        rows.append((c["verdict"], c["id"], horizon(c), estimate(c), p))
    w = [max(len(x[i]) for x in [head, *rows]) for i in range(len(head))]
    out = ["  ".join(h.ljust(w[i]) for i, h in enumerate(head)).rstrip()]
    for c, row in zip(results, rows, strict=True):
        out.append("  ".join(x.ljust(w[i]) for i, x in enumerate(row)).rstrip())
        out.append(f"    text: {c['text']}")
        if len(c.get("readings") or []) > 1:
            for x in c["readings"]:
                pr = "" if x.get("probability") is None else f" (P={x['probability']:.3f})"
                out.append(f"    reading {x['id']}: {x['reading']}{pr}")
            out.append(f"    readings: {c.get('agreement', '')}")
        else:
            out.append(f"    reading: {c.get('reading', '')}")
        if c.get("horizon_note"):
            out.append(f"    horizon: {c['horizon_note']}")
        if c.get("causal_note"):
            d = c.get("descriptive") or {}
            fig = d.get("note") or f"{fmt_q(d, d['mean'])} [{fmt_q(d, d['interval'][0])}, {fmt_q(d, d['interval'][1])}]"
            out.append(f"    descriptive, not causal: {fig}")
        a = c.get("arithmetic") or {}
        if a.get("feasible") is False:
            out.append(f"    arithmetic: {a['note']}")
        if any(x.get("also") for x in c.get("readings") or []) and c.get("beside"):
            out.append("    beside (the pilot's own verdicts): " + ", ".join(f"{m}: {v}" for m, v in c["beside"].items()))
        out.append(f"    to settle: {settle(c)}")
    return out
