"""One story in every view: sentence, figure marker, table cells, banner and badge agree for every outcome.

Pilots in every state are built from hand-made statistics through the engine
(``analyze_stats``) plus the gates a results document records (a failed check,
failed diagnostics), then every view is rendered and read back.
"""

from __future__ import annotations

import re

import matplotlib
import pandas as pd
import pytest
from matplotlib.colors import to_rgba

from workbench.effects.analyze import Design, Settings, analyze_stats
from workbench.effects.gates import settle_rollouts
from workbench.report import terminal, views
from workbench.report.outcomes import STATES, TONES, outcome_view, outcome_views

matplotlib.use("Agg")

G = {"complaints": {"margin": 0.001, "threshold": 0.05}}


def _binary(arm, n, s, metric="kept_ptp"):
    return {
        "metric": metric,
        "family": "binary",
        "arm": arm,
        "n": n,
        "successes": s,
        "sum": s,
        "accounts": n,
        "excluded": 0,
        "mean": s / n,
    }


def _count(arm, n, y, metric="complaints"):
    return {
        "metric": metric,
        "family": "count",
        "arm": arm,
        "n": n,
        "sum": y,
        "sum_sq": y,
        "accounts": n,
        "excluded": 0,
        "mean": y / n,
    }


def _score(arm, n, m, sd, metric="csat"):
    return {
        "metric": metric,
        "family": "continuous",
        "arm": arm,
        "n": n,
        "sum": m * n,
        "sum_sq": (n - 1) * sd * sd + n * m * m,
        "accounts": n,
        "excluded": 0,
        "mean": m,
    }


def _doc(rows, treatments=("empathy",), **dq):
    doc = analyze_stats(pd.DataFrame(rows), Design("pressure", list(treatments), primary="kept_ptp", guardrails=G), Settings())
    failed = dq.get("failed", [])
    doc["checks"] = {c: {"status": "fail", "summary": "failed"} for c in failed}
    doc["data_quality"] = {"ok": not dq.get("gating"), "failed": failed, "gating": dq.get("gating", [])}
    if dq.get("gating"):  # as effects.gates.apply_checks does
        doc["decision"]["verdict"] = "inconclusive"
        doc["decision"]["reason"] = f"data quality check(s) failed: {', '.join(dq['gating'])}"
    settle_rollouts(doc)  # as apply_checks does once the checks are in
    return doc


def _pilots() -> dict[str, dict]:
    big = 2_000_000
    aa = [
        _binary("pressure", 5000, 400),
        _binary("empathy", 5000, 402),
        _count("pressure", big, 10_000),
        _count("empathy", big, 10_000),
    ]
    win = [
        _binary("pressure", 5000, 400),
        _binary("empathy", 5000, 560),
        _count("pressure", big, 10_000),
        _count("empathy", big, 10_000),
    ]
    harm = [
        _binary("pressure", 5000, 400),
        _binary("empathy", 5000, 560),
        _count("pressure", 5000, 25),
        _count("empathy", 5000, 200),
    ]
    thin = [_binary("pressure", 300, 24), _binary("empathy", 300, 27), _count("pressure", 300, 2), _count("empathy", 300, 3)]
    three = [
        _binary("pressure", 5000, 400),
        _binary("empathy", 5000, 560),
        _binary("hybrid", 5000, 300),
        _count("pressure", 5000, 25),
        _count("empathy", 5000, 200),
        _count("hybrid", 5000, 25),
    ]
    survey = [*win, _score("pressure", 2000, 3.4, 1.1), _score("empathy", 2000, 3.9, 1.1)]
    unreliable = _doc(win)
    unreliable["metrics"]["complaints"]["diagnostics"]["ok"] = False
    settle_rollouts(unreliable)  # diagnostics are in before the decision in a real analysis
    return {
        "A/A": _doc(aa),
        "planted win": _doc(win),
        "failed gating check": _doc(win, failed=["srm"], gating=["srm"]),
        "failed survey check": _doc(survey, failed=["survey_response"]),
        "failed diagnostics": unreliable,
        "guardrail harm": _doc(harm),
        "not enough data": _doc(thin),
        "three arms": _doc(three, treatments=("empathy", "hybrid")),
    }


PILOTS = _pilots()


