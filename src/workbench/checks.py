"""Pilot checks beside the metrics: is the experiment trustworthy?

Each check pushes small portable GROUP BYs to the tables' backend and does
the statistics in Python (scipy) on a frame of a few rows. Each returns a
:class:`CheckResult` with ``status`` pass | warn | fail, a one-line summary
and the numbers behind it. A check that lacks its optional data warns and
says what is missing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
from scipy import stats as st

from workbench.contract.config import PilotConfig
from workbench.contract.tables import TABLES
from workbench.metrics.accounts import _ts
from workbench.metrics.engine import open_pilot
from workbench.metrics.stats import sufficient_stats

SRM_ALPHA = 0.001
SMD_WARN, SMD_FAIL = 0.1, 0.25  # common thresholds for standardized mean differences
CONTAMINATION_WARN, CONTAMINATION_FAIL = 0.01, 0.05
REG_F_CALLS, REG_F_DAYS = 7, 7  # Regulation F (12 CFR 1006.14): > 7 calls within 7 days
FRESH_WARN_DAYS, FRESH_FAIL_DAYS = 7, 30


@dataclass
class CheckResult:
    """One check's verdict: ``status`` pass | warn | fail, a summary and its numbers."""

    check: str
    status: str
    summary: str
    numbers: dict[str, Any] = field(default_factory=dict)


def _in_arm_order(d: dict, config: PilotConfig) -> dict:
    """The dict with control first, then the treatments, then anything else sorted.

    Engines return groups in no fixed order; summaries are text in results.json,
    whose bytes must not change between reruns.
    """
    order = {a: i for i, a in enumerate(config.arm_labels)}
    return {k: d[k] for k in sorted(d, key=lambda k: (order.get(k, len(order)), str(k)))}


def _worst(*s: str) -> str:
    return max(s, key=["pass", "warn", "fail"].index)


def _look(status: str, summary: str, where: str) -> str:
    """The summary, and when the check warns or fails, what to look at (``where``)."""
    return summary if status == "pass" else f"{summary}; look at {where}"


def _smd_list(smd: dict[str, dict[str, float]], several: bool) -> str:
    """``balance 0.274 (fail), segment=medical 0.120 (warn), days_past_due 0.031``, largest first, per treatment."""
    parts = []
    for arm, d in smd.items():
        for name, x in sorted(d.items(), key=lambda kv: -abs(kv[1]) if not np.isnan(kv[1]) else 0.0):
            mark = " (fail)" if abs(x) > SMD_FAIL else " (warn)" if abs(x) > SMD_WARN else ""
            parts.append(f"{f'{arm}: ' if several else ''}{name} {x:+.3f}{mark}")
    return ", ".join(parts)


def srm(tables: dict, config: PilotConfig) -> CheckResult:
    """Sample-ratio mismatch: chi-square of units per arm against the configured allocation.

    X^2 = sum_a (O_a - E_a)^2 / E_a, E_a = N * share_a, df = arms - 1; fail when
    p < 0.001. Units are accounts, or distinct agents when randomization is by agent.
    """
    a = tables["accounts"]
    by_agent = config.randomization == "agent"
    if by_agent and "agent_id" not in a.columns:
        return CheckResult("srm", "warn", "randomization by agent but accounts.agent_id is absent: not run")
    agg = a.agent_id.nunique() if by_agent else a.count()
    df = a.group_by("arm").aggregate(units=agg).execute()
    counts = _in_arm_order({str(r.arm): int(r.units) for r in df.itertuples()}, config)
    unknown = sorted(set(counts) - set(config.arm_labels))
    shares = config.allocation_shares()
    obs = np.array([counts.get(arm, 0) for arm in config.arm_labels], dtype=float)
    exp = obs.sum() * np.array([shares[arm] for arm in config.arm_labels])
    chi2, p = st.chisquare(obs, exp) if obs.sum() > 0 else (np.nan, np.nan)
    unit = "agents" if by_agent else "accounts"
    nums = {
        "unit": unit,
        "observed": counts,
        "expected": dict(zip(config.arm_labels, exp.round(2).tolist(), strict=True)),
        "chi2": float(chi2),
        "p_value": float(p),
        "alpha": SRM_ALPHA,
    }
    if unknown:
        return CheckResult(
            "srm", "fail", f"arm labels not in pilot.yml: {', '.join(unknown)}; look at pilot.yml arms and accounts.arm", nums
        )
    # ``not p >= alpha``: a nan p-value (no units, a non-finite share) fails the gate instead of passing it.
    status = "fail" if not p >= SRM_ALPHA else ("warn" if exp.min() < 5 else "pass")
    text = f"{unit} per arm {counts} vs allocation: chi2={chi2:.2f}, p={p:.3g}"
    where = (
        f"how {unit} were assigned and whether some were dropped or added after assignment, and pilot.yml allocation"
        if status == "fail"
        else "the arm sizes: fewer than 5 expected per arm is too few for the test"
    )
    return CheckResult("srm", status, _look(status, text, where), nums)


