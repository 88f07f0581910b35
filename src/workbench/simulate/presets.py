"""Base rates, segments and planted effects of the pilot simulator.

Everything the data-generating process of :mod:`workbench.simulate.pilot` depends
on lives here, as data, so that ``docs/simulator.md`` can quote it and a test
can check that the ``null`` preset really plants nothing. Where each number
comes from (an industry figure or an explicit assumption) is written in
``docs/simulator.md``.

Effects are applied to the treatment arm only. Logit shifts and log rate
ratios are multiplied by the segment's ``response`` (how strongly customers in
that situation respond to empathy), so the marginal effect is an average over
segments; :func:`workbench.simulate.pilot.compute_truth` turns the parameters into
the marginal intention-to-treat effect on each catalogue metric.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Segment:
    """A customer situation known before assignment.

    Attributes
    ----------
    share : share of accounts in the segment.
    response : multiplier of every planted effect (1 = average response).
    ptp, engage, keep : logit shifts of the base rates (control arm too).
    churn : log hazard-ratio shift of leaving the lender.
    balance : log shift of the balance at assignment.
    csat : shift of the latent satisfaction score.
    """

    share: float
    response: float
    ptp: float = 0.0
    engage: float = 0.0
    keep: float = 0.0
    churn: float = 0.0
    balance: float = 0.0
    csat: float = 0.0


# Customers in hardship (job loss, illness, single parents) respond most to an
# empathetic, flexible conversation; stable payers barely respond: they pay
# anyway. These are assumptions chosen to make segment analysis interesting.
SEGMENTS: dict[str, Segment] = {
    "job_loss": Segment(0.14, 1.6, ptp=-0.3, engage=-0.1, keep=-0.4, churn=0.3, balance=0.2, csat=-0.3),
    "medical": Segment(0.10, 1.5, ptp=-0.2, engage=0.0, keep=-0.3, churn=0.2, balance=0.4, csat=-0.2),
    "single_parent": Segment(0.10, 1.3, ptp=-0.1, engage=-0.2, keep=-0.2, churn=0.1, balance=-0.1, csat=-0.1),
    "young_professional": Segment(0.20, 0.6, ptp=0.1, engage=0.3, keep=0.1, churn=0.2, balance=0.0, csat=0.0),
    "retiree": Segment(0.11, 1.0, ptp=0.2, engage=-0.3, keep=0.4, churn=-0.4, balance=-0.5, csat=0.3),
    "stable": Segment(0.25, 0.4, ptp=0.3, engage=0.1, keep=0.5, churn=-0.3, balance=-0.2, csat=0.2),
    "other": Segment(0.10, 0.9),
}


@dataclass(frozen=True)
class Base:
    """Control-arm base rates (the pressure arm), before segment and covariate shifts.

    Days are counted from ``assigned_at``; rates refer to the 60-day outcome
    window unless said otherwise.
    """

    ptp_logit: float = -2.85  # about 8% of accounts promise in 60 days
    engage_logit: float = -3.1  # about 6% of non-promisers engage otherwise
    keep_logit: float = 0.0  # about 60% of promises kept (with unrelated payments)
    extra_promises: float = 0.5  # promises per promiser = 1 + Poisson(this), capped at 4
    outbound_90d: float = 9.0  # outbound attempts in the 90-day treatment period
    inbound_after_engage: float = 0.6  # further inbound contacts of an engaged customer
    complaints_60d: float = 0.004  # complaints per account in 60 days (4 per 1,000)
    regulator_share: float = 0.2  # complaints that go to the regulator
    churn_180d: float = 0.45  # share leaving the lender within 180 days
    unrelated_pay_120d: float = 0.35  # payments without a promise in 120 days, per account
    survey_logit_engaged: float = -1.6  # about 17% of engaged customers answer a survey
    survey_logit_other: float = -4.0  # about 2% of the others (e-mail survey)
    empathy_score: float = 45.0  # mean QA empathy score, 0-100
    call_seconds: float = 240.0  # median handle time of a reached call
    chat_seconds: float = 420.0  # median handle time of a chat
    agent_sd: float = 0.35  # sd of agent skill on the logit scale (clustering)


@dataclass(frozen=True)
class Effects:
    """Planted effects on the treatment (empathy) arm; all zero/one = no effect.

    Attributes
    ----------
    ptp, engage, keep, survey : logit shifts (times the segment response;
        ``survey`` is not scaled).
    csat : shift of the latent satisfaction score (logistic scale).
    complaints, churn, pay : log rate (hazard) ratios, times the segment response.
    contacts : log ratio of outbound attempts (fewer, better-targeted contacts).
    handle : log ratio of handle time of conversations (empathy calls are longer).
    empathy : points added to the QA empathy score (the manipulation check).
    churn_shape : Weibull shape of the time to leaving the lender, both arms
        (1 = constant hazard; below 1 falling: churn comes early; above 1 rising).
        A property of the world rather than an effect; it lives here so a
        preset names its whole data-generating process.
    churn_shape_treatment : the treatment arm's own shape (0 = ``churn_shape``):
        with the same 180-day share, a larger shape only delays churn.
    churn_180d : share leaving within 180 days in both arms (0 = ``Base.churn_180d``).
    """

    ptp: float = 0.0
    engage: float = 0.0
    keep: float = 0.0
    survey: float = 0.0
    csat: float = 0.0
    complaints: float = 0.0
    churn: float = 0.0
    pay: float = 0.0
    contacts: float = 0.0
    handle: float = 0.0
    empathy: float = 0.0
    churn_shape: float = 1.0
    churn_shape_treatment: float = 0.0
    churn_180d: float = 0.0


_REALISTIC: dict[str, float] = {
    "ptp": 0.15,
    "engage": 0.35,
    "keep": 0.2,
    "survey": 0.3,
    "csat": 0.6,
    "complaints": -0.3,
    "churn": -0.08,
    "pay": 0.06,
    "contacts": -0.15,
    "handle": 0.18,
    "empathy": 22.0,
}

PRESETS: dict[str, Effects] = {
    # A/A: the treatment arm's data-generating process is the control's.
    "null": Effects(),
    # Moderate, plausible effects (assumptions; see docs/simulator.md).
    "realistic": Effects(**_REALISTIC),
    # As large as vendors claim: engagement 3-5x (Symend), +35% recovery and
    # +60% retention (The Office Gurus), +6% PTPs (Foundever), fewer complaints
    # and more kept promises (Fusion CX).
    "vendor-claims": Effects(
        ptp=0.08,
        engage=3.2,
        keep=0.7,
        survey=0.6,
        csat=1.5,
        complaints=-0.9,
        churn=-2.0,
        pay=0.36,
        contacts=-0.3,
        handle=0.25,
        empathy=35.0,
    ),
}


# Non-constant hazards: the realistic effects with churn that falls over time (most
# customers who leave do so early; Weibull shape 0.6) or rises (shape 1.8).
PRESETS["falling-hazard"] = Effects(**_REALISTIC, churn_shape=0.6)
PRESETS["rising-hazard"] = Effects(**_REALISTIC, churn_shape=1.8)
# Delayed churn: both arms keep about 80% at 180 days (each account's chance of leaving
# by day 180 is the same in both worlds), but churn comes early under pressure (shape
# 0.6) and late under empathy (shape 3): a pilot observed for less than 180 days sees a
# retention gain that is not there at 180 days. Nothing else is planted.
PRESETS["delayed-churn"] = Effects(churn_shape=0.6, churn_shape_treatment=3.0, churn_180d=0.2)


def preset_effects(preset: str) -> Effects:
    """The planted effects of a preset; a clear error for an unknown name."""
    try:
        return PRESETS[preset]
    except KeyError:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}") from None


def describe(preset: str) -> dict:
    """Parameters of a preset as plain data (written into truth.json)."""
    return {
        "base": asdict(Base()),
        "effects": asdict(preset_effects(preset)),
        "segments": {name: asdict(s) for name, s in SEGMENTS.items()},
    }
