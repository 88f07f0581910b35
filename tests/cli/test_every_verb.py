"""Every verb on every broken pilot: one line per problem or a clean result, never a traceback.

The corpus is the validation corpus of ``tests/contract/test_bad_inputs.py``
plus the cases of the house issue: a gzipped accounts table (valid: clean
results everywhere) and a pilot observed too briefly for its primary metric.
"""

from __future__ import annotations

import gzip
import hashlib
import sys
from pathlib import Path

import pytest
import yaml
from pilot_factory import make_pilot
from typer.testing import CliRunner

from workbench.cli.main import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
from test_bad_inputs import CORPUS

VERBS = (["validate"], ["checks"], ["metrics"], ["analyze"], ["claims"], ["monitor", "--sims", "100"])
# analyze, claims and monitor validate first through one function (cli.app.require_valid): on the
# validation corpus the engine verbs and analyze stand for them; the house cases run every verb.
CORPUS_VERBS = VERBS[:4]


def _hashes(root: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def _gzip_accounts(root: Path) -> None:
    src = root / "accounts.csv"
    (root / "accounts.csv.gz").write_bytes(gzip.compress(src.read_bytes()))
    src.unlink()


def _too_short(root: Path) -> None:
    data = yaml.safe_load((root / "pilot.yml").read_text())
    data["observed_until"] = "2026-01-06T00:00:00Z"  # a day after the first assignment: no window is over
    (root / "pilot.yml").write_text(yaml.safe_dump(data))


def _misspelt_priors(root: Path) -> None:
    data = yaml.safe_load((root / "pilot.yml").read_text())
    data["priors"] = {"famlies": {"binary": {"alpha": 2}}}
    (root / "pilot.yml").write_text(yaml.safe_dump(data))


EXTRA = {"gzipped-accounts": _gzip_accounts, "too-short": _too_short, "misspelt-priors": _misspelt_priors}


def _run_all(root: Path, verbs=VERBS) -> list[tuple[str, int, str]]:
    out = []
    for verb in verbs:
        r = CliRunner().invoke(app, [verb[0], str(root), *verb[1:]])
        out.append((verb[0], r.exit_code, r.output + (repr(r.exception) if r.exception and r.exit_code not in (0, 1) else "")))
    return out


def _assert_clean(results, root, before):
    for verb, code, text in results:
        assert code in (0, 1), f"{verb}: exit {code}\n{text[-2000:]}"
        assert "Traceback" not in text, f"{verb}: traceback\n{text[-2000:]}"
        assert "ERROR internal" not in text, f"{verb}: a defect reached the user\n{text[-2000:]}"
        if code == 1:
            lines = [x for x in text.splitlines() if x.startswith("ERROR")]
            assert lines, f"{verb}: exit 1 without a problem line\n{text[-2000:]}"
            assert all(len(x) < 500 for x in lines), f"{verb}: a problem line is not one short line"
    assert _hashes(root) == before, "the input was modified"


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_every_verb_on_a_broken_pilot(tmp_path, case):
    edit, fmt, after, _ = CORPUS[case]
    root = make_pilot(tmp_path / "p", fmt, None, edit)
    if after is not None:
        after(root)
    before = _hashes(root)
    results = _run_all(root, CORPUS_VERBS)
    _assert_clean(results, root, before)
    assert {v: c for v, c, _ in results}["validate"] == 1


@pytest.mark.parametrize("case", sorted(EXTRA))
def test_every_verb_on_the_house_cases(tmp_path, case):
    root = make_pilot(tmp_path / "p", "csv")
    EXTRA[case](root)
    before = _hashes(root)
    results = _run_all(root)
    _assert_clean(results, root, before)
    codes = {v: c for v, c, _ in results}
    if case == "gzipped-accounts":  # valid: every verb gives results
        assert set(codes.values()) == {0}, codes
    if case == "misspelt-priors":
        text = next(t for v, _, t in results if v == "validate")
        assert codes["validate"] == 1 and "did you mean 'families'" in text, text
