"""Meta-analysis: known answers of the normal-normal random-effects model, and the verb."""

from __future__ import annotations

import json

import numpy as np
import pytest
from shared import cli

from workbench.design.meta import meta_analysis, pool


def _cli(*args):
    return cli(*args)  # in this process (tests/shared.py): the verb's answer without 3-4 s of imports


def test_identical_pilots_give_tau_near_zero_and_the_common_effect():
    r = pool([0.03] * 8, [0.01] * 8)
    assert r["mu"]["mean"] == pytest.approx(0.03, abs=1e-9)
    assert r["tau"]["median"] < 0.5 * 0.01  # well under one pilot's own standard error
    assert r["mu"]["prob_better"] > 0.99
    # The next pilot is wider than the population mean: it adds tau.
    assert r["theta_new"]["sd"] > r["mu"]["sd"]
    for p in r["pilots"]:
        assert p["shrunken"]["mean"] == pytest.approx(0.03, abs=1e-9)


def test_fixed_tau_matches_the_closed_form():
    y, s, tau = np.array([0.01, 0.05, -0.02, 0.04]), np.array([0.01, 0.015, 0.01, 0.02]), 0.015
    r = pool(y, s, tau_grid=[tau], level=0.9)
    w = 1 / (s**2 + tau**2)
    mu_hat, v = np.sum(w * y) / np.sum(w), 1 / np.sum(w)
    assert r["mu"]["mean"] == pytest.approx(mu_hat, rel=1e-9)
    assert r["mu"]["sd"] == pytest.approx(np.sqrt(v), rel=1e-9)
    z = 1.6448536269514722
    assert r["mu"]["interval"] == pytest.approx([mu_hat - z * v**0.5, mu_hat + z * v**0.5], abs=2e-5)
    assert r["theta_new"]["sd"] == pytest.approx(np.sqrt(v + tau**2), rel=1e-9)
    b = s[1] ** 2 / (s[1] ** 2 + tau**2)
    assert r["pilots"][1]["shrunken"]["mean"] == pytest.approx((1 - b) * y[1] + b * mu_hat, rel=1e-9)


def test_direction_aware_probability():
    up = pool([0.02, 0.03], [0.01, 0.01], higher_is_better=True)
    down = pool([0.02, 0.03], [0.01, 0.01], higher_is_better=False)
    assert up["mu"]["prob_better"] == pytest.approx(1 - down["mu"]["prob_better"], abs=1e-9)


def _results(path, mean, lo, hi, level=0.95, name="p"):
    doc = {
        "pilot": name,
        "level": level,
        "metrics": {
            "kept_ptp": {"level": level, "higher_is_better": True, "effect": {"difference": {"mean": mean, "interval": [lo, hi]}}}
        },
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_reads_results_and_cli_errors(tmp_path):
    a = _results(tmp_path / "a.json", 0.02, 0.0, 0.04, name="a")
    b = _results(tmp_path / "b.json", 0.04, 0.02, 0.06, name="b")
    r = meta_analysis([a, b], "kept_ptp")
    assert r["pilots"][0]["se"] == pytest.approx(0.04 / (2 * 1.959963984540054), rel=1e-6)
    out = tmp_path / "meta.json"
    ok = _cli("meta", str(a), str(b), "--out", str(out))
    assert ok.returncode == 0, ok.stderr
    assert json.loads(out.read_text())["pilots_pooled"] == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    res = _cli("meta", str(a), str(bad), str(tmp_path / "missing.json"))
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 2