def balance(tables: dict, config: PilotConfig) -> CheckResult:
    """Covariate balance: standardized mean differences, each treatment vs control.

    SMD = (mean_t - mean_c) / sqrt((var_t + var_c) / 2), for balance,
    days_past_due, prior_paid and each segment's share; warn |SMD| > 0.1, fail > 0.25.
    """
    a = tables["accounts"]
    covs = [c for c in ("balance", "days_past_due", "prior_paid") if c in a.columns]
    aggs: dict[str, Any] = {}
    for c in covs:
        x = a[c].cast("float64")
        aggs |= {f"{c}__n": x.count(), f"{c}__s": x.sum(), f"{c}__ss": (x * x).sum()}
    df = a.group_by("arm").aggregate(**aggs).execute().set_index("arm")
    moments = {}
    for c in covs:
        n, s, ss = (df[f"{c}__{k}"].astype(float) for k in ("n", "s", "ss"))
        moments[c] = (s / n, (ss - s * s / n) / (n - 1))
    if "segment" in a.columns:
        seg = a.group_by(["arm", "segment"]).aggregate(k=a.count()).execute()
        if config.segments is not None:
            # values pilot.yml does not declare are free text from the data (a name, a phone
            # number): they enter the balance check, and every message, grouped as "other"
            seg["segment"] = seg["segment"].where(seg["segment"].isin(config.segments), "other")
        tab = seg.pivot_table(index="arm", columns="segment", values="k", fill_value=0, aggfunc="sum")
        share = tab.div(tab.sum(axis=1), axis=0)
        for s_ in share.columns:
            moments[f"segment={s_}"] = (share[s_], share[s_] * (1 - share[s_]))
    smd: dict[str, dict[str, float]] = {}
    c0 = config.control
    for t in config.treatments:
        for name, (m, v) in moments.items():
            if t in m.index and c0 in m.index:
                pooled = np.sqrt((v[t] + v[c0]) / 2)
                d = float(m[t] - m[c0])
                # No spread in either arm: any difference is total separation.
                smd.setdefault(t, {})[name] = d / pooled if pooled > 0 else (0.0 if d == 0 else float(np.sign(d) * np.inf))
    worst = max((abs(x) for d in smd.values() for x in d.values() if not np.isnan(x)), default=0.0)
    status = "fail" if worst > SMD_FAIL else "warn" if worst > SMD_WARN else "pass"
    means = {name: {str(k): float(x) for k, x in m.items()} for name, (m, _) in moments.items()}
    bad = sorted({n for d in smd.values() for n, x in d.items() if abs(x) > (SMD_FAIL if status == "fail" else SMD_WARN)})
    text = f"largest |SMD| = {worst:.3f} over {len(moments)} covariates (warn > {SMD_WARN}, fail > {SMD_FAIL})"
    if smd:
        text += ": " + _smd_list(smd, len(smd) > 1)
    where = (
        f"{', '.join(bad)} by arm (accounts.{bad[0].split('=')[0]}): was it recorded at assignment, "
        "and were accounts assigned at random?"
        if bad
        else "the covariates by arm"
    )
    return CheckResult(
        "balance",
        status,
        _look(status, text, where),
        {"smd": smd, "means": means, "warn": SMD_WARN, "fail": SMD_FAIL, "failing": bad},
    )