@pytest.mark.parametrize("name", list(PILOTS))
def test_every_view_tells_the_same_story(name):
    doc = PILOTS[name]
    vs = outcome_views(doc)
    several = len(doc["treatments"]) > 1
    assert vs[0].metric == "kept_ptp", "the primary comes first"
    terminal_text = "\n".join(terminal.verdict_lines(doc))
    score = views.scorecard_frame(doc)
    page = views.scorecard_html(doc)
    fig = views.effects_figure(doc)
    drawn = {c.get_gid(): c for c in fig.axes[0].collections if c.get_gid()}
    effects = views.effects_frame(doc)
    guards = views.guardrails_frame(doc, every_arm=True)
    badges = views.badges_html(doc)
    for i, v in enumerate(vs):
        assert v.state in STATES and v.tone == TONES[STATES[v.state]]
        # sentence: the state first, never a number when blocked
        sentence = views.verdict_sentence(doc, v.metric, arm=v.arm)
        assert sentence.startswith(f"{v.label}: {v.state}"), sentence
        if v.blocked_by:
            assert "no effect is reported" in sentence and "%" not in sentence and v.blocked_by in sentence
        # figure: the point drawn carries the state, the colour and the marker of the view
        gid = f"{v.metric}:{v.arm}:{v.state}"
        if v.lift is not None or v.blocked_by:
            art = drawn.pop(gid)
            assert tuple(art.get_facecolor()[0]) == pytest.approx(to_rgba(v.colour))
        # tables: scorecard, effects frame, terminal, guardrail table, HTML scorecard
        assert score.iloc[i]["State"] == v.cell
        assert effects.iloc[i]["verdict"] == v.state and effects.iloc[i]["marker"] == v.marker
        row = [line for line in terminal_text.splitlines() if line.startswith(v.label) and (not several or f" {v.arm} " in line)]
        assert len(row) == 1 and v.cell in row[0], (row, v.cell)
        tr = re.search(rf'<tr data-metric="{v.metric}" data-arm="{v.arm}" data-state="([^"]+)">(.*?)</tr>', page, re.S)
        assert tr and tr.group(1) == v.state and v.cell in tr.group(2)
        if v.role == "guardrail":
            g = guards[(guards["guardrail"] == v.label) & ((guards["arm"] == v.arm) if several else True)]
            assert list(g["result"]) == [v.state.upper()]
        # badge: a blocking check is named, and data quality is never OK beside a blocked outcome
        if v.blocked_by and v.blocked_by != "model diagnostics":
            assert "Data quality: CHECK FAILED" in badges and v.blocked_by in badges
        if v.blocked_by == "model diagnostics":
            assert "Model diagnostics: FAILED" in badges
    assert not drawn, f"figure draws outcomes with no view: {drawn}"
    if not doc["data_quality"]["failed"]:
        assert "Data quality: OK" in badges
    # banner: the primary's state for each arm, in the same words as its row
    b = views.banner(doc)
    for v in vs:
        if v.metric == "kept_ptp":
            assert (f"{v.arm}: {v.state}" if several else f"(primary): {v.state}") in b.title
    assert b.title in page and b.title in terminal_text


def test_the_states_are_the_expected_ones():
    got = {name: {(v.metric, v.arm): v.state for v in outcome_views(doc)} for name, doc in PILOTS.items()}
    assert got["planted win"][("kept_ptp", "empathy")] == "better"
    assert got["planted win"][("complaints", "empathy")] == "no harm beyond margin"
    assert got["A/A"][("kept_ptp", "empathy")] in ("no clear change", "equivalent")
    assert set(got["failed gating check"].values()) == {"blocked by a check"}
    assert got["failed survey check"][("csat", "empathy")] == "blocked by a check"
    assert got["failed survey check"][("kept_ptp", "empathy")] == "better"
    assert got["failed diagnostics"][("complaints", "empathy")] == "blocked by a check"
    assert got["guardrail harm"][("complaints", "empathy")] == "harm"
    assert got["not enough data"][("complaints", "empathy")] == "not enough data"
    assert got["three arms"][("kept_ptp", "hybrid")] == "worse"
    seen = {s for g in got.values() for s in g.values()}
    assert {
        "better",
        "worse",
        "no clear change",
        "harm",
        "no harm beyond margin",
        "not enough data",
        "blocked by a check",
    } <= seen
    harm = views.banner(PILOTS["guardrail harm"])
    assert "but a guardrail shows harm" in harm.title and any("Rollout blocked" in x for x in harm.lines)
    assert views.banner(PILOTS["failed survey check"]).problems == ["survey_response check failed: blocks CSAT"]
    assert "INCONCLUSIVE" in views.headline(PILOTS["failed gating check"])


def test_numbers_in_units_and_no_raw_code_names():
    doc = PILOTS["guardrail harm"]
    v = outcome_view(doc, "complaints")
    assert v.control == "5.0" and v.difference.endswith("per 1,000 accounts")
    page = views.scorecard_html(doc)
    assert "kept_ptp<" not in page and "Kept promise to pay" in page
    assert not re.search(r"\d\.\d{5,}", page), "no raw floats on the page"
    assert not re.search(r"\d\.\d{5,}", "\n".join(terminal.verdict_lines(doc)))
    assert "5,000 / 5,000" in page


def test_html_escapes_what_comes_from_the_data():
    doc = PILOTS["planted win"]
    doc = {**doc, "treatments": ["<b>x</b>"], "metrics": dict(doc["metrics"])}
    page = views.scorecard_html(doc)
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_money_in_the_currency_and_no_contradiction():
    doc = PILOTS["planted win"]
    impact = views.money_impact(doc, 1000, 0.0, 60, currency="EUR")
    assert not any("costs 0.00" in a for a in impact["assumptions"])
    assert any("EUR" in a for a in impact["assumptions"])
    impact = views.money_impact(doc, 1000, 2.5, 60, currency="EUR")
    assert any("2.50 EUR" in a for a in impact["assumptions"])


