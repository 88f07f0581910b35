"""The terminal view of a results document: one plain line per metric."""

from __future__ import annotations


def verdict_lines(doc: dict) -> list[str]:
    """One plain line per metric: arms, difference with interval, P(better), role and verdict."""
    lines = [f"{'metric':18} {'control':>9} {'treatment':>9}  difference [{doc['level']:.0%} interval]      P(better)  verdict"]
    for name, m in doc["metrics"].items():
        d = m["effect"]["difference"]
        if d["mean"] is None:
            continue
        lo, hi = d["interval"]
        v = m["decision"]["verdict"] + ("" if m["diagnostics"]["ok"] else " (unreliable fit)")
        lines.append(
            f"{name:18} {m['control']['mean']:9.4g} {m['treatment']['mean']:9.4g}  {d['mean']:+9.4g} [{lo:+.4g}, {hi:+.4g}]"
            f"  {m['prob_better']:8.3f}  {m['role']}: {v}"
        )
    dec = doc["decision"]
    lines.append(
        f"headline ({dec['primary_metric']}): {dec['verdict']}; guardrails: "
        + ", ".join(f"{k} {v}" for k, v in sorted(dec["guardrails"].items()))
    )
    return lines