def _home_arms(tables: dict):
    """Each agent's home arm: the arm of most of the accounts it owns (ties: lowest label)."""
    a = tables["accounts"]
    owned = a.filter(a.agent_id.notnull())
    k = owned.group_by(["agent_id", "arm"]).aggregate(k=owned.count())
    rank = ibis.row_number().over(ibis.window(group_by="agent_id", order_by=[ibis.desc("k"), "arm"]))
    k = k.mutate(r=rank)
    return k.filter(k.r == 0).select(agent="agent_id", home="arm")


def contamination(tables: dict, config: PilotConfig) -> CheckResult:
    """Accounts exposed to the other arm's agents.

    owned: accounts whose owning agent's home arm differs from theirs;
    contacted: accounts contacted (contacts.agent_id) by an agent whose home
    arm differs. Judged (warn > 1%, fail > 5% of accounts) when randomization
    is by agent; under account randomization agents serve both arms by design,
    so the numbers are shown for information.
    """
    a = tables["accounts"]
    if "agent_id" not in a.columns:
        return CheckResult("contamination", "warn", "accounts.agent_id absent: not run; look at accounts.agent_id")
    home = _home_arms(tables)
    j = a.left_join(home, a.agent_id == home.agent)
    owned = j.group_by("arm").aggregate(accounts=j.count(), owned=(j.home.notnull() & (j.home != j.arm)).sum())
    df = owned.execute().set_index("arm")
    df["contacted"] = 0
    ct = tables.get("contacts")
    if ct is not None and "agent_id" in ct.columns:
        who = a.select(acc="account_id", acc_arm="arm")
        c = ct.inner_join(who, ct.account_id == who.acc)
        c = c.inner_join(home, c.agent_id == home.agent)
        hit = c.filter(c.home != c.acc_arm).group_by("acc_arm").aggregate(contacted=c.account_id.nunique()).execute()
        for r in hit.itertuples():
            df.loc[r.acc_arm, "contacted"] = int(r.contacted)
    share = float(df[["owned", "contacted"]].max(axis=1).sum() / max(df.accounts.sum(), 1))
    nums = {arm: {k: int(v) for k, v in r.items()} for arm, r in df.iterrows()} | {"share": share}
    if config.randomization != "agent":
        return CheckResult(
            "contamination",
            "pass",
            f"account randomization: {share:.1%} of accounts met an agent "
            "whose accounts are mostly in another arm (for information)",
            nums,
        )
    status = "fail" if share > CONTAMINATION_FAIL else "warn" if share > CONTAMINATION_WARN else "pass"
    text = f"{share:.1%} of accounts handled or contacted by the other arm's agents"
    where = "accounts.agent_id and contacts.agent_id: agents who work accounts of both arms (numbers: owned, contacted per arm)"
    return CheckResult("contamination", status, _look(status, text, where), nums)


