"""Run folders and manifests without running a notebook: names that cannot leave --out, stale
partial folders of killed runs, the files actually read, URLs without credentials."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml
from pilot_factory import make_pilot

from workbench.runs.manifest import source_record, without_credentials, write_manifest
from workbench.runs.pipeline import clean_stale, new_run, run_folder_name


def test_run_folder_names_are_one_safe_component() -> None:
    assert run_folder_name("..") == "pilot"
    assert run_folder_name("../../etc") == "etc"
    assert run_folder_name(".hidden") == "hidden"
    assert run_folder_name("<img src=x onerror=alert(1)>") == "img-src-x-onerror-alert-1"
    assert run_folder_name("Q3 pilot: north/east") == "Q3-pilot-north-east"


def test_a_pilot_named_dot_dot_stays_inside_out(tmp_path) -> None:
    root = make_pilot(tmp_path / "p", "parquet")
    cfg = yaml.safe_load((root / "pilot.yml").read_text())
    cfg["name"] = ".."
    (root / "pilot.yml").write_text(yaml.safe_dump(cfg))
    base = tmp_path / "out"
    run = new_run(root, base, {})
    assert run.work.parent == base / "pilot" and run.final.resolve().is_relative_to(base.resolve())


def test_stale_partials_of_dead_runs_are_marked_abandoned_live_ones_kept(tmp_path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    for run_id, pid in (("20260101T000000Z-aaaaaaa", int(dead.stdout)), ("20260101T000001Z-bbbbbbb", None)):
        part = tmp_path / f".{run_id}.partial"
        part.mkdir()
        status = {"status": "running", "run_id": run_id, "pid": pid or __import__("os").getpid()}
        (part / "status.json").write_text(json.dumps(status))
    assert clean_stale(tmp_path) == ["20260101T000000Z-aaaaaaa"]
    assert json.loads((tmp_path / "20260101T000000Z-aaaaaaa" / "status.json").read_text())["status"] == "abandoned"
    assert (tmp_path / ".20260101T000001Z-bbbbbbb.partial").is_dir()  # a live (concurrent) run is left alone


def test_manifest_lists_the_files_of_source_path(tmp_path) -> None:
    data = make_pilot(tmp_path / "elsewhere", "csv")
    cfg = yaml.safe_load((data / "pilot.yml").read_text())
    cfg["source"] = {"kind": "folder", "path": "../elsewhere"}
    home = tmp_path / "home"
    home.mkdir()
    (home / "pilot.yml").write_text(yaml.safe_dump(cfg))
    (home / "accounts.parquet").write_bytes(b"a decoy the run never reads")
    m = json.loads(write_manifest(tmp_path, home, {}).read_text())
    assert "accounts.csv" in m["inputs"] and "accounts.parquet" not in m["inputs"]
    assert m["source"] == {"kind": "folder", "path": "../elsewhere", "tables": m["source"]["tables"]}
    assert m["source"]["tables"]["accounts"] == "accounts.csv"


def test_urls_are_recorded_without_credentials(tmp_path) -> None:
    assert without_credentials("postgres://me:s3cret@db.example:5432/prod?sslkey=k") == "postgres://db.example:5432/prod"
    root = make_pilot(tmp_path / "p", "parquet")
    cfg = yaml.safe_load((root / "pilot.yml").read_text())
    cfg["source"] = {"kind": "ibis", "url": "duckdb://u:pw@/tmp/x.duckdb"}
    (root / "pilot.yml").write_text(yaml.safe_dump(cfg))
    assert "pw" not in json.dumps(source_record(root))
