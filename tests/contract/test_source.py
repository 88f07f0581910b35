"""One way in: every verb reads the files `validate` accepts, and refuses what it refuses.

A simulated pilot is written twice: all Parquet, and mixed (``accounts.csv.gz``,
the other tables as Parquet, CSV and CSV.GZ). Every verb must succeed on both
with the same numbers, must leave the files untouched, and must refuse a pilot
with two files for one table in one line, exit 1, no traceback. Spark
reading such a mixed folder (gzipped CSV among them) is tested in
tests/metrics/test_engine.py, in its one Spark computation of a mixed folder.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from workbench.cli.main import app
from workbench.contract.source import input_files, locate, pick_files, resolve
from workbench.metrics import engine
from workbench.runs import manifest

# How each table of the mixed pilot is stored: every format, accounts gzipped.
MIXED = {
    "accounts": ".csv.gz",
    "contacts": ".csv",
    "promises": ".csv.gz",
    "payments": ".parquet",
    "complaints": ".csv",
    "surveys": ".csv.gz",
}
DUPLICATE = "ERROR accounts [one file per table; found accounts.csv, accounts.csv.gz: keep one]"


def _hashes(root: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.iterdir())}


def _mixed_copy(parquet: Path, out: Path) -> Path:
    """The Parquet pilot rewritten table by table in the formats of :data:`MIXED`."""
    out.mkdir(parents=True)
    shutil.copy(parquet / "pilot.yml", out / "pilot.yml")
    for name, suffix in MIXED.items():
        df = pd.read_parquet(parquet / f"{name}.parquet")
        if suffix == ".parquet":
            shutil.copy(parquet / f"{name}.parquet", out / f"{name}.parquet")
        else:
            # The same text write_pilot writes; pandas gzips by the ".gz" suffix.
            df.to_csv(out / f"{name}{suffix}", index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
    return out


@pytest.fixture(scope="module")
def pilots(tmp_path_factory):
    """``(parquet folder, mixed folder)`` of one small simulated pilot."""
    simulate = pytest.importorskip("workbench.simulate.pilot")
    root = tmp_path_factory.mktemp("source")
    parquet = simulate.simulate_pilot(root / "parquet", accounts=600, seed=11, agents=8, with_truth=False)
    return parquet, _mixed_copy(parquet, root / "mixed")


def _run(*args: str):
    r = CliRunner().invoke(app, list(args))
    assert "Traceback" not in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    return r


def _close(a, b, path="") -> None:
    """Equal documents, floats to 1e-9 relative (CSV and Parquet may sum in another order)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b)), path
    else:
        assert a == b, path


def test_the_rules_find_the_mixed_files(pilots):
    _, mixed = pilots
    loc = resolve(mixed)
    assert loc.kind == "folder" and not loc.problems
    assert {n: p.name for n, p in loc.files.items()} == {n: f"{n}{s}" for n, s in MIXED.items()}
    assert resolve(mixed / "pilot.yml").files == loc.files
    # The manifest records exactly the files read, by the same rules.
    want = {"pilot.yml", *(f"{n}{s}" for n, s in MIXED.items())}
    assert {p.name for p in input_files(mixed)} == want
    assert {p.name for p in manifest.input_files(mixed)} == want
    # The old entry points agree with the one module.
    assert engine.locate(mixed) == (locate(mixed)[1], None)
    assert set(engine.open_pilot(mixed).tables) == set(MIXED)


def test_two_files_for_one_table_are_one_error(tmp_path):
    (tmp_path / "accounts.csv").write_text("account_id\n")
    (tmp_path / "accounts.csv.gz").write_bytes(b"")
    files, problems = pick_files(tmp_path)
    assert files == {"accounts": tmp_path / "accounts.csv"}
    assert [p.line() for p in problems] == [DUPLICATE]


def test_every_verb_reads_the_mixed_pilot_like_the_parquet_one(pilots, tmp_path):
    parquet, mixed = pilots
    before = _hashes(mixed)
    out = {}
    for name, folder in (("parquet", parquet), ("mixed", mixed)):
        r = _run("validate", str(folder))
        assert r.exit_code == 0, r.output
        for verb in ("metrics", "checks"):
            r = _run(verb, str(folder), "--out", str(tmp_path / f"{verb}-{name}.json"))
            assert r.exit_code == 0, r.output
        r = _run("analyze", str(folder), "--out", str(tmp_path / f"analyze-{name}.json"), "--draws", "500")
        assert r.exit_code == 0, r.output
        out[name] = {
            verb: json.loads((tmp_path / f"{verb}-{name}.json").read_text()) for verb in ("metrics", "checks", "analyze")
        }
    for verb in out["parquet"]:
        _close(out["parquet"][verb], out["mixed"][verb], verb)
    assert out["mixed"]["metrics"]["stats"], "no statistics computed"
    # claims reads through the same source and re-runs the analysis compared above: on the mixed pilot only
    r = _run("claims", str(mixed), "--out", str(tmp_path / "claims-mixed.json"))
    assert r.exit_code == 0, r.output
    claims = json.loads((tmp_path / "claims-mixed.json").read_text())["claims"]
    assert claims and all(c.get("verdict") for c in claims), claims
    assert _hashes(mixed) == before


def test_every_verb_refuses_two_files_for_one_table(pilots, tmp_path):
    _, mixed = pilots
    root = tmp_path / "two"
    shutil.copytree(mixed, root)
    pd.read_csv(root / "accounts.csv.gz").to_csv(root / "accounts.csv", index=False)
    before = _hashes(root)
    for args in (["validate"], ["metrics"], ["checks"], ["analyze", "--draws", "500"], ["claims"]):
        r = _run(args[0], str(root), *args[1:])
        assert r.exit_code == 1, (args, r.output)
        assert DUPLICATE in r.output.splitlines(), (args, r.output)
    # `run` refuses before creating a run folder, in one line that points at `validate`.
    r = _run("run", str(root), "--out", str(tmp_path / "reports"))
    assert r.exit_code == 1 and "invalid (1 problem(s))" in r.output, r.output
    assert not (tmp_path / "reports").exists()
    assert _hashes(root) == before
