"""One potential-outcome world of the pilot simulator: every account's events.

:func:`simulate_world` takes a population (from
:func:`workbench.simulate.pilot.make_population`) and a treatment indicator per
account and returns event arrays (times in days after each account's
``assigned_at``). The pilot calls it once with the randomized arms; the truth
calls it with everyone in control and everyone in treatment.

Account-level outcomes (promise, engagement, keeping, counts, churn, survey
response, satisfaction) are drawn by inverse CDF from the population's shared
uniforms, so they are coupled across worlds. Event details (times, channels,
amounts) come from the world's own generator.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from workbench.contract.config import Windows
from workbench.simulate.presets import SEGMENTS, Base, Effects

CHANNEL_NAMES = ("call", "sms", "email", "letter", "chat", "portal")
CALL, SMS, EMAIL, LETTER, CHAT, PORTAL = range(6)
CONTACT_DAYS = 90.0  # the treatment period: contacts run 90 days from assignment
PAYMENT_DAYS = 120.0  # promise-free payments arrive over 120 days
CSAT_CUTS = np.array([-1.3, -0.3, 0.7, 1.8])  # latent score -> CSAT 1..5


def _seg(attr: str) -> np.ndarray:
    return np.array([getattr(s, attr) for s in SEGMENTS.values()])


def _within(counts: np.ndarray) -> np.ndarray:
    """Position of each expanded row within its account (0, 1, ...)."""
    starts = np.cumsum(counts) - counts
    return np.arange(counts.sum()) - np.repeat(starts, counts)


def poisson_inv(u: np.ndarray, mu: np.ndarray | float) -> np.ndarray:
    """Poisson(mu) counts by inverse CDF of the uniforms ``u`` (exact, vectorised).

    scipy's ``poisson.ppf`` is exact too but ~20x slower; this walks the CDF
    term by term, keeping only the accounts whose uniform is still above it.
    Monotone in ``u`` and in ``mu``: the coupling the two worlds rely on.
    """
    u = np.asarray(u, dtype=float)
    mu = np.broadcast_to(np.asarray(mu, dtype=float), u.shape)
    k = np.zeros(u.shape, dtype=np.int64)
    p = np.exp(-mu)
    idx = np.flatnonzero(u > p)
    p, c, uu, m = p[idx], p[idx].copy(), u[idx], mu[idx]
    j = 0
    while len(idx):
        j += 1
        p = p * m / j
        c = c + p
        k[idx] = j
        more = (uu > c) & (p > 0)  # p underflowing to 0 ends the walk (u rounding to 1)
        idx, p, c, uu, m = idx[more], p[more], c[more], uu[more], m[more]
    return k


def _expand(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts)), counts)


def simulate_world(pop: dict, treat: np.ndarray, eff: Effects, windows: Windows, rng: np.random.Generator) -> dict:
    """Simulate every account's events under the given arms.

    Returns a dict of event groups (``contacts``, ``promises``, ``payments``,
    ``complaints``, ``surveys``), each a dict of equal-length arrays with the
    account index ``acc`` and time ``t`` in days after assignment, plus
    ``closed`` (days to leaving the lender, per account).
    """
    b = Base()
    W = float(windows.outcome_days)
    grace = float(windows.grace_days)
    n = len(treat)
    seg, z = pop["seg"], pop["z"]
    t = treat.astype(float)
    resp = _seg("response")[seg] * t  # effect scale: 0 in control
    a = pop["agent_skill"][pop["agent"]]
    dpd_c = (pop["dpd"] - 70) / 40.0

    # Promises and engagement: a promise is made in a conversation, so every
    # promiser is engaged; others engage (reply, call in) with their own chance.
    p_ptp = expit(b.ptp_logit + _seg("ptp")[seg] + 0.9 * z + a - 0.2 * dpd_c + eff.ptp * resp)
    ptp = pop["u_ptp"] < p_ptp
    p_eng = expit(b.engage_logit + _seg("engage")[seg] + 0.6 * z + 0.8 * a - 0.1 * dpd_c + eff.engage * resp)
    engaged = ptp | (pop["u_eng"] < p_eng)
    # One child stream per event group: a group's draws do not shift when another
    # group's size changes with the arm, which keeps the two worlds better aligned.
    rng, rp, ru, rc, rk = rng.spawn(5)
    t_eng = W * rng.beta(1.0, 1.6, n)  # first conversation: early in the window more often

    # --- promises: 1 + Poisson, made one after another (next after the last one's deadline).
    k = np.where(ptp, 1 + np.minimum(poisson_inv(pop["u_k"], b.extra_promises), 3), 0).astype(np.int64)
    pacc, j = _expand(k), _within(k)
    m = len(pacc)
    dur = 1.0 + rp.gamma(2.0, 5.0, m)  # days from promise to due date; ~2% beyond 30 days
    step = dur + grace + 1.0 + rp.exponential(7.0, m)
    cs = np.cumsum(step) - step
    made = t_eng[pacc] + cs - cs[(np.cumsum(k) - k)[pacc]]
    due = made + dur
    bal = pop["balance"][pacc]
    amount = np.maximum(np.round(bal * np.where(j == 0, rp.beta(2.0, 3.0, m), rp.beta(1.5, 5.0, m)), 2), 5.0)
    p_keep = expit(b.keep_logit + _seg("keep")[seg] + 0.7 * z + 0.5 * a + eff.keep * resp)[pacc]
    kept = pop["u_keep"][pacc, j] < p_keep
    # How a promise is paid: kept -> on or a little before the due date (sometimes in the grace
    # days); broken -> nothing (55%), part of it before due (25%) or all of it late (20%).
    how = rp.random(m)
    early = np.minimum(rp.exponential(2.0, m), dur)
    in_grace = rp.random(m) < 0.15
    kept_t = due - early + in_grace * rp.random(m) * grace
    partial = ~kept & (how >= 0.55) & (how < 0.80)
    late = ~kept & (how >= 0.80)
    pay_t = np.where(kept, kept_t, np.where(partial, made + rp.random(m) * dur, due + grace + rp.uniform(0.5, 20.0, m)))
    pay_amt = np.where(partial, np.round(amount * rp.uniform(0.2, 0.8, m), 2), amount)
    has_pay = kept | partial | late

    # --- promise-free payments, more likely from customers able and willing to pay.
    lam = b.unrelated_pay_120d * np.exp(0.8 * z - 0.32 + eff.pay * resp)
    nu = poisson_inv(pop["u_unrel"], lam).astype(np.int64)
    uacc = _expand(nu)
    u_t = ru.random(len(uacc)) * PAYMENT_DAYS
    u_amt = np.maximum(np.round(pop["balance"][uacc] * ru.beta(2.0, 6.0, len(uacc)), 2), 1.0)

    # --- contacts: outbound attempts; the first conversation; further inbound; promise calls.
    mu = b.outbound_90d * np.exp(0.15 * dpd_c + eff.contacts * t)
    no = poisson_inv(pop["u_out"], mu).astype(np.int64)
    oacc = _expand(no)
    o_t = rc.random(len(oacc)) * CONTACT_DAYS
    o_ch = rc.choice(4, size=len(oacc), p=[0.50, 0.25, 0.12, 0.13])  # call, sms, email, letter
    after = engaged[oacc] & (o_t > t_eng[oacc])
    p_after = np.array([0.35, 0.20, 0.10, 0.02])[o_ch]  # reply or answer once in conversation
    o_reached = np.where(after, rc.random(len(oacc)) < p_after, (o_t >= W) & (rc.random(len(oacc)) < 0.04))
    eacc = np.flatnonzero(engaged)
    e_in = rc.random(len(eacc)) < 0.45
    e_ch = np.where(
        e_in,
        rc.choice([CALL, CHAT, PORTAL], len(eacc), p=[0.5, 0.25, 0.25]),
        rc.choice([CALL, SMS, EMAIL], len(eacc), p=[0.7, 0.2, 0.1]),
    )
    ni = np.where(engaged, rc.poisson(b.inbound_after_engage, n), 0)
    iacc = _expand(ni)
    i_t = t_eng[iacc] + rc.random(len(iacc)) * (CONTACT_DAYS - t_eng[iacc])
    i_ch = rc.choice([CALL, CHAT, PORTAL], len(iacc), p=[0.5, 0.25, 0.25])
    later = j > 0  # promises after the first are made in their own conversation
    lacc = pacc[later]
    l_in = rc.random(len(lacc)) < 0.5
    c_acc = np.concatenate([oacc, eacc, iacc, lacc])
    c_t = np.concatenate([o_t, t_eng[eacc], i_t, made[later]])
    c_ch = np.concatenate([o_ch, e_ch, i_ch, np.full(len(lacc), CALL)])
    c_out = np.concatenate([np.ones(len(oacc), bool), ~e_in, np.zeros(len(iacc), bool), ~l_in])
    c_reached = np.concatenate([o_reached, np.ones(len(eacc) + len(iacc) + len(lacc), bool)])
    contacts = _contact_details(pop, t, eff, b, rc, c_acc, c_t, c_ch, c_out, c_reached)

    # --- complaints: rare; pressure (more attempts) and hardship raise them.
    rate = b.complaints_60d * (CONTACT_DAYS / W) * np.exp(0.3 * dpd_c - 0.3 * z - 0.05 + eff.complaints * resp)
    nc = poisson_inv(pop["u_cmp"], rate).astype(np.int64)
    cacc = _expand(nc)
    complaints = {"acc": cacc, "t": rk.random(len(cacc)) * CONTACT_DAYS, "regulator": rk.random(len(cacc)) < b.regulator_share}

    # --- churn: Weibull time to leaving the lender, cumulative hazard to day 180 set by the
    # 180-day share: H(t) = L (t / 180)^k, so T = 180 (E / L)^(1 / k) with E ~ Exp(1) from
    # the shared uniform. P(T <= 180) = 1 - exp(-L) whatever the shape k; k = 1 is the
    # constant hazard L / 180.
    share = eff.churn_180d or b.churn_180d
    L = -np.log1p(-share) * np.exp(_seg("churn")[seg] - 0.3 * z - 0.05 + eff.churn * resp)
    k = np.where(treat, eff.churn_shape_treatment or eff.churn_shape, eff.churn_shape)
    closed = 180.0 * (-np.log1p(-pop["u_churn"]) / L) ** (1.0 / k)

    # --- surveys: engaged customers are invited after their conversation; responders may answer again.
    p_resp = expit(np.where(engaged, b.survey_logit_engaged, b.survey_logit_other) + eff.survey * t)
    ns = np.where(pop["u_resp"] < p_resp, 1 + poisson_inv(pop["u_nsurv"], 0.3), 0).astype(np.int64)
    sacc, sj = _expand(ns), _within(ns)
    first = np.where(engaged, t_eng + rng.uniform(1.0, 10.0, n), rng.random(n) * CONTACT_DAYS)
    gaps = np.where(sj == 0, 0.0, rng.uniform(7.0, 30.0, len(sacc)))
    cg = np.cumsum(gaps)
    s_t = first[sacc] + cg - cg[(np.cumsum(ns) - ns)[sacc]]
    any_kept = np.bincount(pacc[kept], minlength=n) > 0
    latent = (
        _seg("csat")[seg] + 0.4 * z + 0.3 * a + 0.5 * any_kept - 0.4 * (nc > 0) + eff.csat * resp + 0.8 * logit(pop["u_csat"])
    )[sacc] + 0.8 * rng.logistic(size=len(sacc))
    csat = 1 + np.searchsorted(CSAT_CUTS, latent)
    nps = np.clip(np.round(5.2 + 1.6 * latent + rng.normal(0.0, 1.3, len(sacc))), 0, 10).astype(np.int64)
    return {
        "contacts": contacts,
        "promises": {"acc": pacc, "t": made, "due": due, "amount": amount},
        "payments": {
            "acc": np.concatenate([pacc[has_pay], uacc]),
            "t": np.concatenate([pay_t[has_pay], u_t]),
            "amount": np.concatenate([pay_amt[has_pay], u_amt]),
        },
        "complaints": complaints,
        "surveys": {"acc": sacc, "t": s_t, "csat": csat.astype(np.int64), "nps": nps},
        "closed": closed,
    }


def _contact_details(pop, t, eff, b, rng, acc, when, ch, out, reached) -> dict:
    """Agent, handle seconds and QA empathy score of each contact.

    Calls and chats are handled by the account's agent and QA-scored when
    reached; replies to sms/email/letter are read by the agent; unanswered
    automated messages and portal visits have no agent.
    """
    m = len(acc)
    tr = t[acc]
    talk = reached & ((ch == CALL) | (ch == CHAT))
    msg = (ch == SMS) | (ch == EMAIL) | (ch == LETTER)
    median = np.where(ch == CHAT, b.chat_seconds, b.call_seconds) * np.exp(eff.handle * tr)
    handle = np.where(talk, median * np.exp(0.5 * rng.standard_normal(m)), 0.0)
    handle = np.where(reached & msg, 90.0 * np.exp(0.4 * rng.standard_normal(m)), handle)
    handle = np.where(~reached & (ch == CALL), rng.uniform(15.0, 45.0, m), handle)
    score = b.empathy_score + pop["agent_empathy"][pop["agent"][acc]] + eff.empathy * tr + rng.normal(0.0, 10.0, m)
    empathy = np.where(talk, np.round(np.clip(score, 0.0, 100.0), 1), np.nan)
    has_agent = (ch == CALL) | (ch == CHAT) | (reached & msg)
    return {
        "acc": acc,
        "t": when,
        "channel": ch,
        "outbound": out,
        "reached": reached,
        "handle": np.round(handle, 1),
        "empathy": empathy,
        "has_agent": has_agent,
    }
