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
import tempfile
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
