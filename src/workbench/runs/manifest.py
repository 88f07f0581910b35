"""The run's manifest: what went in, so a run can be reproduced and audited.

``manifest.json`` records the SHA-256 of every input file, the pilot.yml text,
the parameters and seed, the versions of the packages that compute the
numbers, and the project's git commit (with a flag when the work tree had
uncommitted changes). Times and paths live here and in ``status.json``, never in
``results.json``, whose bytes depend only on the input and the seed.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from workbench.contract import source

PACKAGES = (
    "workbench",
    "pymc",
    "arviz",
    "pytensor",
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "ibis-framework",
    "duckdb",
    "pyarrow",
    "papermill",
    "nbconvert",
    "seaborn",
    "matplotlib",
)


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def git_commit(root: Path) -> dict:
    """The project's commit and whether the work tree was dirty (None outside a git checkout)."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = (
            subprocess.run(
                ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            != ""
        )
        return {"commit": head, "dirty": dirty}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}


def versions() -> dict:
    out = {}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


def input_files(pilot: Path) -> list[Path]:
    """pilot.yml, every table file the pilot is read from, and plan.lock when there is one.

    The files are the ones :func:`workbench.contract.source.input_files` finds,
    by the same rules every verb reads them with (a second file for one table
    is listed too: the run refuses it, and the manifest shows why).
    """
    files = source.input_files(pilot)
    lock = source.locate(pilot)[0] / "plan.lock"
    if lock.is_file():
        files.append(lock)
    return files


def without_credentials(url: str) -> str:
    """An ibis URL with its user name, password and query (tokens) removed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def source_record(pilot: Path) -> dict:
    """Where the tables were read from, as pilot.yml names it: kind, path (as written) or URL without credentials."""
    try:
        loc = source.resolve(pilot)
    except Exception:  # an unreadable pilot.yml: the run reports it; the manifest records nothing more
        return {}
    out: dict = {"kind": loc.kind}
    if loc.kind == "ibis" and loc.url:
        out["url"] = without_credentials(loc.url)
    elif loc.config.source.path:
        out["path"] = loc.config.source.path
    if loc.kind == "folder":
        out["tables"] = {name: p.name for name, p in sorted(loc.files.items())}
    return out


def write_manifest(folder: Path, pilot: Path, params: dict) -> Path:
    """Write ``folder/manifest.json`` for a run of ``pilot`` with ``params``."""
    _, yml = source.locate(pilot)
    project = Path(__file__).resolve().parents[3]
    doc = {
        "inputs": {p.name: {"sha256": sha256(p), "bytes": p.stat().st_size} for p in input_files(Path(pilot))},
        "pilot_yml": yml.read_text(encoding="utf-8") if yml.exists() else None,
        "source": source_record(Path(pilot)),
        "parameters": params,
        "seed": params.get("seed", 1),
        "packages": versions(),
        "project": git_commit(project),
    }
    path = folder / "manifest.json"
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
