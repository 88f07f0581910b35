"""The terminal view of a results document: one plain line per metric and arm, then the headline."""

from __future__ import annotations


def _verdict_word(m: dict) -> str:
    dec = m["decision"]
    v = dec["verdict"] + ("" if m["diagnostics"]["ok"] else " (unreliable fit)")
    settle = (dec.get("to_settle") or {}).get("accounts_per_arm")
    if dec["verdict"] == "not enough data" and settle:
        v += f" (~{settle:,} per arm to settle)"
    if dec["verdict"] == "inconclusive" and "check failed" in dec.get("reason", ""):
        v += f" ({dec['reason']})"
    if dec.get("q_value") is not None:
        v += f" (q={dec['q_value']:.3f}, FDR)"
    return v


def _num(x, spec: str) -> str:
    return "n/a".rjust(9) if x is None else format(x, spec)


def _line(name: str, m: dict) -> str | None:
    d = m["effect"]["difference"]
    if d["mean"] is None:
        return None
    lo, hi = d["interval"]
    return (
        f"{name:18} {_num(m['control']['mean'], '9.4g')} {_num(m['treatment']['mean'], '9.4g')}  {d['mean']:+9.4g}"
        f" [{lo:+.4g}, {hi:+.4g}]"
        f"  {m['prob_better']:8.3f}  {m['role']}: {_verdict_word(m)}"
    )


def verdict_lines(doc: dict) -> list[str]:
    """One plain line per metric (per arm with several), the difference with its interval, P(better) and verdict.

    The verdict printed is the decision object's state: better / worse / harm only
    when the interval on the same line excludes no change (effects.decision).
    """
    lines = [f"{'metric':18} {'control':>9} {'treatment':>9}  difference [{doc['level']:.0%} interval]      P(better)  verdict"]
    arms = doc.get("treatments") or []
    for name, m in doc["metrics"].items():
        comps = m.get("comparisons")
        if comps and len(arms) > 1:
            for arm, c in comps.items():
                line = _line(f"{name}:{arm}", c)
                if line:
                    lines.append(line)
        else:
            line = _line(name, m)
            if line:
                lines.append(line)
    dec = doc["decision"]
    lines.append(
        f"headline ({dec['primary_metric']}): {dec['verdict']}; guardrails: "
        + ", ".join(f"{k} {v}" for k, v in sorted(dec["guardrails"].items()))
    )
    for arm, a in (dec.get("arms") or {}).items():
        if len(dec.get("arms") or {}) > 1:
            lines.append(
                f"  {arm}: {a['verdict']}; rollout {a['rollout']}; guardrails: "
                + ", ".join(f"{k} {v}" for k, v in sorted(a["guardrails"].items()))
            )
    return lines
