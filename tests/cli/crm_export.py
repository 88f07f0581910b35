"""A CRM export written the way CRM exports look (not by the simulator): the walk-through's input.

Four files, one per table, with the export's own column names ("Account ID",
"Group", "Assigned Date", ...), arm labels "Empathy"/"Control", channel
"Phone", direction "Outbound", month-first timestamps "03/01/2026 14:22" and
balances "1,660.78". Accounts are assigned 1-20 March 2026 and events run to
the end of May, so with the default windows kept_ptp (93 days) has no
eligible account: the first thing the user meets.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

FMT = "%m/%d/%Y %H:%M"


def _money(x: float) -> str:
    return f"{x:,.2f}"


def write_crm_export(folder: Path, accounts: int = 400, seed: int = 7) -> dict[str, Path]:
    """Write accounts/contacts/promises/payments exports into ``folder``; return their paths by table."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime(2026, 3, 1, 8, 0)
    last = start
    acc_rows, con_rows, pro_rows, pay_rows = [], [], [], []
    segments = ["Job Loss", "Medical", "Retiree"]
    for i in range(accounts):
        aid = f"CRM-{10_000 + i}"
        arm = "Empathy" if i % 2 == 0 else "Control"
        assigned = start + timedelta(days=int(rng.integers(0, 20)), minutes=int(rng.integers(0, 600)))
        balance = float(rng.uniform(200, 5_000))
        acc_rows.append(
            [aid, arm, assigned.strftime(FMT), _money(balance), segments[i % 3], f"Agent {i % 8}", int(rng.integers(30, 120))]
        )
        for k in range(int(rng.integers(1, 5))):
            at = assigned + timedelta(days=int(rng.integers(0, 55)), minutes=int(rng.integers(0, 600)))
            channel = ["Phone", "SMS", "Email"][int(rng.integers(0, 3))]
            direction = "Outbound" if rng.random() < 0.85 else "Inbound"
            reached = rng.random() < (0.45 if arm == "Empathy" else 0.35)
            con_rows.append([f"{aid}-C{k}", aid, at.strftime(FMT), channel, direction, "TRUE" if reached else "FALSE"])
            last = max(last, at)
        if rng.random() < (0.40 if arm == "Empathy" else 0.30):
            made = assigned + timedelta(days=int(rng.integers(1, 40)), hours=3)
            due = made + timedelta(days=int(rng.integers(3, 14)))
            amount = round(balance * float(rng.uniform(0.1, 0.4)), 2)
            pro_rows.append([f"{aid}-P", aid, made.strftime(FMT), due.strftime(FMT), _money(amount)])
            if rng.random() < 0.6:
                paid = made + timedelta(days=int(rng.integers(0, 8)), hours=2)
                pay_rows.append([f"{aid}-Y", aid, paid.strftime(FMT), _money(amount)])
                last = max(last, paid)
    tables = {
        "accounts": (["Account ID", "Group", "Assigned Date", "Balance", "Segment", "Agent", "DPD"], acc_rows),
        "contacts": (["Contact ID", "Account ID", "Date", "Channel", "Direction", "Connected"], con_rows),
        "promises": (["Promise ID", "Account ID", "Promise Date", "Due Date", "Amount"], pro_rows),
        "payments": (["Payment ID", "Account ID", "Payment Date", "Amount"], pay_rows),
    }
    out = {}
    for name, (header, rows) in tables.items():
        path = folder / f"{name}_export.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
            w.writerow(header)
            w.writerows(rows)
        out[name] = path
    return out
