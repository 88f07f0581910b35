"""Expensive test artifacts built once per test session, shared by every xdist worker.

A whole ``workbench run`` costs a minute of the suite's two cores. Cached
per process (``functools.cache``), each xdist worker that meets a test
needing the run builds its own copy; :func:`once` builds it once for the
session instead: the first worker builds it under a file lock in a folder
named for the session (``PYTEST_XDIST_TESTRUNUID``, the same in every worker
of one ``pytest -n`` call), the others wait for the lock and read the
result. Without xdist the folder is named for the process.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock


def session_root() -> Path:
    """The session's shared folder (created on first use)."""
    uid = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
    root = Path(tempfile.gettempdir()) / f"wb-tests-{uid}"
    root.mkdir(exist_ok=True)
    return root


@functools.cache
def once(name: str, build: Callable[[Path], dict]) -> dict:
    """``build(folder)`` once per session across workers; its JSON-able result.

    A build that raises leaves no result behind, so the next caller builds
    again and sees the same error rather than a half-built folder.
    """
    root = session_root()
    done = root / f"{name}.json"
    with FileLock(str(root / f"{name}.lock")):
        if done.exists():
            return json.loads(done.read_text())
        folder = root / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        result = build(folder)
        done.write_text(json.dumps(result))
    return result


def cli(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m workbench ARGS`` run in this process, answered like :func:`subprocess.run` (text, captured).

    A new process paid 3-4 s of imports per call (pandas, SciPy, ibis, DuckDB,
    statsmodels) for an answer the same code gives here. What a process adds is
    kept: an exception that escapes the verb's handler ends as its traceback on
    stderr with exit code 1, as the interpreter would print it, so "no Traceback
    in stderr" means the same thing. ``python -m workbench`` as a real process is
    tested in tests/house/test_packaging.py.
    """
    from typer.testing import CliRunner

    from workbench.cli.main import app

    argv = [str(a) for a in args]
    r = CliRunner().invoke(app, argv, env=env)
    stderr = r.stderr
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        stderr += "Traceback (most recent call last):\n" + "".join(traceback.format_exception(r.exception)[1:])
    return subprocess.CompletedProcess(["workbench", *argv], r.exit_code, r.stdout, stderr)
