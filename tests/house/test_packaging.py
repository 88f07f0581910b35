import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _pins_pyproject():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    out = {}
    for d in deps:
        name, ver = d.split("==")
        out[re.sub(r"\[.*\]", "", name).lower()] = ver
    return out


def _pins_conda():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for d in env["dependencies"]:
        if isinstance(d, str) and "=" in d and not d.startswith("python="):
            name, ver = d.split("=")
            out[name.lower()] = ver
    return out


def test_environment_yml_matches_pyproject():
    assert _pins_conda() == _pins_pyproject()


def test_console_module_runs():
    r = subprocess.run([sys.executable, "-m", "workbench", "version"], capture_output=True, text=True, check=False)
    assert r.returncode == 0 and r.stdout.strip() == "0.0.1"


def test_console_entry_point_skips_the_iri_grammar_and_notebooks_still_validate(monkeypatch):
    """``workbench`` marks rfc3987_syntax absent (3 s of import for one jsonschema format no run checks)."""
    import importlib

    from workbench.cli import main as cli_main

    monkeypatch.delitem(sys.modules, "rfc3987_syntax", raising=False)
    monkeypatch.setattr(cli_main, "app", lambda: None)
    cli_main.main()
    assert sys.modules["rfc3987_syntax"] is None
    with pytest.raises(ImportError):
        importlib.import_module("rfc3987_syntax")
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]})])
    nbformat.validate(nb)  # nbformat's schema check still runs
    nb.cells[0]["execution_count"] = "one"
    with pytest.raises(nbformat.ValidationError):
        nbformat.validate(nb)


def test_constraints_agree_with_pyproject():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#") and "==" in line:
            name, ver = line.split("==")
            pins[name.lower().replace("_", "-")] = ver
    for name, ver in _pins_pyproject().items():
        assert pins.get(name) == ver, name


def test_ruff_is_clean():
    r = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "src", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stdout[-3000:]


def test_ruff_format_is_applied():
    r = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "src", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, "run `make format`:\n" + r.stdout[-3000:]