def test_claims_table_does_not_judge_a_blocked_outcome():
    doc = PILOTS["failed survey check"]
    claims = {
        "claims": [
            {
                "text": "92.5% rate it positively",
                "metric": "csat",
                "scale": "level",
                "mean": 0.4,
                "interval": [0.3, 0.5],
                "verdict": "contradicted",
                "probability": 0.0,
            },
            {
                "text": "more kept promises",
                "metric": "kept_ptp",
                "scale": "difference",
                "mean": 0.032,
                "median": 0.032,
                "interval": [0.021, 0.043],
                "verdict": "supported",
                "probability": 0.99,
            },
        ]
    }
    t = views.claims_table(claims, doc)
    assert list(t["outcome"]) == ["CSAT", "Kept promise to pay"]
    assert t.iloc[0]["verdict"] == "not judged: the survey_response check failed" and t.iloc[0]["this pilot"] == "not reported"
    assert t.iloc[1]["this pilot"] == "+3.2 (+2.1 to +4.3) points" and t.iloc[1]["verdict"] == "supported"


def test_diagnostics_only_where_a_sampler_ran():
    doc = PILOTS["planted win"]
    d = views.diagnostics_frame(doc)
    assert set(d["diagnostics"]) == {"exact posterior (no sampler)"} and set(d["R-hat (max)"]) == {""}
    assert views.plain_number(10000.0) == "10,000" and "e" not in views.plain_number(3.2e-5)


@pytest.mark.parametrize("name", list(PILOTS))
def test_rollout_line_agrees_with_the_guardrail_rows(name):
    """'not blocked' alone only when every guardrail row of that arm rules harm out; 'blocked' only beside harm;
    results.json's ``harm_not_ruled_out`` lists exactly the rows that leave harm open."""
    doc = PILOTS[name]
    b = views.banner(doc)
    for arm, text in b.rollout.items():
        rows = [v for v in b.guardrails if v.arm == arm]
        harmed = [v for v in rows if v.state == "harm"]
        open_ = [v for v in rows if v.state not in ("harm", "no harm beyond margin")]
        # results.json names the same guardrails as the rows and the banner
        assert doc["decision"]["arms"][arm]["harm_not_ruled_out"] == sorted(v.metric for v in open_), arm
        if harmed:
            assert text.startswith("blocked"), (arm, text)
        elif text.startswith("not blocked"):
            assert (text == "not blocked") == (not open_), (arm, text)
            for v in open_:
                assert v.label in text, (arm, text, v.label)
        else:  # the comparison itself in doubt (a failed gating check): no rollout decision
            assert text.startswith("no decision") or not text, (arm, text)
    lines = terminal.verdict_lines(doc)
    for arm, text in b.rollout.items():
        assert any(x.strip().endswith(text) for x in lines if "rollout" in x), (arm, text)


@pytest.mark.parametrize("check", ["srm", "survey_response"])
def test_a_check_that_blocks_a_guardrail_leaves_harm_open_in_results_json(monkeypatch, check):
    """apply_checks writes the decision's list again once the checks are in: a guardrail whose reading
    a failed check blocks is no longer 'no harm', in results.json as in the rows and the banner."""
    import copy

    from workbench.checks import CheckResult
    from workbench.effects import gates

    doc = copy.deepcopy(PILOTS["planted win"])
    # a guardrail the survey check taints
    doc["metrics"]["csat"] = copy.deepcopy(doc["metrics"]["complaints"]) | {"label": "CSAT"}
    gates.settle_rollouts(doc)
    assert doc["decision"]["arms"]["empathy"]["harm_not_ruled_out"] == []
    monkeypatch.setattr(gates, "run_checks", lambda tables, cfg: [CheckResult(check, "fail", "failed")])
    gates.apply_checks(doc, {}, None)
    blocked = ["complaints", "csat"] if check == "srm" else ["csat"]
    assert doc["decision"]["arms"]["empathy"]["harm_not_ruled_out"] == blocked
    b = views.banner(doc)
    rows = [v for v in b.guardrails if v.arm == "empathy" and v.state not in ("harm", "no harm beyond margin")]
    assert sorted(v.metric for v in rows) == blocked
    if check == "survey_response":  # not a gating check: the rollout stands, with what it leaves open
        assert b.rollout["empathy"] == "not blocked (harm not ruled out on CSAT)"


def test_a_results_json_without_the_list_gets_the_same_rollout_line():
    """results.json written before ``harm_not_ruled_out`` existed: the banner finds the same guardrails by the same rule."""
    import copy

    doc = PILOTS["not enough data"]
    old = copy.deepcopy(doc)
    for arm in old["decision"]["arms"].values():
        del arm["harm_not_ruled_out"]
    assert views.banner(old).rollout == views.banner(doc).rollout
    assert "harm not ruled out on Complaints" in views.banner(old).rollout["empathy"]
