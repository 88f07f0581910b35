"""The terminal view of a results document: an aligned verdict table, then the banner.

Every cell comes from :func:`workbench.report.outcomes.outcome_view`, like the
executive page's scorecard: the same state in the same words, the numbers in
the metric's unit. Colour is not used at all (a terminal may not show it):
the state is written out and marked with its glyph.
"""

from __future__ import annotations

from workbench.report.outcomes import banner, outcome_views


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt(r: list[str]) -> str:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        return "  ".join(cells).rstrip()

    return [fmt(header), "  ".join("-" * w for w in widths), *map(fmt, rows)]


def _state(v, dec: dict) -> str:
    """The state in words with what settles or explains it (the size, the check, the FDR q-value)."""
    text = v.cell
    if v.blocked_by:
        return f"{text} ({v.reason})"
    settle = (dec.get("to_settle") or {}).get("accounts_per_arm")
    if v.state in ("not enough data", "no clear change") and settle:
        text += f" (~{settle:,} per arm to settle)"
    if dec.get("q_value") is not None:
        text += f" (q={dec['q_value']:.3f}, FDR)"
    return text


def verdict_lines(doc: dict) -> list[str]:
    """The verdict table (one row per outcome and arm, primary first), then the banner's lines.

    The state printed is the outcome view's: better / worse / harm only when the
    interval on the same row excludes no change (effects.decision), "blocked by a
    check" with the check named when a gate stops the effect from being read.
    """
    several = len(doc["treatments"]) > 1
    header = [
        "outcome",
        *(["arm"] if several else []),
        "role",
        "control",
        "treatment",
        "difference",
        f"{doc['level']:.0%} interval",
        "state",
    ]
    rows = []
    for v in outcome_views(doc):
        m = doc["metrics"][v.metric]
        dec = (m.get("comparisons") or {}).get(v.arm, m).get("decision") or {}
        rows.append(
            [v.label, *([v.arm] if several else []), v.role, v.control, v.treatment, v.difference, v.interval, _state(v, dec)]
        )
    first = 3 if several else 2
    lines = _table(header, rows, right={first, first + 1})
    b = banner(doc)
    lines += ["", f"Verdict: {b.title}"]
    lines += [f"  {line}" for line in b.lines]
    lines += [f"  data problem: {p}" for p in b.problems]
    for arm, r in b.rollout.items():
        lines.append(f"  rollout ({arm}): {r}" if several else f"  rollout: {r}")
    return lines
