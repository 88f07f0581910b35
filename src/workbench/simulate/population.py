"""The simulated population and its tables: accounts, arms, ids, and the contract's tables from a world.

Shared by the pilot writer (:mod:`workbench.simulate.pilot`) and the
potential-outcome truth (:mod:`workbench.simulate.truth`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench.contract.config import PilotConfig, parse_config
from workbench.simulate.presets import SEGMENTS, Base
from workbench.simulate.world import CHANNEL_NAMES

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday: week 1 of intake
ARRIVAL_WEEKS = 10  # accounts enter the pilot week by week over this many weeks
OBSERVED_DAYS = 200  # data cut-off, in days after START
ARMS = {"control": "pressure", "treatment": "empathy"}
_US_PER_DAY = 86_400 * 1_000_000


def make_population(rng: np.random.Generator, n: int, n_agents: int) -> dict[str, np.ndarray]:
    """Draw the accounts' pre-assignment attributes and their shared uniforms.

    The uniforms (``u_*``) drive every account-level outcome by inverse-CDF,
    so the two potential-outcome worlds of :mod:`workbench.simulate.truth`
    share them: the same customer answers the same way unless the arm changes
    the probability (common random numbers keep Monte Carlo error small).
    """
    names = list(SEGMENTS)
    shares = np.array([SEGMENTS[s].share for s in names])
    seg = rng.choice(len(names), size=n, p=shares / shares.sum())
    z = rng.standard_normal(n)  # latent ability/willingness to pay
    seg_bal = np.array([SEGMENTS[s].balance for s in names])
    balance = np.round(np.exp(np.log(1800.0) + seg_bal[seg] + 0.9 * rng.standard_normal(n) + 0.15 * z), 2)
    balance = np.maximum(balance, 50.0)
    dpd = (30 + np.round(rng.gamma(2.0, 20.0, n))).astype(np.int64)
    # prior_paid shares the latent z with every outcome, so it predicts them (CUPED).
    paid_before = rng.random(n) < 1 / (1 + np.exp(-(-0.4 + 1.0 * z)))
    prior = np.where(paid_before, np.round(balance * rng.beta(1.5, 8.0, n) * np.exp(0.3 * z), 2), 0.0)
    assigned = rng.integers(0, ARRIVAL_WEEKS, n) * 7.0 + rng.random(n) * 7.0
    pop = {
        "seg": seg,
        "z": z,
        "balance": balance,
        "dpd": dpd,
        "prior_paid": prior,
        "assigned": assigned,
        "agent": rng.integers(0, n_agents, n),
        "agent_skill": rng.normal(0.0, Base().agent_sd, n_agents),
        "agent_empathy": rng.normal(0.0, 8.0, n_agents),
    }
    for name in ("ptp", "eng", "k", "cmp", "churn", "resp", "nsurv", "out", "unrel", "csat"):
        pop["u_" + name] = rng.random(n)
    pop["u_keep"] = rng.random((n, 4))
    return pop


def assign_arms(rng: np.random.Generator, pop: dict, randomization: str) -> np.ndarray:
    """Treatment indicator per account: complete randomization (exactly half of the
    accounts, a random permutation), or agents split half/half.

    Complete rather than Bernoulli randomization because pilots are run that
    way (a list split in two), and because a Bernoulli draw trips the SRM
    check at alpha 0.001 once in a thousand seeds, which a demo must not do.
    """
    if randomization == "account":
        n = len(pop["z"])
        treat = np.zeros(n, dtype=bool)
        treat[rng.permutation(n)[: n // 2]] = True
        return treat
    if randomization == "agent":
        n_agents = len(pop["agent_skill"])
        agent_treat = np.zeros(n_agents, dtype=bool)
        agent_treat[rng.permutation(n_agents)[: n_agents // 2]] = True
        return agent_treat[pop["agent"]]
    raise ValueError(f"randomization must be account or agent, not {randomization!r}")


def make_ids(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    """Zero-padded string ids (``A0000001``) built as bytes, not Python strings (fast at 10M)."""
    numbers = np.asarray(numbers, dtype=np.int64)
    k, w = len(prefix), len(prefix) + width
    buf = np.empty((len(numbers), w), dtype=np.uint8)
    buf[:, :k] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    x = numbers.copy()
    for pos in range(w - 1, k - 1, -1):
        buf[:, pos] = x % 10 + 48
        x //= 10
    offsets = pa.py_buffer(np.arange(len(numbers) + 1, dtype=np.int32) * w)
    arr = pa.StringArray.from_buffers(len(numbers), offsets, pa.py_buffer(buf))
    return pd.Series(arr, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def _take(ids: pd.Series, idx: np.ndarray, valid: np.ndarray | None = None) -> pd.Series:
    """``ids[idx]`` as a string column; rows where ``valid`` is False become null."""
    arr = pa.array(ids.array).take(pa.array(idx, mask=None if valid is None else ~valid))
    return pd.Series(arr, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def _labels(names, codes: np.ndarray) -> pd.Series:
    """Small-vocabulary string column from integer codes (arrow take: no Python strings)."""
    arr = pa.array(list(names), type=pa.string()).take(pa.array(np.asarray(codes, dtype=np.int64)))
    return pd.Series(arr, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def _ts(days: np.ndarray) -> pd.Series:
    """Days after START -> tz-aware UTC timestamps (microseconds)."""
    base = int(pd.Timestamp(START).value // 1000)
    us = base + np.round(np.asarray(days) * _US_PER_DAY).astype(np.int64)
    return pd.Series(us.astype("datetime64[us]")).dt.tz_localize("UTC")


def _order(days: np.ndarray) -> np.ndarray:
    """Event order: by time (a log as a system would write it); stable, so ties keep generation order."""
    return np.argsort(days, kind="stable")


def build_tables(
    pop: dict, treat: np.ndarray, world: dict, agents: int, observed_days: float = OBSERVED_DAYS
) -> dict[str, pd.DataFrame]:
    """Turn the population and one world's events into the contract's tables.

    Events at or after the data cut-off (``observed_days`` after START) are
    dropped, and ``closed_at`` after it is null: the data show only what was
    known at ``observed_until``.
    """
    n = len(treat)
    width = max(7, len(str(n)))
    acc_ids = make_ids("A", np.arange(1, n + 1), width)
    agent_ids = make_ids("G", np.arange(1, agents + 1), max(3, len(str(agents))))
    closed = world["closed"]
    closed_abs = pop["assigned"] + closed
    closed_ts = _ts(np.where(closed_abs < observed_days, closed_abs, 0.0))
    closed_ts[closed_abs >= observed_days] = pd.NaT
    tables = {
        "accounts": pd.DataFrame(
            {
                "account_id": acc_ids,
                "arm": _labels([ARMS["control"], ARMS["treatment"]], treat),
                "assigned_at": _ts(pop["assigned"]),
                "balance": pop["balance"],
                "segment": _labels(SEGMENTS, pop["seg"]),
                "agent_id": _take(agent_ids, pop["agent"]),
                "days_past_due": pop["dpd"],
                "prior_paid": pop["prior_paid"],
                "closed_at": closed_ts,
            }
        )
    }
    specs = {  # table -> (event key in world, time column, id prefix)
        "contacts": ("contacts", "at", "C"),
        "promises": ("promises", "made_at", "P"),
        "payments": ("payments", "paid_at", "Y"),
        "complaints": ("complaints", "filed_at", "K"),
        "surveys": ("surveys", "answered_at", None),
    }
    for name, (key, tcol, prefix) in specs.items():
        ev = world[key]
        t_abs = pop["assigned"][ev["acc"]] + ev["t"]
        keep = np.flatnonzero(t_abs < observed_days)
        keep = keep[_order(t_abs[keep])]
        acc = ev["acc"][keep]
        cols: dict[str, object] = {}
        if prefix:
            cols[f"{name[:-1]}_id"] = make_ids(prefix, np.arange(1, len(keep) + 1), max(9, len(str(len(keep)))))
        cols["account_id"] = _take(acc_ids, acc)
        cols[tcol] = _ts(t_abs[keep])
        if name == "contacts":
            cols["channel"] = _labels(CHANNEL_NAMES, ev["channel"][keep])
            cols["direction"] = _labels(("inbound", "outbound"), ev["outbound"][keep])
            cols["reached"] = ev["reached"][keep]
            cols["agent_id"] = _take(agent_ids, pop["agent"][acc], ev["has_agent"][keep])
            cols["handle_seconds"] = ev["handle"][keep]
            cols["empathy_score"] = ev["empathy"][keep]
        elif name == "promises":
            cols["due_at"] = _ts(pop["assigned"][acc] + ev["due"][keep])
            cols["amount"] = ev["amount"][keep]
        elif name == "payments":
            cols["amount"] = ev["amount"][keep]
        elif name == "complaints":
            cols["kind"] = _labels(("internal", "regulator"), ev["regulator"][keep])
        else:
            cols["csat"] = ev["csat"][keep]
            cols["nps"] = ev["nps"][keep]
        tables[name] = pd.DataFrame(cols)
    return tables


def pilot_config(n: int, seed: int, preset: str, randomization: str, observed_days: float = OBSERVED_DAYS) -> PilotConfig:
    """The simulated pilot's pilot.yml (50/50 allocation, default windows)."""
    return parse_config(
        {
            "name": f"simulated-{preset}-seed{seed}",
            "description": f"Simulated pilot: {n} accounts, preset {preset}, seed {seed} (workbench.simulate.pilot).",
            "arms": dict(ARMS),
            "allocation": {ARMS["control"]: 0.5, ARMS["treatment"]: 0.5},
            "randomization": randomization,
            "observed_until": START + timedelta(days=observed_days),
            "segments": list(SEGMENTS),
        }
    )