def survey_response(tables: dict, config: PilotConfig) -> CheckResult:
    """Survey non-response by arm: response rate among eligible accounts, chi-square test.

    A difference means CSAT compares different kinds of responders; warn p < 0.05, fail p < 0.001.
    """
    if "surveys" not in tables:
        return CheckResult("survey_response", "warn", "surveys absent: not run; look at the surveys table")
    s = sufficient_stats(tables, config, metrics=["csat"], covariate=None).set_index("arm")
    tab = np.array([[s.loc[a, "n"], s.loc[a, "accounts"] - s.loc[a, "n"]] for a in s.index], dtype=float)
    rates = _in_arm_order({str(a): float(s.loc[a, "response_rate"]) for a in s.index}, config)
    ok = tab.sum(axis=0).min() > 0
    p = float(st.chi2_contingency(tab)[1]) if ok else 1.0
    status = "fail" if p < 0.001 else "warn" if p < 0.05 else "pass"
    spread = max(rates.values()) - min(rates.values()) if rates else 0.0
    text = f"response rates { ({k: round(v, 3) for k, v in rates.items()}) }, spread {spread:.3f}, p={p:.3g}"
    where = "how surveys were sent in each arm: csat and nps compare different kinds of responders"
    return CheckResult(
        "survey_response", status, _look(status, text, where), {"response_rate": rates, "p_value": p, "spread": spread}
    )


def manipulation(tables: dict, config: PilotConfig) -> CheckResult:
    """Manipulation check: mean empathy_score by arm; did the empathy arm get empathy?

    Welch t-test of each treatment against control from (n, sum, sum of squares);
    pass when treatment > control with one-sided p < 0.05, warn when not
    significant, fail when treatment <= control.
    """
    ct = tables.get("contacts")
    if ct is None or "empathy_score" not in ct.columns:
        return CheckResult(
            "manipulation", "warn", "contacts.empathy_score absent: not run; look at the QA scores (contacts.empathy_score)"
        )
    a = tables["accounts"].select(acc="account_id", arm="arm")
    j = ct.filter(ct.empathy_score.notnull()).inner_join(a, ct.account_id == a.acc)
    x = j.empathy_score.cast("float64")
    df = j.group_by("arm").aggregate(n=j.count(), s=x.sum(), ss=(x * x).sum()).execute().set_index("arm")
    df["mean"] = df.s / df.n
    df["var"] = (df.ss - df.s**2 / df.n) / (df.n - 1)
    c0, status = config.control, "pass"
    nums = {"mean": _in_arm_order({str(k): float(v) for k, v in df["mean"].items()}, config)}
    for t in config.treatments:
        if t not in df.index or c0 not in df.index:
            arm = t if t not in df.index else c0
            return CheckResult(
                "manipulation", "warn", f"no scored contacts in arm {arm}; look at contacts.empathy_score in arm {arm}", nums
            )
        d = df.loc[t, "mean"] - df.loc[c0, "mean"]
        se = np.sqrt(df.loc[t, "var"] / df.loc[t, "n"] + df.loc[c0, "var"] / df.loc[c0, "n"])
        p = float(st.norm.sf(d / se)) if se > 0 else float(d <= 0)
        nums[t] = {"difference": float(d), "p_value": p}
        status = _worst(status, "fail" if d <= 0 else "warn" if p >= 0.05 else "pass")
    text = f"empathy_score by arm { ({k: round(v, 1) for k, v in nums['mean'].items()}) }"
    where = "contacts.empathy_score by arm and agent: was empathy delivered in the treatment arm?"
    return CheckResult("manipulation", status, _look(status, text, where), nums)


