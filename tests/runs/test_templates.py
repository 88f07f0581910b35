"""Templates that run by hand: described parameters, a default pilot found from the repository root."""

from __future__ import annotations

import papermill as pm
import pytest

from workbench.errors import RunError
from workbench.runs.pipeline import NOTEBOOKS, notebooks_dir, repo_root, resolve_pilot


def test_every_parameter_has_a_one_line_description():
    for nb in NOTEBOOKS:
        params = pm.inspect_notebook(str(notebooks_dir() / f"{nb}.ipynb"))
        assert params, nb
        for name, spec in params.items():
            assert spec["help"].strip(), f"{nb}: parameter {name} has no description"
            assert spec["inferred_type_name"] in ("str", "int", "float", "bool"), (nb, name)
        if "pilot" in params:
            assert params["pilot"]["default"] == '"data/demo/pilot"', nb  # relative to the root, never absolute


def test_pilot_resolves_from_the_repository_root(tmp_path, monkeypatch):
    (tmp_path / "p").mkdir()
    monkeypatch.chdir(tmp_path)
    assert resolve_pilot("p") == "p"
    inside = next(p for p in repo_root().iterdir() if p.is_dir() and not p.name.startswith("."))
    assert resolve_pilot(inside.name) == str(repo_root() / inside.name)
    with pytest.raises(RunError, match="workbench demo"):
        resolve_pilot("no/such/pilot")