def contact_frequency(tables: dict, config: PilotConfig) -> CheckResult:
    """Regulation F: accounts with more than 7 call attempts within 7 days, by arm.

    With outbound calls ordered by time, account i breaks the presumption when
    some call k has at_k - at_(k-7) < 7 days (8 calls in under 7 days): one LAG.
    Fail when any account does.
    """
    ct = tables.get("contacts")
    if ct is None:
        return CheckResult("contact_frequency", "warn", "contacts absent: not run; look at the contacts table")
    a = tables["accounts"]
    calls = ct.filter((ct.channel == "call") & (ct.direction == "outbound"))
    who = a.select(acc="account_id", arm="arm", assigned_at="assigned_at")
    calls = calls.inner_join(who, calls.account_id == who.acc)
    calls = calls.filter(calls.at >= calls.assigned_at)
    back = calls.at.lag(REG_F_CALLS).over(ibis.window(group_by="account_id", order_by=["at", "contact_id"]))
    calls = calls.mutate(hit=ibis.ifelse(back.notnull() & (calls.at < back + ibis.interval(days=REG_F_DAYS)), 1, 0))
    per = calls.group_by(["arm", "account_id"]).aggregate(hit=calls.hit.max())
    df = per.group_by("arm").aggregate(over=per.hit.sum(), called=per.count()).execute()
    total = a.group_by("arm").aggregate(accounts=a.count()).execute().set_index("arm")
    nums = {
        str(r.arm): {
            "accounts_over": int(r.over),
            "accounts_called": int(r.called),
            "share": float(r.over / total.loc[r.arm, "accounts"]) if r.arm in total.index else np.nan,
        }
        for r in df.itertuples()
    }
    over = sum(v["accounts_over"] for v in nums.values())
    status = "fail" if over else "pass"
    text = f"{over} account(s) with more than {REG_F_CALLS} calls in {REG_F_DAYS} days"
    arms = ", ".join(f"{a} {v['accounts_over']}" for a, v in _in_arm_order(nums, config).items() if v["accounts_over"])
    where = f"outbound calls per account in any 7 days (Regulation F), by arm: {arms}"
    return CheckResult("contact_frequency", status, _look(status, text, where), nums)


def freshness(tables: dict, config: PilotConfig) -> CheckResult:
    """Data freshness: the last event of every table against observed_until.

    Warn when the last event is more than 7 days before observed_until (the
    data may stop early) or when events lie after it (they are ignored);
    fail beyond 30 days.
    """

    obs = _ts(config.observed_until)
    last, after = {}, {}
    for name, t in tables.items():
        col = TABLES[name].time or ("assigned_at" if name == "accounts" else None)
        if col is None or col not in t.columns:
            continue
        r = t.aggregate(last=t[col].max(), after=(t[col] > obs).sum()).execute().iloc[0]
        last[name] = None if pd.isna(r["last"]) else pd.Timestamp(r["last"]).isoformat()
        after[name] = int(0 if pd.isna(r["after"]) else r["after"])
    stamps = [pd.Timestamp(v) for v in last.values() if v]
    cut = pd.Timestamp(config.observed_until).tz_localize(None)
    gap = (cut - max(stamps)).total_seconds() / 86400 if stamps else np.inf
    status = "fail" if gap > FRESH_FAIL_DAYS else "warn" if gap > FRESH_WARN_DAYS or sum(after.values()) else "pass"
    text = f"last event {gap:.1f} days before observed_until; {sum(after.values())} event(s) after it (ignored)"
    latest = ", ".join(f"{n} {v[:10]}" for n, v in last.items() if v)
    where = f"observed_until in pilot.yml against the last event per table ({latest})"
    return CheckResult(
        "freshness", status, _look(status, text, where), {"last_event": last, "events_after": after, "gap_days": float(gap)}
    )


CHECKS = {f.__name__: f for f in (srm, balance, contamination, survey_response, manipulation, contact_frequency, freshness)}


def run_checks(tables: dict, config: PilotConfig) -> list[CheckResult]:
    """Every check, in the order of :data:`CHECKS`."""
    return [f(tables, config) for f in CHECKS.values()]


def check_pilot(pilot: str | Path | PilotConfig, backend: str = "duckdb") -> list[CheckResult]:
    """Open a pilot (:func:`workbench.metrics.engine.open_pilot`) and run every check."""

    p = open_pilot(pilot, backend)
    return run_checks(p.tables, p.config)


def checks_frame(results: list[CheckResult]) -> pd.DataFrame:
    """Results as a frame: check, status, summary, numbers (a dict)."""
    return pd.DataFrame([asdict(r) for r in results], columns=["check", "status", "summary", "numbers"])
